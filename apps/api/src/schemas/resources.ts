/** Runs, metrics, modularizations and modules as the API shows them. */
import Type, { type Static } from 'typebox';
import { JobState } from '@mwt/shared';
import { DateTime, Nullable, Uuid, ref } from './common.js';

const Count = (description?: string) => Nullable(Type.Integer({ minimum: 0, description }));
const Fraction = (description?: string) => Nullable(Type.Number({ description }));
const Link = Type.String();

const RUN_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const JOB_ID = '3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f';
const MODZ_ID = '5d1f9e0a-8c3b-4b6e-a0f2-9e4c7d2b1a33';
const MODULE_ID = '7c6b5a49-3827-4615-8f4e-3d2c1b0a9f8e';

export const RunView = Type.Object(
  {
    id: Uuid(),
    jobId: Uuid(),
    kind: Type.Enum(['modular', 'standard', 'module']),
    dataset: Type.String(),
    model: Type.String(),
    config: Type.Record(Type.String(), Type.Unknown(), { description: "The params of the job phase that trained it (a training job's, a pipeline's, or a reuse's fine-tuning)." }),
    status: JobState,
    backend: Nullable(Type.String({ description: 'tfjs backend, e.g. wasm or tensorflow.' })),
    epochsDone: Type.Integer({ minimum: 0 }),
    trainAccuracy: Fraction(),
    testAccuracy: Fraction(),
    wallMs: Count(),
    params: Count('Trainable parameters.'),
    flops: Count('Multiply-accumulates of one forward pass.'),
    modelArtifactId: Nullable(Uuid()),
    createdAt: DateTime(),
    finishedAt: Nullable(DateTime()),
    links: Type.Object({ self: Link, job: Link, metrics: Link, modules: Link, model: Nullable(Link) }),
  },
  {
    $id: 'Run',
    examples: [
      {
        id: RUN_ID,
        jobId: JOB_ID,
        kind: 'modular',
        dataset: 'mnist',
        model: 'simcnn-small',
        config: { epochs: 5, batchSize: 128, lr: 0.05, alpha: 0.5, beta: 1.5 },
        status: 'completed',
        backend: 'wasm',
        epochsDone: 5,
        trainAccuracy: 0.97,
        testAccuracy: 0.965,
        wallMs: 81000,
        params: 27000,
        flops: 2100000,
        modelArtifactId: null,
        createdAt: '2026-11-25T10:00:01.000Z',
        finishedAt: '2026-11-25T10:01:22.000Z',
        links: { self: `/runs/${RUN_ID}`, job: `/jobs/${JOB_ID}`, metrics: `/runs/${RUN_ID}/metrics`, modules: `/runs/${RUN_ID}/modules`, model: null },
      },
    ],
  },
);
export type RunView = Static<typeof RunView>;

export const MetricView = Type.Object(
  {
    epoch: Type.Integer(),
    lr: Type.Number(),
    trainAccuracy: Type.Number(),
    testAccuracy: Type.Number(),
    loss: Type.Number({ description: 'Total loss (cross-entropy plus weighted MwT terms).' }),
    ceLoss: Type.Number(),
    cohesionLoss: Fraction('Modular runs only.'),
    couplingLoss: Fraction('Modular runs only.'),
    kernelRate: Fraction('Share of kernels a class activates (modular runs).'),
    batchCohesion: Fraction(),
    batchCoupling: Fraction(),
    durationMs: Type.Integer(),
    createdAt: DateTime(),
  },
  { $id: 'Metric', description: 'One epoch of a run: every series.' },
);
export type MetricView = Static<typeof MetricView>;

export const RunMetrics = Type.Object(
  { runId: Uuid(), metrics: Type.Array(ref(MetricView), { description: 'One entry per epoch, ascending.' }) },
  {
    $id: 'RunMetrics',
    examples: [
      {
        runId: RUN_ID,
        metrics: [
          {
            epoch: 1,
            lr: 0.05,
            trainAccuracy: 0.9,
            testAccuracy: 0.93,
            loss: 0.8,
            ceLoss: 0.35,
            cohesionLoss: 0.2,
            couplingLoss: 0.1,
            kernelRate: 0.4,
            batchCohesion: 0.8,
            batchCoupling: 0.1,
            durationMs: 15000,
            createdAt: '2026-11-25T10:00:16.000Z',
          },
        ],
      },
    ],
  },
);

