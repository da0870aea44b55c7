/**
 * DELETE /jobs/:id. A queued job is taken out of BullMQ and cancelled here; a running one
 * (or one a worker grabbed meanwhile) is flagged and announced on the deployment's cancel channel, and its
 * worker stops at its next batch and marks it cancelled itself.
 */
import { cancelChannel, FINISHED_STATES } from '@mwt/shared';
import { visibleJobs, type Principal } from '../auth/principal.js';
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

export async function cancelJob({ config, prisma, queue, redis: client }: AppDeps, principal: Principal, id: string): Promise<void> {
  const job = await prisma.job.findFirst({ where: { id, ...visibleJobs(principal) }, select: { state: true } });
  if (!job) throw notFound('job', id);
  const alreadyOver = () => new HttpError(409, `job ${id} is already ${job.state}; only queued or running jobs can be cancelled`);
  if (FINISHED_STATES.includes(job.state)) throw alreadyOver();

  if (job.state === 'queued') {
    // 0 means a worker holds the job's lock: it is running in all but the row.
    const removed = await redis(queue.remove(id), 'remove job');
    if (removed === 1) {
      const { count } = await prisma.job.updateMany({
        where: { id, state: 'queued' },
        data: { state: 'cancelled', cancelRequested: true, finishedAt: new Date() },
      });
      if (count === 1) return;
    }
  }

  const { count } = await prisma.job.updateMany({
    where: { id, state: { in: ['queued', 'running'] } },
    data: { cancelRequested: true },
  });
  if (count === 0) {
    const now = await prisma.job.findUnique({ where: { id }, select: { state: true } });
    throw new HttpError(409, `job ${id} is already ${now?.state ?? 'gone'}; only queued or running jobs can be cancelled`);
  }
  await redis(client.publish(cancelChannel(config), id), 'publish cancel');
}
