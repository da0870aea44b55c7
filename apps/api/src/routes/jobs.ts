/** Submit, read, list and cancel jobs: each key its own, an admin key all of them. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { toDbJobType } from '@mwt/shared';
import { principalOf, type Principal } from '../auth/principal.js';
import type { AppDeps } from '../deps.js';
import { REQUEST_EXAMPLES } from '../openapi.js';
import { plainJson } from '../plain-json.js';
import { notFound } from '../errors.js';
import { JobBatcher } from '../jobs/batcher.js';
import { cancelJob } from '../jobs/cancel.js';
import { decodeCursor, encodeCursor } from '../jobs/cursor.js';
import { submitJob } from '../jobs/submit.js';
import { BAD_ID, EXAMPLE_ID, HEADERS, IdParams, UNAVAILABLE, errors, json, notFoundMessage, ref } from '../schemas/common.js';
import { CreateJobBody, JOB_REQUEST_EXAMPLES, JOB_VIEW_EXAMPLES, JobList, JobView, JobListQuery, SubmitJobHeaders } from '../schemas/job.js';
import { toJobView } from '../views.js';

const jobRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  const { db } = deps;
  const batcher = new JobBatcher(deps, app.log);
  app.setSerializerCompiler(plainJson);

  const load = async (id: string, principal: Principal) => {
    const job = await db.jobs.findWithChildIds(principal, id);
    if (!job) throw notFound('job', id);
    return job;
  };

  app.post(
    '/jobs',
    {
      config: { scope: 'submit' },
      schema: {
        tags: ['jobs'],
        summary: 'Submit a job',
        description:
          'Stores the job (params completed with their defaults) and queues it: 201, `Location` points at it. ' +
          'With an `Idempotency-Key` that an earlier request of the same API key used for the same job: 200 and that job.',
        operationId: 'createJob',
        headers: SubmitJobHeaders,
        body: ref(CreateJobBody),
        [REQUEST_EXAMPLES]: JOB_REQUEST_EXAMPLES,
        response: {
          200: json(ref(JobView), 'An Idempotency-Key replay: the job the first request with this key created, as it is now', {
            headers: { ...HEADERS.location, ...HEADERS.replayed },
          }),
          201: json(ref(JobView), 'The job, stored and queued', { headers: HEADERS.location }),
          ...errors({
            400: {
              field: 'body/params/epochs must be <= 500',
              type: 'body/type must be one of: train-modular, train-standard, modularize, reuse, pipeline',
              classes: 'params.targetClasses[1]: class 12 does not exist in mnist (10 classes)',
              memory: 'body/params/batchSize: job needs an estimated 17.4 GB, above the worker budget of 8.0 GB (MWT_WORKER_MEMORY_MB)',
            },
            404: { run: `params.runId: run ${EXAMPLE_ID} not found`, modularization: `params.modularizationId: modularization ${EXAMPLE_ID} not found` },
            409: {
              idempotency: 'Idempotency-Key "nightly-2026-11-25" was already used for a different job; use a new key for a new job',
              run: `params.runId: run ${EXAMPLE_ID} is running, not completed`,
            },
            413: 'Request body is too large',
            415: 'Unsupported Media Type',
            503: { ...UNAVAILABLE, queue: `job ${EXAMPLE_ID} could not be queued (Connection is closed.); it is recorded as failed` },
          }),
        },
      },
    },
    async (request, reply) => {
      const { job, created } = await submitJob(deps, batcher, {
        principal: principalOf(request),
        body: request.body,
        idempotencyKey: request.headers['idempotency-key'],
        requestId: request.id,
        log: request.log,
      });
      if (!created) reply.header('idempotent-replayed', 'true');
      return reply
        .code(created ? 201 : 200)
        .header('location', `/jobs/${job.id}`)
        .send(toJobView(job));
    },
  );

  app.get(
    '/jobs/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['jobs'],
        summary: 'Get a job: state, progress, timing, result and what it produced',
        operationId: 'getJob',
        params: IdParams,
        response: {
          200: json(ref(JobView), 'The job; `result` (by `type`) once it completed', { examples: JOB_VIEW_EXAMPLES }),
          ...errors({ 400: BAD_ID, 404: notFoundMessage('job') }),
        },
      },
    },
    async (request) => toJobView(await load(request.params.id, principalOf(request))),
  );

  app.get(
    '/jobs',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['jobs'],
        summary: "List the key's jobs (an admin key: every job), newest first",
        description: 'Keyset pagination: pass the `nextCursor` of a page as `cursor` to get the next one.',
        operationId: 'listJobs',
        querystring: JobListQuery,
        response: {
          200: json(ref(JobList), 'A page of jobs, newest first'),
          ...errors({ 400: { limit: 'querystring/limit must be <= 100', cursor: 'querystring/cursor is not a cursor returned by GET /jobs' } }),
        },
      },
    },
    async (request) => {
      const { state, type, limit = 20, cursor } = request.query;
      const rows = await db.jobs.list(principalOf(request), {
        state,
        type: type && toDbJobType(type),
        after: cursor === undefined ? undefined : decodeCursor(cursor),
        take: limit + 1, // one extra row tells whether there is a next page
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { items: page.map((r) => toJobView(r)), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
    },
  );

  app.delete(
    '/jobs/:id',
    {
      config: { scope: 'submit' },
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job',
        description:
          'Queued: removed from the queue and cancelled at once. Running: `cancelRequested` is set and the worker ' +
          'stops at its next batch, then marks it cancelled. Finished: 409.',
        operationId: 'cancelJob',
        params: IdParams,
        response: {
          202: json(ref(JobView), 'Cancelled (it was queued) or being cancelled (`cancelRequested`: it is running)'),
          ...errors({
            400: BAD_ID,
            404: notFoundMessage('job'),
            409: `job ${EXAMPLE_ID} is already completed; only queued or running jobs can be cancelled`,
            503: { ...UNAVAILABLE, cancel: 'redis unavailable (publish cancel): Connection is closed.' },
          }),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await cancelJob(deps, principal, request.params.id);
      return reply.code(202).send(toJobView(await load(request.params.id, principal)));
    },
  );
};

export default jobRoutes;