export const ModuleView = Type.Object(
  {
    id: Uuid(),
    jobId: Uuid(),
    modularizationId: Uuid(),
    kind: Type.Enum(['class', 'reused']),
    classes: Type.Array(Type.Integer()),
    keptKernels: Type.Integer(),
    totalKernels: Type.Integer(),
    kernelRetention: Type.Number(),
    params: Count(),
    flops: Count(),
    fullParams: Count(),
    fullFlops: Count(),
    accuracy: Fraction('Accuracy of the module on its sub-task.'),
    standardAccuracy: Fraction('Accuracy of the standard model on the same sub-task.'),
    accuracyLoss: Fraction('standardAccuracy - accuracy.'),
    runId: Nullable(Uuid('Fine-tuning run (reused modules).')),
    artifactId: Nullable(Uuid()),
    createdAt: DateTime(),
    links: Type.Object({ self: Link, download: Nullable(Link), modularization: Link, run: Nullable(Link) }),
  },
  {
    $id: 'Module',
    examples: [
      {
        id: MODULE_ID,
        jobId: JOB_ID,
        modularizationId: MODZ_ID,
        kind: 'class',
        classes: [3],
        keptKernels: 40,
        totalKernels: 112,
        kernelRetention: 0.357,
        params: 9000,
        flops: 700000,
        fullParams: 27000,
        fullFlops: 2100000,
        accuracy: 0.98,
        standardAccuracy: 0.985,
        accuracyLoss: 0.005,
        runId: null,
        artifactId: null,
        createdAt: '2026-11-25T10:02:00.000Z',
        links: { self: `/modules/${MODULE_ID}`, download: null, modularization: `/modularizations/${MODZ_ID}`, run: null },
      },
    ],
  },
);
export type ModuleView = Static<typeof ModuleView>;

export const ModuleList = Type.Object({ items: Type.Array(ref(ModuleView)) }, { $id: 'ModuleList', examples: [{ items: [] }] });

export const ModularizationView = Type.Object(
  {
    id: Uuid(),
    jobId: Uuid(),
    runId: Uuid(),
    threshold: Type.Number(),
    krr: Type.Number({ description: 'Kernel retention rate averaged over class modules.' }),
    cohesion: Type.Number(),
    coupling: Type.Number(),
    layers: Type.Array(
      Type.Object({
        name: Type.String({ description: 'The masked layer.' }),
        kernels: Type.Integer({ description: 'Its kernels (output channels).' }),
        // Optional: rows written before it was stored have none, and a missing required field is a 500 at serialization.
        offset: Type.Optional(Type.Integer({ description: "Where its kernels start in a module's mask." })),
      }),
      { description: 'The masked layers, in order.' },
    ),
    artifactId: Nullable(Uuid()),
    wallMs: Type.Integer(),
    createdAt: DateTime(),
    modules: Type.Array(Uuid()),
    links: Type.Object({ self: Link, job: Link, run: Link, modules: Link, download: Nullable(Link) }),
  },
  {
    $id: 'Modularization',
    examples: [
      {
        id: MODZ_ID,
        jobId: JOB_ID,
        runId: RUN_ID,
        threshold: 0.9,
        krr: 0.35,
        cohesion: 0.88,
        coupling: 0.12,
        layers: [{ name: 'conv1', kernels: 4, offset: 0 }],
        artifactId: null,
        wallMs: 1200,
        createdAt: '2026-11-25T10:02:00.000Z',
        modules: [MODULE_ID],
        links: { self: `/modularizations/${MODZ_ID}`, job: `/jobs/${JOB_ID}`, run: `/runs/${RUN_ID}`, modules: `/runs/${RUN_ID}/modules`, download: null },
      },
    ],
  },
);
export type ModularizationView = Static<typeof ModularizationView>;

/** Every component of this file, for app.addSchema. */
export const RESOURCE_COMPONENTS = [RunView, MetricView, RunMetrics, ModuleView, ModuleList, ModularizationView];
