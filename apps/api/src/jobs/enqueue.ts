/**
 * Queues stored jobs in BullMQ, under their row ids (the worker finds the row, and DELETE finds the
 * BullMQ job). If Redis does not take them, the rows are marked failed: never leave a "queued" row
 * that no worker will ever see.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Job } from '@mwt/db';
import { queueEntry } from '@mwt/shared';
import type { Principal } from '../auth/principal.js';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { withTimeout } from '../timeout.js';

const ENQUEUE_TIMEOUT_MS = 5_000;
/** How Job.error starts for a job that never reached the queue (and so never ran). */
const NOT_QUEUED = 'could not be queued';

/** Resolves once every job is queued; otherwise resolves to the reason, with the rows recorded as failed. */
export async function enqueueJobs({ db, queue }: AppDeps, jobs: Pick<Job, 'id' | 'type'>[], log: FastifyBaseLogger): Promise<string | null> {
  try {
    // One round trip for the lot.
    await withTimeout(queue.addBulk(jobs.map(({ id, type }) => queueEntry(id, type))), ENQUEUE_TIMEOUT_MS, 'enqueue');
    return null;
  } catch (err) {
    const reason = (err as Error).message;
    const ids = jobs.map((j) => j.id);
    log.error({ err, jobIds: ids }, 'enqueue failed');
    // Only rows still queued: a worker's reconciler may have enqueued and started one meanwhile.
    await db.jobs.failQueued(ids, `${NOT_QUEUED}: ${reason}`);
    return reason;
  }
}

/** What the caller of a job that could not be queued is told. */
export const notQueued = (id: string, reason: string) =>
  new HttpError(503, `job ${id} could not be queued (${reason}); it is recorded as failed`, {
    'retry-after': '5',
  });

/** Whether a job failed only because it could not be queued: no worker ever saw it. */
export const neverQueued = (job: Pick<Job, 'state' | 'attempts' | 'error'>) => job.state === 'failed' && job.attempts === 0 && (job.error?.startsWith(`${NOT_QUEUED}: `) ?? false);

/**
 * A retry of a submission that got a 503 because the job could not be queued (the retry the 503's
 * Retry-After invites, with the same Idempotency-Key): the job goes back to queued and is queued
 * again. Resolves to false when the row moved meanwhile (another retry took it), or to the reason
 * the queue refused it again.
 */
export async function requeueNeverQueued(deps: AppDeps, principal: Principal, job: Pick<Job, 'id' | 'type'>, log: FastifyBaseLogger): Promise<string | null | false> {
  if (!(await deps.db.jobs.requeueNeverQueued(principal, job.id, `${NOT_QUEUED}: `))) return false;
  return enqueueJobs(deps, [job], log);
}
