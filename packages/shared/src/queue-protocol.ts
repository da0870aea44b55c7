/** What the API and the workers say to each other through BullMQ and Redis pub/sub. */
import { fromDbJobType, type DbJobType } from './db-job-type.js';
import type { JobType } from './job-types.js';

/** BullMQ job data: only the id; the worker reads the payload from Postgres (single source of truth). */
export interface QueuedJob {
  jobId: string;
}

/**
 * A job row's BullMQ entry, as the API enqueues it and a worker's reconciler enqueues it again: named
 * by its type and keyed by the row's id, so the worker finds the row, DELETE finds the entry, and
 * BullMQ ignores a second add of the same job.
 */
export function queueEntry(id: string, type: DbJobType): { name: JobType; data: QueuedJob; opts: { jobId: string } } {
  return { name: fromDbJobType(type), data: { jobId: id }, opts: { jobId: id } };
}

/**
 * BullMQ options of every queued job: transient failures (a database blip, a killed worker) are
 * retried with exponential backoff; phases are idempotent, so a retry resumes from the last
 * checkpoint. Invalid input fails once (the worker throws UnrecoverableError). Finished jobs are
 * trimmed from Redis: PostgreSQL keeps the record.
 */
export const QUEUED_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: 1_000,
  removeOnFail: 5_000,
} as const;

/**
 * Redis pub/sub channel on which the API publishes ids of running jobs to cancel. Named from the
 * deployment's queue prefix and name: deployments sharing a Redis must not hear each other.
 */
export function cancelChannel(config: { queuePrefix: string; queueName: string }): string {
  return `${config.queuePrefix}:${config.queueName}:cancel`;
}
