/** Submit, read, list and cancel jobs. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Prisma } from '@mwt/db';
import { CreateJobBody, completeJob, toDbJobType } from '@mwt/shared';
import type { AppDeps } from '../deps.js';
import { HttpError, notFound } from '../errors.js';
import { cancelJob } from '../jobs/cancel.js';
import { afterCursor, encodeCursor } from '../jobs/cursor.js';
import { checkReferences } from '../jobs/references.js';
import { IdParams, errors } from '../schemas/common.js';
import { JobList, JobListQuery, JobView } from '../schemas/job.js';
import { withTimeout } from '../timeout.js';
import { jobInclude, toJobView } from '../views.js';

const ENQUEUE_TIMEOUT_MS = 5_000;

const jobRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  const { prisma, queue } = deps;

  const load = async (id: string) => {
    const job = await prisma.job.findUnique({ where: { id }, include: jobInclude });
    if (!job) throw notFound('job', id);
    return job;
  };

  app.post(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Submit a job',
        description: 'Stores the job (params completed with their defaults) and queues it. `Location` points at the new job.',
        body: CreateJobBody,
        response: { 201: JobView, ...errors(400, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const job = completeJob(request.body);
      await checkReferences(prisma, job);
      // No `include` here: a new job has no runs yet, and Prisma 6.19 runs a nested create's
      // relation reads concurrently on one pg connection (a pg deprecation warning).
      const created = await prisma.job.create({ data: { type: toDbJobType(job.type), state: 'queued', payload: job.params } });
      const row = { ...created, runs: [], modularizations: [], modules: [] };
      try {
        // BullMQ job id = our id: the worker finds the row, and DELETE finds the BullMQ job.
        await withTimeout(queue.add(job.type, { jobId: row.id }, { jobId: row.id }), ENQUEUE_TIMEOUT_MS, 'enqueue');
      } catch (err) {
        const reason = (err as Error).message;
        request.log.error({ err, jobId: row.id }, 'enqueue failed');
        // Never leave a "queued" row that no worker will ever see.
        await prisma.job.update({
          where: { id: row.id },
          data: { state: 'failed', error: `could not be queued: ${reason}`, finishedAt: new Date() },
        });
        throw new HttpError(503, `job ${row.id} could not be queued (${reason}); it is recorded as failed`);
      }
      return reply.code(201).header('location', `/jobs/${row.id}`).send(toJobView(row));
    },
  );

  app.get(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Get a job: state, progress, timing, result and what it produced',
        params: IdParams,
        response: { 200: JobView, ...errors(400, 404) },
      },
    },
    async (request) => toJobView(await load(request.params.id)),
  );

  app.get(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'List jobs, newest first',
        description: 'Keyset pagination: pass the `nextCursor` of a page as `cursor` to get the next one.',
        querystring: JobListQuery,
        response: { 200: JobList, ...errors(400) },
      },
    },
    async (request) => {
      const { state, type, limit = 20, cursor } = request.query;
      const where: Prisma.JobWhereInput = {
        AND: [state ? { state } : {}, type ? { type: toDbJobType(type) } : {}, cursor ? afterCursor(cursor) : {}],
      };
      const rows = await prisma.job.findMany({
        where,
        include: jobInclude,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
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
      await cancelJob(deps, request.params.id);
      return reply.code(202).send(toJobView(await load(request.params.id)));
    },
  );
};

export default jobRoutes;
