/** Submit, read, list and cancel jobs: each key its own, an admin key all of them. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateJobBody, toDbJobType } from '@mwt/shared';
import { principalOf, type Principal } from '../auth/principal.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { JobBatcher } from '../jobs/batcher.js';
import { cancelJob } from '../jobs/cancel.js';
import { decodeCursor, encodeCursor } from '../jobs/cursor.js';
import { submitJob } from '../jobs/submit.js';
import { IdParams, errors } from '../schemas/common.js';
import { JobList, JobListQuery, JobView, SubmitJobHeaders } from '../schemas/job.js';
import { toJobView } from '../views.js';

const jobRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  const { db } = deps;
  const batcher = new JobBatcher(deps, app.log);

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
        headers: SubmitJobHeaders,
        body: CreateJobBody,
        response: { 200: JobView, 201: JobView, ...errors(400, 404, 409, 413, 503) },
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
      return reply.code(created ? 201 : 200).header('location', `/jobs/${job.id}`).send(toJobView(job));
    },
  );

  app.get(
    '/jobs/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['jobs'],
        summary: 'Get a job: state, progress, timing, result and what it produced',
        params: IdParams,
        response: { 200: JobView, ...errors(400, 404) },
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
        querystring: JobListQuery,
        response: { 200: JobList, ...errors(400) },
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
        params: IdParams,
        response: { 202: JobView, ...errors(400, 404, 409, 503) },
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
