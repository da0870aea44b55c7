/**
 * A worker process: takes MwT jobs from the BullMQ queue and runs them on the best tfjs backend
 * this machine has (MWT_BACKEND=auto: tfjs-node-gpu, tfjs-node, wasm, cpu). Start any number of
 * them, on any number of hosts, against one Redis and one Postgres.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { initBackend } from '@mwt/core';
import { createPrisma } from '@mwt/db';
import { cancelChannel, QUEUED_JOB_OPTIONS, readConfig, type QueuedJob } from '@mwt/shared';
import { Cancellations } from './cancellations.js';
import { WORKER_NAME } from './identity.js';
import { logger } from './logger.js';
import { CancelWatch } from './cancel-watch.js';
import { createProcessor } from './processor.js';
import { startReconciler } from './reconciler.js';

/** After SIGTERM, how long the running job may take to reach its next batch before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 30_000;
/**
 * Once no job runs here any more (it went back to the queue, or none ran), how long closing the
 * connections may take: nothing is left to save, so a close that hangs (a Redis reply or a
 * PostgreSQL query that never comes on a loaded host) must not keep the process alive.
 */
const CLOSE_DEADLINE_MS = 5_000;

const config = readConfig();
const backend = await initBackend();
const prisma = createPrisma(config.databaseUrl, { queryTimeoutMs: config.dbQueryTimeoutMs });
/** Stored by BullMQ on every job this worker processes (`processedBy`), and in the job's message. */
const name = WORKER_NAME;
// BullMQ workers block on Redis: they need their own connection, with no retry limit per request.
const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const subscriber = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
// The reconciler's: few retries per command, so that a pass fails fast while Redis is away.
const queue = new Queue<QueuedJob>(config.queueName, {
  connection: new Redis(config.redisUrl, { maxRetriesPerRequest: 1 }),
  prefix: config.queuePrefix,
  defaultJobOptions: QUEUED_JOB_OPTIONS,
});
// ioredis reconnects by itself; the worker's 'error' log below reports the outage.
subscriber.on('error', () => undefined);
queue.on('error', () => undefined);

/** Cancel requests for the jobs running here; trainers check them before every batch. */
const cancellations = new Cancellations();
await subscriber.subscribe(cancelChannel(config));
subscriber.on('message', (_channel: string, jobId: string) => cancellations.request(jobId));

/** Hears a DELETE while a training step holds this thread: trainers check it between layers. */
const cancelWatch = CancelWatch.start(config.redisUrl, cancelChannel(config));

let stopping = false;
const processJob = createProcessor(prisma, {
  isCancelled: (id) => cancellations.isCancelled(id) || cancelWatch.isCancelled(id),
  requestCancel: (id) => cancellations.request(id),
  watchCancellation: (id) => cancelWatch.watch(id),
  isDraining: () => stopping,
  // Several beats per lock duration: one late beat must not make a live job look dead.
  heartbeatMs: Math.round(config.lockDurationMs / 4),
  memoryBudgetMb: config.workerMemoryMb,
  workerName: name,
  log,
});
/** The processor, with the job's cancel requests kept for exactly as long as it runs here. */
const processor: typeof processJob = async (job, token) => {
  cancellations.begin(job.data.jobId);
  try {
    return await processJob(job, token);
  } finally {
    cancellations.end(job.data.jobId);
    if (stopping && cancellations.size === 0) startCloseDeadline();
  }
};
const worker = new Worker<QueuedJob>(config.queueName, processor, {
  connection,
  name,
  prefix: config.queuePrefix,
  concurrency: config.workerConcurrency,
  // A training step can hold the event loop for a second on the embedded backend: keep it well above that.
  lockDuration: config.lockDurationMs,
  stalledInterval: config.stalledIntervalMs,
  maxStalledCount: config.maxStalledCount,
});
worker.on('active', (job) => log(`job ${job.data.jobId} started (${job.name})`, job.data.jobId));
worker.on('completed', (job, result: unknown) => log(`job ${job.data.jobId} ${outcome(result)}`, job.data.jobId));
worker.on('failed', (job, error) => logger.warn({ jobId: job?.data.jobId, err: error }, `job ${job?.data.jobId ?? '?'} failed: ${error.message}`));
worker.on('error', (error) => logger.error({ err: error }, `worker error: ${error.message}`));
const stopReconciler = startReconciler(prisma, queue, { intervalMs: config.reconcileIntervalMs, staleMs: config.lockDurationMs, log });
log(`worker ready: ${name}, queue ${config.queueName}, concurrency ${config.workerConcurrency}, backend ${backend.name}`);

/**
 * SIGTERM/SIGINT: a running job pauses before its next batch, its checkpoint (mid-epoch included)
 * is stored and it goes back to the queue without spending an attempt; then the process exits 0.
 * A second signal, or a job that does not reach a batch boundary in time, exits at once: the job's
 * lock then expires and another worker resumes it from its last checkpoint.
 */
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    log(`${signal} again: exiting without waiting`);
    process.exit(1);
  }
  stopping = true;
  const busy = cancellations.size > 0;
  log(busy ? `${signal}: pausing the running job at its next batch and closing` : `${signal}: no job running; closing`);
  setTimeout(() => {
    log(`still busy ${SHUTDOWN_GRACE_MS} ms after ${signal} (waiting for: ${[...closing].join(', ')}): exiting`);
    process.exit(1);
  }, SHUTDOWN_GRACE_MS).unref();
  if (!busy) startCloseDeadline();
  await Promise.allSettled([closeStep('reconciler', stopReconciler()), closeStep('bullmq worker', worker.close())]);
  await Promise.allSettled([
    closeStep('queue', queue.close()),
    closeStep('cancel subscriber', subscriber.quit()),
    closeStep('cancel watch thread', cancelWatch.close()),
    closeStep('worker redis connection', connection.quit()),
    closeStep('postgres', prisma.$disconnect()),
  ]);
  process.exit(0);
}

/** The shutdown steps not yet done, named for the log line of a shutdown that overruns. */
const closing = new Set<string>();
function closeStep(what: string, done: Promise<unknown>): Promise<unknown> {
  closing.add(what);
  return done.finally(() => closing.delete(what));
}

/**
 * Bounds the rest of a shutdown once no job runs here: the job is safe in the queue with its
 * checkpoint, so a close still pending after CLOSE_DEADLINE_MS exits 0, naming what it waited for
 * and what still holds the event loop.
 */
let closeDeadline: NodeJS.Timeout | undefined;
function startCloseDeadline(): void {
  closeDeadline ??= setTimeout(() => {
    const handles = process.getActiveResourcesInfo().filter((type) => type !== 'TTYWrap');
    logger.warn(`shutdown: closing still pending ${CLOSE_DEADLINE_MS} ms after the last job stopped (waiting for: ${[...closing].join(', ') || 'nothing'}; active: ${handles.join(', ')}): exiting`);
    process.exit(0);
  }, CLOSE_DEADLINE_MS).unref();
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

/** What a processor's result says happened: a cancelled or skipped job did not finish. */
function outcome(result: unknown): string {
  if (typeof result === 'object' && result !== null) {
    if ('cancelled' in result) return 'cancelled';
    if ('skipped' in result) return `skipped: it was already ${String(result.skipped)}`;
  }
  return 'finished';
}

/** An info line, with the job it is about when there is one. */
function log(message: string, jobId?: string): void {
  logger.info(jobId === undefined ? {} : { jobId }, message);
}
