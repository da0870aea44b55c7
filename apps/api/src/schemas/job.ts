/** Job resources as the API shows them, and the body that submits one. */
import Type, { type Static } from 'typebox';
import { JOB_PARAMS, JOB_RESULTS, JOB_STATES, JOB_TYPES, JobState, PIPELINE_RESULT_EXAMPLE, type JobType } from '@mwt/shared';
import { DateTime, EXAMPLE_ID, Nullable, Uuid, byType, ref, type Examples } from './common.js';

const JobTypeSchema = Type.Enum(JOB_TYPES);

/** `train-modular` -> `TrainModular`: the stem of the type's component names. */
const pascal = (type: JobType) => type.replace(/(^|-)(.)/g, (_m, _dash: string, c: string) => c.toUpperCase());

const RUN_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

/** What every job shows, whatever its type. */
const jobFields = {
  id: Uuid(),
  state: JobState,
  progress: Type.Number({ minimum: 0, maximum: 100, description: 'Percent done.' }),
  phase: Nullable(Type.String()),
  epoch: Nullable(Type.Integer()),
  totalEpochs: Nullable(Type.Integer()),
  message: Nullable(Type.String()),
  error: Nullable(Type.String()),
  cancelRequested: Type.Boolean(),
  attempts: Type.Integer(),
  requestId: Nullable(Type.String({ description: 'The X-Request-Id of the POST /jobs that created the job (sent by the client, or made by the API): the key to its log lines.' })),
  createdAt: DateTime(),
  startedAt: Nullable(DateTime()),
  finishedAt: Nullable(DateTime()),
  durationMs: Nullable(Type.Integer({ description: 'finishedAt (or now, while running) minus startedAt.' })),
  runs: Type.Array(Uuid()),
  modularizations: Type.Array(Uuid()),
  modules: Type.Array(Uuid()),
  links: Type.Object({
    self: Type.String(),
    events: Type.String({ description: 'Server-Sent Events stream of this job.' }),
    runs: Type.Array(Type.String()),
    modularizations: Type.Array(Type.String()),
    modules: Type.Array(Type.String()),
  }),
};

const jobExample = {
  id: EXAMPLE_ID,
  state: 'running',
  progress: 40,
  phase: 'train-modular',
  epoch: 2,
  totalEpochs: 5,
  message: null,
  error: null,
  cancelRequested: false,
  attempts: 1,
  requestId: '8d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a0f',
  createdAt: '2026-11-25T10:00:00.000Z',
  startedAt: '2026-11-25T10:00:01.000Z',
  finishedAt: null,
  durationMs: 42000,
  runs: [RUN_ID],
  modularizations: [],
  modules: [],
  links: { self: `/jobs/${EXAMPLE_ID}`, events: `/jobs/${EXAMPLE_ID}/events`, runs: [`/runs/${RUN_ID}`], modularizations: [], modules: [] },
};

/** One job type's view: its `params` and `result` typed by the type (the result is null until the job completes). */
function typedJob<T extends JobType>(type: T) {
  return Type.Object(
    {
      type: Type.Literal(type),
      params: ref(JOB_PARAMS[type], { description: 'The params as stored, every default applied.' }),
      result: Nullable(ref(JOB_RESULTS[type], { description: 'Written by the worker when the job completes; null before, and for failed or cancelled jobs.' })),
      ...jobFields,
    },
    { $id: `${pascal(type)}Job` },
  );
}

export const TrainModularJob = typedJob('train-modular');
export const TrainStandardJob = typedJob('train-standard');
export const ModularizeJob = typedJob('modularize');
export const ReuseJob = typedJob('reuse');
export const PipelineJob = typedJob('pipeline');

export const JobView = byType([TrainModularJob, TrainStandardJob, ModularizeJob, ReuseJob, PipelineJob], {
  $id: 'Job',
  description: 'A job: `type` says which params and result it has.',
});
export type JobView = Static<typeof JobView>;

export const JOB_VIEW_EXAMPLES: Examples = {
  running: {
    summary: 'A train-modular job in its second epoch',
    value: {
      ...jobExample,
      type: 'train-modular',
      params: { dataset: 'mnist', model: 'simcnn-small', epochs: 5, batchSize: 128, lr: 0.05, momentum: 0.9, weightDecay: 0, seed: 0, alpha: 0.5, beta: 1.5 },
      result: null,
    },
  },
  completed: {
    summary: 'A completed pipeline job',
    value: {
      ...jobExample,
      type: 'pipeline',
      state: 'completed',
      progress: 100,
      phase: 'reuse',
      epoch: null,
      totalEpochs: null,
      finishedAt: '2026-11-25T10:03:01.000Z',
      durationMs: 180000,
      params: {
        dataset: 'mnist',
        model: 'simcnn-small',
        epochs: 3,
        batchSize: 128,
        lr: 0.05,
        momentum: 0.9,
        weightDecay: 0,
        seed: 0,
        trainLimit: 2000,
        alpha: 0.5,
        beta: 1.5,
        threshold: 0.9,
        targetClasses: [3, 8],
        reuseEpochs: 10,
        reuseLr: 0.05,
      },
      result: PIPELINE_RESULT_EXAMPLE,
    },
  },
};

