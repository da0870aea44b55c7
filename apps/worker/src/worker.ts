/**
 * A worker, as buildApp(deps) is an API: startWorker takes what the process built (configuration,
 * PostgreSQL, the queue, the log) and opens what only it uses (the BullMQ worker's connections, the
 * cancel subscriber and its thread, the live-events producer); close() stops it and closes those,
 * and leaves the deps to whoever made them. No state outside this closure: a process, or a test,
 * may run several.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Database } from '@mwt/db';
import { cancelChannel, type Config, type JobQueue, type QueuedJob } from '@mwt/shared';
import { CancelWatch } from './cancel-watch.js';
import { Cancellations } from './cancellations.js';
import { EpochMetricsPublisher } from './live-events.js';
import { createProcessor } from './processor.js';
import { startReconciler } from './reconciler.js';

export interface WorkerDeps {
  config: Config;
  db: Database;
  /** The deployment's queue (createJobQueue): the reconciler adds back the jobs Redis lost. */
  queue: JobQueue;
  /** Pino, at LOG_LEVEL, naming the worker on every line (createWorkerLogger). */
  logger: Logger;
  /** `host:pid`: BullMQ's `processedBy`, the jobs' messages, the live events. */
  name: string;
  /** The tfjs backend initBackend() activated, for the ready line. */
  backendName: string;
  /**
   * Once close() has no job running here any more (it went back to the queue, or none ran), how
   * long closing the connections may take before close() gives up on them (5 s by default).
   */
  closeDeadlineMs?: number;
}

export interface RunningWorker {
  readonly name: string;
  /**
   * Stops taking jobs; a running job pauses at its next batch (checkpointed, mid-epoch included) and
   * goes back to the queue without spending an attempt; then closes what startWorker opened. Bounded
   * once no job runs: a close step still pending after `closeDeadlineMs` is logged with the
   * process's active resources and left behind. Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** Resolves once close() was called and no job runs here any more: whatever ran is back in the queue or finished. */
  readonly drained: Promise<void>;
}

const CLOSE_DEADLINE_MS = 5_000;

export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { config, db, queue, logger, name } = deps;
  /** An info line, with the job it is about when there is one. */
  const log = (message: string, jobId?: string) => logger.info(jobId === undefined ? {} : { jobId }, message);

  /** Cancel requests for the jobs running here; trainers check them before every batch. */
  const cancellations = new Cancellations();
  // ioredis reconnects by itself; the BullMQ worker's 'error' log below reports the outage.
  const subscriber = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  subscriber.on('error', () => undefined);
  subscriber.on('message', (_channel: string, jobId: string) => cancellations.request(jobId));
  try {
    await subscriber.subscribe(cancelChannel(config));
  } catch (error) {
    subscriber.disconnect();
    throw error;
  }
  /** Hears a DELETE while a training step holds this thread: trainers check it between layers. */
  const cancelWatch = CancelWatch.start(config.redisUrl, cancelChannel(config));
  const epochMetrics = new EpochMetricsPublisher(config, name);

  let draining = false;
  /** Resolves once close() began and no job runs here any more. */
  let markDrained: () => void = () => undefined;
  const drained = new Promise<void>((resolve) => (markDrained = resolve));
  const processJob = createProcessor(db, {
    isCancelled: (id) => cancellations.isCancelled(id) || cancelWatch.isCancelled(id),
    requestCancel: (id) => cancellations.request(id),
    watchCancellation: (id) => cancelWatch.watch(id),
    isDraining: () => draining,
    // Several beats per lock duration: one late beat must not make a live job look dead.
    heartbeatMs: Math.round(config.lockDurationMs / 4),
    memoryBudgetMb: config.workerMemoryMb,
    workerName: name,
    log,
    epochMetrics,
  });
  /** The processor, with the job's cancel requests kept for exactly as long as it runs here. */
  const processor: typeof processJob = async (job, token) => {
    cancellations.begin(job.data.jobId);
    try {
      return await processJob(job, token);
    } finally {
      cancellations.end(job.data.jobId);
      if (draining && cancellations.size === 0) markDrained();
    }
  };
  const worker = new Worker<QueuedJob>(config.queueName, processor, {
    // Options, not a client: the worker opens its two connections (commands, and one that blocks
    // waiting for jobs) with no retry limit per command, and closes them.
    connection: { url: config.redisUrl, maxRetriesPerRequest: null },
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
  const stopReconciler = startReconciler(db, queue, { intervalMs: config.reconcileIntervalMs, staleMs: config.lockDurationMs, log });
  log(`worker ready: ${name}, queue ${config.queueName}, concurrency ${config.workerConcurrency}, backend ${deps.backendName}`);

  /** The close steps not yet done, named in the log line of a close that overruns. */
  const pending = new Set<string>();
  const step = (what: string, done: Promise<unknown>) => {
    pending.add(what);
    return done.finally(() => pending.delete(what));
  };

  async function close(): Promise<void> {
    draining = true;
    const busy = cancellations.size > 0;
    log(busy ? 'closing: pausing the running job at its next batch' : 'closing: no job running');
    if (!busy) markDrained();
    const closed = (async () => {
      // The BullMQ worker first: it waits for the running job, which needs the cancel watch and PostgreSQL.
      await Promise.allSettled([step('reconciler', stopReconciler()), step('bullmq worker', worker.close())]);
      await Promise.allSettled([step('cancel subscriber', subscriber.quit()), step('cancel watch thread', cancelWatch.close()), step('live events', epochMetrics.close())]);
    })();
    await drained;
    // Nothing is left to save once no job runs here: a close that hangs (a Redis reply that never
    // comes on a loaded host) must not keep the worker from stopping.
    let deadline: NodeJS.Timeout | undefined;
    const overran = new Promise<true>((resolve) => (deadline = setTimeout(() => resolve(true), deps.closeDeadlineMs ?? CLOSE_DEADLINE_MS)));
    try {
      if ((await Promise.race([closed, overran])) === true) {
        const handles = process.getActiveResourcesInfo().filter((type) => type !== 'TTYWrap');
        logger.warn(`closing: still waiting for ${[...pending].join(', ') || 'nothing'} after the last job stopped (active: ${handles.join(', ')}); leaving it`);
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  let closing: Promise<void> | undefined;
  return { name, drained, close: () => (closing ??= close()) };
}

/** What a processor's result says happened: a cancelled or skipped job did not finish. */
function outcome(result: unknown): string {
  if (typeof result === 'object' && result !== null) {
    if ('cancelled' in result) return 'cancelled';
    if ('skipped' in result) return `skipped: it was already ${String(result.skipped)}`;
  }
  return 'finished';
}
