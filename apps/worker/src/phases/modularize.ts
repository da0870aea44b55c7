import {
  disposeModel,
  maskToString,
  modelCost,
  modularizeModel,
  pruneModel,
  withoutMasks,
  type Dataset,
  type MaskedLayer,
  type Model,
  type Modularization,
} from '@mwt/core';
import type { JobContext, PhaseProgress } from '../context.js';
import { InputError } from '../errors.js';
import { loadModel, storeModel } from '../store.js';
import { augmentOf, dataSpecOf, type DatasetCache } from './datasets.js';

export interface ModularizedRun {
  modularizationId: string;
  modularization: Modularization;
}

/**
 * Cuts a completed modular run into one module per class and stores the modularization, its
 * class modules (masks, sizes, a downloadable pruned network each) and the module set (the modular
 * model + every mask). Idempotent per job: a retry finds the stored modularization; one interrupted
 * while storing rewrites the same artifact rows (ids derived from the job) and creates the
 * modularization with all its modules in one statement.
 */
export async function modularizePhase(
  ctx: JobContext,
  datasets: DatasetCache,
  input: { runId: string; threshold: number; model?: Model; dataset?: Dataset },
  progress: PhaseProgress,
): Promise<ModularizedRun> {
  const { prisma, jobId } = ctx;
  const existing = await prisma.modularization.findUnique({ where: { jobId }, select: { id: true } });
  if (existing) return { modularizationId: existing.id, modularization: await loadModularization(ctx, existing.id) };

  const run = await prisma.run.findUnique({ where: { id: input.runId } });
  if (!run) throw new InputError(`params.runId: run ${input.runId} does not exist`);
  if (run.kind !== 'modular') throw new InputError(`params.runId: run ${input.runId} is a ${run.kind} run; modularize a modular run`);
  if (run.status !== 'completed' || !run.modelArtifactId) throw new InputError(`params.runId: run ${input.runId} is ${run.status}, not completed`);
  const dataset = input.dataset ?? (await datasets.get(dataSpecOf(run.config)));
  const model = input.model ?? (await loadModel(prisma, run.modelArtifactId));
  try {
    await progress.report(0, { message: `collecting masks of ${dataset.train.count} training samples` }, true);
    const result = await modularizeModel(model, dataset, input.threshold, { spec: augmentOf(run.config, dataset), seed: dataSpecOf(run.config).seed });
    await progress.report(0.5, { message: 'storing modules' }, true);
    const common = { dataset: dataset.name, preprocessing: dataset.preprocessing, backend: run.backend ?? undefined };
    const savedModules = result.modules.map((m) => ({ classId: m.classId, mask: maskToString(m.mask), keptKernels: m.keptKernels, retention: m.retention }));
    const metrics = { krr: result.krr, cohesion: result.cohesion, coupling: result.coupling };
    const setArtifactId = await storeModel(prisma, { jobId, key: 'module-set' }, 'module_set', `module-set-${run.id}.tar`, model, {
      ...common,
      kind: 'module-set',
      outputClasses: dataset.classNames.map((_, i) => i),
      outputClassNames: dataset.classNames,
      hyperParameters: { runId: run.id, threshold: input.threshold },
      metrics,
      modularization: { threshold: result.threshold, ...metrics, layers: result.layers, modules: savedModules },
    });
    const full = modelCost(withoutMasks(model.arch));
    const modules = [];
    for (const module of result.modules) {
      // A class module alone is the pruned network with the model's own outputs (no head, no
      // fine-tuning): the building block that reuse combines with others.
      const pruned = pruneModel(model, result.layers, module.mask);
      try {
        const artifactId = await storeModel(prisma, { jobId, key: `class-module:${module.classId}` }, 'module', `module-class${module.classId}-${run.id}.tar`, pruned, {
          ...common,
          kind: 'module',
          outputClasses: dataset.classNames.map((_, i) => i),
          outputClassNames: dataset.classNames,
          hyperParameters: { runId: run.id, threshold: input.threshold, classes: [module.classId] },
          metrics: { retention: module.retention },
          moduleMask: maskToString(module.mask),
        });
        const cost = modelCost(pruned.arch);
        modules.push({
          jobId,
          kind: 'class' as const,
          classes: [module.classId],
          keptKernels: module.keptKernels,
          totalKernels: result.totalKernels,
          kernelRetention: module.retention,
          mask: Buffer.from(module.mask),
          params: cost.params,
          flops: BigInt(cost.flops),
          fullParams: full.params,
          fullFlops: BigInt(full.flops),
          artifactId,
        });
      } finally {
        disposeModel(pruned);
      }
      await progress.report(0.5 + (0.5 * modules.length) / result.modules.length);
    }
    // An upsert, so that two workers that both ran this phase (one of them presumed dead) store one.
    const created = await prisma.modularization.upsert({
      where: { jobId },
      update: {},
      create: {
        jobId,
        runId: run.id,
        threshold: result.threshold,
        krr: result.krr,
        cohesion: result.cohesion,
        coupling: result.coupling,
        layers: result.layers.map(({ name, kernels, offset }) => ({ name, kernels, offset })),
        artifactId: setArtifactId,
        wallMs: result.wallMs,
        modules: { create: modules },
      },
      select: { id: true },
    });
    return { modularizationId: created.id, modularization: result };
  } finally {
    if (!input.model) disposeModel(model);
  }
}

/** Rebuilds a stored modularization (layers and class module masks) for module reuse. */
export async function loadModularization(ctx: JobContext, id: string): Promise<Modularization> {
  const row = await ctx.prisma.modularization.findUnique({
    where: { id },
    include: { modules: { where: { kind: 'class' }, orderBy: { createdAt: 'asc' } } },
  });
  if (!row) throw new InputError(`params.modularizationId: modularization ${id} does not exist`);
  const layers = row.layers as unknown as MaskedLayer[];
  const totalKernels = layers.reduce((n, l) => n + l.kernels, 0);
  const modules = row.modules
    .map((m) => ({ classId: m.classes[0], mask: new Uint8Array(m.mask), keptKernels: m.keptKernels, retention: m.kernelRetention, layerThresholds: [] }))
    .sort((a, b) => a.classId - b.classId);
  return { threshold: row.threshold, layers, totalKernels, modules, krr: row.krr, cohesion: row.cohesion, coupling: row.coupling };
}
