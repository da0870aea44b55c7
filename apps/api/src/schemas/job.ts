/** Job resources as the API shows them. */
import Type, { type Static } from 'typebox';
import { JOB_STATES, JOB_TYPES, JobState } from '@mwt/shared';
import { DateTime, Nullable, Uuid } from './common.js';

const JobTypeSchema = Type.Enum(JOB_TYPES);

export const JobView = Type.Object(
  {
    id: Uuid(),
    type: JobTypeSchema,
    state: JobState,
    progress: Type.Number({ minimum: 0, maximum: 100, description: 'Percent done.' }),
    phase: Nullable(Type.String()),
    epoch: Nullable(Type.Integer()),
    totalEpochs: Nullable(Type.Integer()),
    message: Nullable(Type.String()),
    params: Type.Record(Type.String(), Type.Unknown(), { description: 'The params as stored, every default applied.' }),
    error: Nullable(Type.String()),
    result: Type.Unknown({ description: 'Summary written by the worker when the job completes (null before).' }),
    cancelRequested: Type.Boolean(),
    attempts: Type.Integer(),
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
  },
  {
    examples: [
      {
        id: '3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f',
        type: 'train-modular',
        state: 'running',
        progress: 40,
        phase: 'train-modular',
        epoch: 2,
        totalEpochs: 5,
        message: null,
        params: { dataset: 'mnist', model: 'simcnn-small', epochs: 5, batchSize: 128, lr: 0.05, momentum: 0.9, weightDecay: 0, seed: 0, alpha: 0.5, beta: 1.5 },
        error: null,
        result: null,
        cancelRequested: false,
        attempts: 1,
        createdAt: '2026-11-25T10:00:00.000Z',
        startedAt: '2026-11-25T10:00:01.000Z',
        finishedAt: null,
        durationMs: 42000,
        runs: ['9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'],
        modularizations: [],
        modules: [],
        links: {
          self: '/jobs/3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f',
          events: '/jobs/3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f/events',
          runs: ['/runs/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'],
          modularizations: [],
          modules: [],
        },
      },
    ],
  },
);
export type JobView = Static<typeof JobView>;

export const SubmitJobHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        'Makes a retry safe: the same key (per API key) with the same job answers 200 with the job the first request ' +
        'created (header `Idempotent-Replayed: true`) instead of creating another; with a different job, 409.',
      examples: ['3b1f6c0e-run-42'],
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
    items: Type.Array(JobView),
    nextCursor: Nullable(Type.String({ description: 'Pass as ?cursor= for the next page; null on the last page.' })),
  },
  { examples: [{ items: [], nextCursor: null }] },
);

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
  'then `progress` (a Progress, as the worker publishes it), `metrics` (one per finished training epoch: the epoch\'s metric row',
  'with `runId` and `runKind`) and `state` whenever the job\'s state changes; finally `end` (the final JobStatus), after which the',
  'server closes the stream. Every event has an `id:` (its position in the service\'s event log); a client that reconnects with',
  '`Last-Event-ID` gets the current `state`, then the `metrics` events it missed. The first event carries `retry:` (ms).',
  'The stream re-checks its API key at every poll (1 s): once the key is revoked, it sends `error`',
  '(an ErrorBody: `{"statusCode":401,"error":"Unauthorized","message":"the API key was revoked"}`) instead and closes,',
  'within a poll when the key was revoked through this API process, and within its key-cache TTL (5 s) and a poll',
  'when revoked elsewhere (the CLI, another API process).',
].join(' ');
