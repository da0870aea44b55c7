/**
 * Job params, per job type. Each TypeBox schema here is at once the HTTP validator (ajv in Fastify),
 * the OpenAPI component named by its $id (@fastify/swagger) and the TypeScript type (Static<>), so the
 * three cannot drift apart. The worker reads the stored, defaults-applied params back with
 * parseJobParams().
 */
import Type, { type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { JobType } from './job-types.js';
import { AUGMENTATIONS, CNNSPLITTER_LR, DATASETS, DATASET_NAMES, isModelName, MODEL_NAMES, PAPER_DEFAULTS, standardBaselineLr, type DatasetName } from '@mwt/catalog';

const Uuid = (description: string) => Type.String({ format: 'uuid', description });

const TargetClasses = (extra: { default?: number[] } = {}) =>
  Type.Array(Type.Integer({ minimum: 0 }), {
    minItems: 2,
    maxItems: 10,
    uniqueItems: true,
    // The upper bound depends on the dataset, which JSON Schema cannot see: checked by checkTargetClasses().
    description: "Class ids (0..numClasses-1 of the run's dataset) the reused model must tell apart.",
    ...extra,
  });

/**
 * A field with a default is Optional in the schema: clients (and the OpenAPI document) see
 * it as omittable, and withDefaults() fills it before the payload is stored.
 */
const dflt = <T extends TSchema>(schema: T) => Type.Optional(schema);

const trainProperties = {
  dataset: dflt(Type.Enum(DATASET_NAMES, { default: 'mnist', description: 'Dataset to train on.' })),
  model: dflt(Type.Enum(MODEL_NAMES, { default: 'simcnn-small', description: 'Architecture; `-small` variants use 1/8 of the paper widths.' })),
  epochs: dflt(Type.Integer({ minimum: 1, maximum: 500, default: 5 })),
  batchSize: dflt(Type.Integer({ minimum: 1, maximum: 1024, default: PAPER_DEFAULTS.batchSize })),
  lr: dflt(Type.Number({ exclusiveMinimum: 0, maximum: 10, default: PAPER_DEFAULTS.lr, description: 'SGD learning rate.' })),
  momentum: dflt(Type.Number({ minimum: 0, maximum: 0.999, default: PAPER_DEFAULTS.momentum })),
  weightDecay: dflt(Type.Number({ minimum: 0, maximum: 0.1, default: PAPER_DEFAULTS.weightDecay })),
  seed: dflt(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 0, description: 'Seeds weight init, shuffling and subsampling.' })),
  trainLimit: Type.Optional(Type.Integer({ minimum: 10, maximum: 1_000_000, description: 'Class-balanced subsample of the training set.' })),
  testLimit: Type.Optional(Type.Integer({ minimum: 10, maximum: 1_000_000, description: 'Subsample of the test set.' })),
  augment: Type.Optional(
    Type.Enum(AUGMENTATIONS, {
      description: "Training augmentation (also used by modularization and reuse of the run); default: the dataset's (GET /datasets): crop-flip for cifar10/svhn, none otherwise.",
    }),
  ),
};

const mwtProperties = {
  alpha: dflt(Type.Number({ minimum: 0, maximum: 100, default: PAPER_DEFAULTS.alpha, description: 'Weight of the cohesion loss.' })),
  beta: dflt(Type.Number({ minimum: 0, maximum: 100, default: PAPER_DEFAULTS.beta, description: 'Weight of the coupling loss.' })),
};

const threshold = dflt(
  Type.Number({
    exclusiveMinimum: 0,
    maximum: 1,
    default: PAPER_DEFAULTS.threshold,
    description: 'Relevance threshold above which a kernel is kept in a class module.',
  }),
);

// additionalProperties: false so a typo (`epoch: 3`) is a 400 rather than a silently ignored field.
const closed = { additionalProperties: false } as const;

/** No schema default: withDefaults() fills it from the model (fillStandardLr). */
const standardLrDoc = `the model's standard baseline's: ${CNNSPLITTER_LR} (CNNSplitter's) for the BN-free simcnn and rescnn baselines`;

export const TrainStandardParams = Type.Object(
  {
    ...trainProperties,
    lr: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10, description: `SGD learning rate. Default: ${standardLrDoc}, ${PAPER_DEFAULTS.lr} otherwise.` })),
  },
  { $id: 'TrainStandardParams', ...closed, examples: [{ dataset: 'mnist', model: 'simcnn-small', epochs: 5, trainLimit: 2000 }] },
);

export const TrainModularParams = Type.Object(
  { ...trainProperties, ...mwtProperties },
  { $id: 'TrainModularParams', ...closed, examples: [{ dataset: 'mnist', model: 'simcnn-small', epochs: 5, alpha: 0.5, beta: 1.5 }] },
);

export const ModularizeParams = Type.Object(
  { runId: Uuid('A completed modular run (train-modular or pipeline).'), threshold },
  { $id: 'ModularizeParams', ...closed, examples: [{ runId: '0b7c2a4e-3f4d-4a8e-9a57-2f0d7c1e9b11', threshold: 0.9 }] },
);