/** Job types whose params may be omitted because every field has a default. */
const PARAMS_OPTIONAL = new Set<JobType>(['train-modular', 'train-standard', 'pipeline']);

function jobRequest<T extends JobType>(type: T) {
  const params = ref(JOB_PARAMS[type]);
  return Type.Object(
    { type: Type.Literal(type), params: PARAMS_OPTIONAL.has(type) ? Type.Optional(params) : params },
    // additionalProperties: false so a typo (`param: {...}`) is a 400 rather than a silently ignored field.
    { $id: `${pascal(type)}JobRequest`, additionalProperties: false },
  );
}

export const JOB_REQUESTS = JOB_TYPES.map(jobRequest);

/** Body of POST /jobs: ajv validates only the branch `type` names, so errors name that branch's field. */
export const CreateJobBody = byType(JOB_REQUESTS, {
  $id: 'JobRequest',
  description: 'A job: `type` selects the params schema; omitted params take their defaults.',
});
export type CreateJobBody = Static<typeof CreateJobBody>;

/** Named examples of POST /jobs' body (Swagger UI's drop-down). */
export const JOB_REQUEST_EXAMPLES: Examples = {
  trainModular: { summary: 'Train a modular model on 2,000 digits', value: { type: 'train-modular', params: { dataset: 'mnist', epochs: 5, trainLimit: 2000 } } },
  modularize: { summary: 'Cut a modular run into class modules', value: { type: 'modularize', params: { runId: RUN_ID } } },
  reuse: {
    summary: 'Combine the modules of classes 0 and 1',
    value: { type: 'reuse', params: { modularizationId: '5d1f9e0a-8c3b-4b6e-a0f2-9e4c7d2b1a33', targetClasses: [0, 1] } },
  },
  pipeline: { summary: 'The whole pipeline, every default', value: { type: 'pipeline' } },
};

export const SubmitJobHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        'Makes a retry safe: the same key (per API key) with the same job answers 200 with the job the first request ' +
        'created (header `Idempotent-Replayed: true`) instead of creating another; with a different job, 409.',
    }),
  ),
});

export const JobListQuery = Type.Object(
  {
    state: Type.Optional(Type.Enum(JOB_STATES)),
    type: Type.Optional(JobTypeSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page.', maxLength: 200 })),
  },
  { additionalProperties: false, examples: [{ state: 'completed', type: 'pipeline', limit: 20 }] },
);

export const JobList = Type.Object(
  {
    items: Type.Array(ref(JobView)),
    nextCursor: Nullable(Type.String({ description: 'Pass as ?cursor= for the next page; null on the last page.' })),
  },
  { $id: 'JobList', examples: [{ items: [], nextCursor: null }] },
);

/** Every component of this file, for app.addSchema (a $ref needs its target registered). */
export const JOB_COMPONENTS = [...JOB_REQUESTS, CreateJobBody, TrainModularJob, TrainStandardJob, ModularizeJob, ReuseJob, PipelineJob, JobView, JobList];

/** What the events stream sends: `state` and `end` carry a JobStatus, `progress` a Progress. */
export const JobStatus = Type.Object(
  {
    id: Uuid(),
    state: JobState,
    progress: Type.Number(),
    phase: Nullable(Type.String()),
    epoch: Nullable(Type.Integer()),
    totalEpochs: Nullable(Type.Integer()),
    message: Nullable(Type.String()),
    error: Nullable(Type.String()),
  },
  { examples: [{ id: '3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f', state: 'running', progress: 40, phase: 'train-modular', epoch: 2, totalEpochs: 5, message: null, error: null }] },
);
export type JobStatus = Static<typeof JobStatus>;

export const SseDescription = [
  'Server-Sent Events, one per change (see the README, "Live events"). The first event is `state` (a JobStatus: the row as it is now);',
  "then `progress` (a Progress, as the worker publishes it), `metrics` (one per finished training epoch: the epoch's metric row",
  "with `runId` and `runKind`) and `state` whenever the job's state changes; finally `end` (the final JobStatus), after which the",
  "server closes the stream. Every event has an `id:` (its position in the service's event log); a client that reconnects with",
  '`Last-Event-ID` gets the current `state`, then the `metrics` events it missed. The first event carries `retry:` (ms).',
  'The stream re-checks its API key at every poll (1 s): once the key is revoked, it sends `error`',
  '(an ErrorBody: `{"statusCode":401,"error":"Unauthorized","message":"the API key was revoked"}`) instead and closes,',
  'within a poll when the key was revoked through this API process, and within its key-cache TTL (5 s) and a poll',
  'when revoked elsewhere (the CLI, another API process).',
].join(' ');
