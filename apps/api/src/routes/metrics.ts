/**
 * GET /metrics: the service in Prometheus' text format, for an admin key (a scraper gets one:
 * `npm run keys -- create --name prometheus --scopes admin`). Per API process:
 *   mwt_http_request_duration_seconds{method,route,status}   every answered request (requestMetrics below)
 *   mwt_queue_jobs{state}                                    BullMQ's counts, asked at each scrape
 *   mwt_jobs{type,state}                                     Job rows, from PostgreSQL, cached JOBS_CACHE_MS
 *   mwt_worker_training_samples_per_second{worker}           each worker's last finished epoch, from the
 *   mwt_worker_last_epoch_timestamp_seconds{worker}          events workers publish through Redis
 * plus Node's process metrics (CPU, memory, event-loop lag) with the `mwt_api_` prefix.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import Type from 'typebox';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EPOCH_METRICS_EVENT, JOB_STATES, JOB_TYPES, fromDbJobType, type EpochMetricsPayload } from '@mwt/shared';
import { SYSTEM_PRINCIPAL } from '@mwt/db';
import type { AppDeps } from '../deps.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The process's Prometheus registry (requestMetrics); GET /metrics serves it. */
    metricsRegistry: Registry;
  }
}

/** Job counts by type and state are one GROUP BY: cheap, but scrapes of several Prometheus servers need not each pay it. */
const JOBS_CACHE_MS = 10_000;
/** The newest event-stream entries scanned for the workers' last epochs at each scrape. */
const THROUGHPUT_SCAN = 2_000;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed'] as const;

/**
 * The registry and the request histogram. Registered at the root (fastify-plugin: not encapsulated),
 * so that its onResponse hook times every route; first, before the routes it times.
 */
export const requestMetrics = fp(async (app) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mwt_api_' });
  const duration = new Histogram({
    name: 'mwt_http_request_duration_seconds',
    help: 'Time from request to response, by route (its pattern) and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  app.decorate('metricsRegistry', registry);
  app.addHook('onResponse', async (request, reply) => {
    // The pattern, not the path: ids must not become label values. Unknown paths share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
});

const metricsRoutes: FastifyPluginAsync<AppDeps> = async (app, { db, queue, redis }) => {
  const registry = app.metricsRegistry;

  new Gauge({
    name: 'mwt_queue_jobs',
    help: 'Jobs in the BullMQ queue by state (finished ones until BullMQ trims them).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await queue.getJobCounts(...QUEUE_STATES);
      for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });

  let jobCounts: { at: number; counts: Promise<Map<string, number>> } | undefined;
  const readJobCounts = async () => {
    // Every key's jobs: the route is for admin keys, and the figures are the service's.
    const groups = await db.jobs.countByTypeAndState(SYSTEM_PRINCIPAL);
    return new Map(groups.map((g) => [`${fromDbJobType(g.type)} ${g.state}`, g.count]));
  };
  new Gauge({
    name: 'mwt_jobs',
    help: `Jobs in PostgreSQL by type and state (read at most every ${JOBS_CACHE_MS / 1000} s).`,
    labelNames: ['type', 'state'] as const,
    registers: [registry],
    async collect() {
      if (!jobCounts || Date.now() - jobCounts.at > JOBS_CACHE_MS) {
        const counts = readJobCounts();
        jobCounts = { at: Date.now(), counts };
        counts.catch(() => (jobCounts = undefined)); // a failed read is not cached
      }
      const counts = await jobCounts.counts;
      // Every pair, zeros included: a series that vanishes reads as "no data", not 0.
      for (const type of JOB_TYPES) for (const state of JOB_STATES) this.set({ type, state }, counts.get(`${type} ${state}`) ?? 0);
    },
  });

  const lastEpochs = async () => {
    const entries = await redis.xrevrange(queue.keys.events, '+', '-', 'COUNT', THROUGHPUT_SCAN);
    const byWorker = new Map<string, { samplesPerSecond: number; at: number }>();
    for (const [id, fields] of entries) {
      if (fields[fields.indexOf('event') + 1] !== EPOCH_METRICS_EVENT) continue;
      const payload = JSON.parse(fields[fields.indexOf('data') + 1]) as EpochMetricsPayload;
      // Newest first: the first entry of a worker is its last epoch. The id's first part is Redis' clock (ms).
      if (payload.samplesPerSecond !== null && !byWorker.has(payload.worker)) {
        byWorker.set(payload.worker, { samplesPerSecond: payload.samplesPerSecond, at: Number(id.split('-')[0]) / 1000 });
      }
    }
    return byWorker;
  };
  const samplesPerSecond = new Gauge({
    name: 'mwt_worker_training_samples_per_second',
    help: "Training samples per second of each worker's last finished epoch (among the queue's recent events).",
    labelNames: ['worker'] as const,
    registers: [registry],
  });
  const lastEpochAt = new Gauge({
    name: 'mwt_worker_last_epoch_timestamp_seconds',
    help: "When each worker's last finished epoch was reported (Unix time): how current the samples/s figure is.",
    labelNames: ['worker'] as const,
    registers: [registry],
  });

  app.get(
    '/metrics',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text format 0.0.4)',
        operationId: 'getMetrics',
        description: 'HTTP request durations by route and status, BullMQ queue counts, jobs by type and state, training samples/s per worker, process metrics.',
        response: {
          200: {
            description: 'Prometheus text format 0.0.4',
            content: {
              'text/plain': {
                schema: Type.String({
                  examples: ['# HELP mwt_jobs Jobs in PostgreSQL by type and state.\n# TYPE mwt_jobs gauge\nmwt_jobs{type="pipeline",state="completed"} 3\n'],
                }),
              },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      // Both worker gauges from one read of the event stream, reset so that a worker gone from it disappears.
      const epochs = await lastEpochs();
      samplesPerSecond.reset();
      lastEpochAt.reset();
      for (const [worker, { samplesPerSecond: rate, at }] of epochs) {
        samplesPerSecond.set({ worker }, rate);
        lastEpochAt.set({ worker }, at);
      }
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
};

export default metricsRoutes;
