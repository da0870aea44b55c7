/**
 * DELETE /jobs/:id. A queued job is taken out of BullMQ and cancelled here; a running one
 * (or one a worker grabbed meanwhile) is flagged and announced on the deployment's cancel channel, and its
 * worker stops at its next batch and marks it cancelled itself.
 */
import { cancelChannel, FINISHED_STATES } from '@mwt/shared';
import type { Principal } from '../auth/principal.js';
import type { AppDeps } from '../deps.js';
import { HttpError, notFound } from '../errors.js';
import { withTimeout } from '../timeout.js';

const REDIS_TIMEOUT_MS = 3_000;

async function redis<T>(promise: Promise<T>, what: string): Promise<T> {
  try {
    return await withTimeout(promise, REDIS_TIMEOUT_MS, what);
  } catch (err) {
    throw new HttpError(503, `redis unavailable (${what}): ${(err as Error).message}`);
  }
}

export async function cancelJob({ config, db, queue, redis: client }: AppDeps, principal: Principal, id: string): Promise<void> {
  const state = await db.jobs.findState(principal, id);
  if (!state) throw notFound('job', id);
  if (FINISHED_STATES.includes(state)) throw new HttpError(409, `job ${id} is already ${state}; only queued or running jobs can be cancelled`);

  if (state === 'queued') {
    // 0 means a worker holds the job's lock: it is running in all but the row.
    const removed = await redis(queue.remove(id), 'remove job');
    if (removed === 1 && (await db.jobs.cancelQueued(principal, id))) return;
  }

  if (!(await db.jobs.requestCancel(principal, id))) {
    const now = await db.jobs.findState(principal, id);
    throw new HttpError(409, `job ${id} is already ${now ?? 'gone'}; only queued or running jobs can be cancelled`);
  }
  await redis(client.publish(cancelChannel(config), id), 'publish cancel');
}