export const ReuseParams = Type.Object(
  {
    modularizationId: Uuid('Modularization whose class modules are combined.'),
    targetClasses: TargetClasses(),
    epochs: dflt(Type.Integer({ minimum: 1, maximum: 200, default: PAPER_DEFAULTS.reuseEpochs })),
    lr: dflt(Type.Number({ exclusiveMinimum: 0, maximum: 10, default: PAPER_DEFAULTS.reuseLr })),
    batchSize: trainProperties.batchSize,
    seed: trainProperties.seed,
    standardRunId: Type.Optional(Uuid('Completed standard run on the same dataset, evaluated on the same sub-task for comparison.')),
  },
  { $id: 'ReuseParams', ...closed, examples: [{ modularizationId: '5d1f9e0a-8c3b-4b6e-a0f2-9e4c7d2b1a33', targetClasses: [0, 1], epochs: 10 }] },
);

export const PipelineParams = Type.Object(
  {
    ...trainProperties,
    ...mwtProperties,
    threshold,
    targetClasses: dflt(TargetClasses({ default: [0, 1] })),
    reuseEpochs: dflt(Type.Integer({ minimum: 1, maximum: 200, default: PAPER_DEFAULTS.reuseEpochs })),
    reuseLr: dflt(Type.Number({ exclusiveMinimum: 0, maximum: 10, default: PAPER_DEFAULTS.reuseLr })),
    standardLr: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 10, description: `SGD learning rate of the standard model. Default: ${standardLrDoc}, \`lr\` otherwise.` }),
    ),
  },
  { $id: 'PipelineParams', ...closed, examples: [{ dataset: 'mnist', epochs: 3, trainLimit: 2000, targetClasses: [3, 8] }] },
);

export const JOB_PARAMS = {
  'train-modular': TrainModularParams,
  'train-standard': TrainStandardParams,
  modularize: ModularizeParams,
  reuse: ReuseParams,
  pipeline: PipelineParams,
} as const satisfies Record<JobType, TSchema>;

/** Params after withDefaults(): every defaulted field present, only the genuinely optional ones not. */
type Complete<T, Opt extends keyof T> = Required<Omit<T, Opt>> & Partial<Pick<T, Opt>>;
type Limits = 'trainLimit' | 'testLimit' | 'augment';
export type TrainModularParams = Complete<Static<typeof TrainModularParams>, Limits>;
export type TrainStandardParams = Complete<Static<typeof TrainStandardParams>, Limits>;
export type ModularizeParams = Complete<Static<typeof ModularizeParams>, never>;
export type ReuseParams = Complete<Static<typeof ReuseParams>, 'standardRunId'>;
export type PipelineParams = Complete<Static<typeof PipelineParams>, Limits>;
export interface JobParamsMap {
  'train-modular': TrainModularParams;
  'train-standard': TrainStandardParams;
  modularize: ModularizeParams;
  reuse: ReuseParams;
  pipeline: PipelineParams;
}
export type JobParams<T extends JobType = JobType> = JobParamsMap[T];

/** Fills in every default (mutating a clone), so the stored payload is complete. */
export function withDefaults<T extends JobType>(type: T, params: unknown): JobParams<T> {
  return fillStandardLr(type, Value.Default(JOB_PARAMS[type], Value.Clone(params ?? {}))) as JobParams<T>;
}

/** The one default that depends on another field: the standard model's lr on the model (standardBaselineLr). */
function fillStandardLr(type: JobType, params: unknown): unknown {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return params;
  const fields: Record<string, unknown> = { ...params };
  if (typeof fields.model !== 'string' || !isModelName(fields.model)) return params;
  if (type === 'train-standard' && fields.lr === undefined) fields.lr = standardBaselineLr(fields.model);
  else if (type === 'pipeline' && fields.standardLr === undefined && typeof fields.lr === 'number') fields.standardLr = standardBaselineLr(fields.model, fields.lr);
  else return params;
  return fields;
}

/** A job type with its complete params; switching on `type` narrows `params`. */
export type TypedJob = { [T in JobType]: { type: T; params: JobParams<T> } }[JobType];

/** The body of POST /jobs with every default applied. */
export function completeJob(body: { type: JobType; params?: unknown }): TypedJob {
  return { type: body.type, params: withDefaults(body.type, body.params) } as TypedJob;
}

/** For the worker: the stored payload, checked against the schema it was accepted with. */
export function parseJobParams<T extends JobType>(type: T, payload: unknown): JobParams<T> {
  const params = withDefaults(type, payload);
  const schema = JOB_PARAMS[type];
  if (!Value.Check(schema, params)) {
    const first = Value.Errors(schema, params)[0];
    throw new Error(`invalid ${type} payload: ${first ? `${first.instancePath} ${first.message}` : 'schema mismatch'}`);
  }
  return params;
}

/**
 * Cross-field check JSON Schema cannot express: class ids must exist in the dataset.
 * Returns a message naming the offending element, or null.
 */
export function checkTargetClasses(field: string, dataset: DatasetName, classes: readonly number[]): string | null {
  const { numClasses } = DATASETS[dataset];
  const bad = classes.findIndex((c) => c >= numClasses);
  if (bad < 0) return null;
  return `${field}[${bad}]: class ${classes[bad]} does not exist in ${dataset} (${numClasses} classes)`;
}
