import { DelayedError, UnrecoverableError, type Job as BullJob } from 'bullmq';
import { TrainingPaused, TrainingStopped } from '@mwt/core';
import { isDatabaseUnavailable, SYSTEM_PRINCIPAL, type Database } from '@mwt/db';
import { fromDbJobType, parseJobParams, type JobResultMap, type JobType, type QueuedJob } from '@mwt/shared';
import { JobContext } from './context.js';
import { InputError, ShuttingDown } from './errors.js';
import { HANDLERS } from './handlers.js';
import { startHeartbeat } from './heartbeat.js';
import type { EpochMetricsPublisher } from './live-events.js';

export interface ProcessorOptions {
  /** True once the API asked to cancel the job. */
  isCancelled: (jobId: string) => boolean;
  /** Starts listening for the job's cancellation in the middle of a step (CancelWatch); returns the stop. */
  watchCancellation: (jobId: string) => () => void;
  /** The heartbeat found the job's row flagged cancelRequested (its pub/sub message may have been lost). */
  requestCancel: (jobId: string) => void;
  /** True once this worker is shutting down: a running job pauses at its next batch. */
  isDraining: () => boolean;
  /** How often a running job touches its row (Job.updatedAt is the heartbeat the reconciler reads). */
  heartbeatMs: number;
  /** MWT_WORKER_MEMORY_MB: a job whose worker's resident memory passes it fails once. */
  memoryBudgetMb: number;
  /** host:pid of this worker, for the job's message and the log. */
  workerName: string;
  /** The worker's log: says when and why a job went back to the queue (and which job). */
  log: (message: string, jobId?: string) => void;
  /** Where finished epochs' metrics go live (the API's event streams). */
  epochMetrics: EpochMetricsPublisher;
}

/** How long a job waits in the queue while Postgres cannot be reached before a worker tries it again. */
const DATABASE_RETRY_MS = 5_000;

/**
 * The BullMQ processor. Postgres is the source of truth: the queued job carries only the id, the
 * processor reads the payload, moves the row through running -> completed | failed | cancelled,
 * and leaves retries of transient failures to BullMQ (the phases are idempotent, so a retry
 * resumes rather than restarts). Two interruptions are not failures and cost no attempt: a worker
 * shutting down (the job pauses at a batch boundary, checkpointed, and goes back to the queue) and
 * an unreachable Postgres (the job waits in the queue and is tried again).
 */
export function createProcessor(db: Database, options: ProcessorOptions) {
  return async (bullJob: BullJob<QueuedJob>, token?: string): Promise<unknown> => {
    const { jobId } = bullJob.data;
    try {
      return await runJob(db, bullJob, options);
    } catch (error) {
      if (error instanceof TrainingPaused || error instanceof ShuttingDown) {
        const message = `${options.workerName} shut down (${error.message}); queued to resume from its last checkpoint`;
        let delayMs = 0;
        try {
          // The row first: once the job is back in the queue another worker may mark it running.
          await db.jobs.requeueRunning(jobId, message);
        } catch (e) {
          if (!isDatabaseUnavailable(e)) throw e;
          delayMs = DATABASE_RETRY_MS;
        }
        return requeue(bullJob, token, delayMs, `job ${jobId} back in the queue: ${error.message}`, options);
      }
      if (isDatabaseUnavailable(error)) {
        return requeue(bullJob, token, DATABASE_RETRY_MS, `job ${jobId} waits for PostgreSQL: ${(error as Error).message.split('\n').at(-1)}`, options);
      }
      throw error;
    }
  };
}

/** Puts the job back in BullMQ without spending one of its attempts (BullMQ's DelayedError pattern). */
async function requeue(bullJob: BullJob<QueuedJob>, token: string | undefined, delayMs: number, why: string, options: ProcessorOptions): Promise<never> {
  await bullJob.moveToDelayed(Date.now() + delayMs, token);
  options.log(why, bullJob.data.jobId);
  throw new DelayedError(why);
}

async function runJob(db: Database, bullJob: BullJob<QueuedJob>, options: ProcessorOptions): Promise<unknown> {
  const { jobId } = bullJob.data;
  const row = await db.jobs.find(SYSTEM_PRINCIPAL, jobId);
  if (!row) throw new UnrecoverableError(`job ${jobId} has no row in Postgres`);
  if (row.state === 'completed' || row.state === 'failed' || row.state === 'cancelled') return { skipped: row.state };
  if (row.cancelRequested) {
    await db.jobs.finish(jobId, 'cancelled', { message: 'cancelled before it started' });
    return { cancelled: true };
  }
  if (options.isDraining()) throw new ShuttingDown('before the job started');
  await db.jobs.markRunning(jobId, row.startedAt, `started on ${options.workerName}`);
  const stopHeartbeat = startHeartbeat(db, jobId, options.heartbeatMs, () => options.requestCancel(jobId));
  const stopWatching = options.watchCancellation(jobId);
  const type: JobType = fromDbJobType(row.type);
  const context = new JobContext(db, jobId, bullJob, () => options.isCancelled(jobId), options.isDraining, options.memoryBudgetMb, options.epochMetrics);
  try {
    const params = parseParams(type, row.payload);
    const handler = HANDLERS[type] as (ctx: JobContext, p: typeof params) => Promise<JobResultMap[JobType]>;
    const result = await handler(context, params);
    await db.jobs.finish(jobId, 'completed', { result, progress: 100, message: null });
    return result;
  } catch (error) {
    if (error instanceof TrainingStopped) {
      await db.jobs.finish(jobId, 'cancelled', { message: `cancelled: ${error.message}` });
      return { cancelled: true };
    }
    // Not the job's failure: the caller puts it back in the queue.
    if (error instanceof TrainingPaused || isDatabaseUnavailable(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const attempts = bullJob.opts.attempts ?? 1;
    const final = error instanceof InputError || bullJob.attemptsMade + 1 >= attempts;
    if (final) await db.jobs.finish(jobId, 'failed', { error: message });
    else await db.jobs.setMessage(jobId, `attempt ${bullJob.attemptsMade + 1} failed, retrying: ${message}`);
    throw error instanceof InputError ? new UnrecoverableError(message) : error;
  } finally {
    stopHeartbeat();
    stopWatching();
  }
}

/** A stored payload that no longer matches its schema fails once: retrying cannot fix it. */
function parseParams(type: JobType, payload: unknown) {
  try {
    return parseJobParams(type, payload);
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}
