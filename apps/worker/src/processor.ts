import { UnrecoverableError, type Job as BullJob } from 'bullmq';
import { TrainingStopped } from '@mwt/core';
import type { Prisma, PrismaClient } from '@mwt/db';
import { fromDbJobType, parseJobParams, type JobType, type QueuedJob } from '@mwt/shared';
import { JobContext } from './context';
import { InputError } from './errors';
import { HANDLERS } from './handlers';

/**
 * The BullMQ processor. Postgres is the source of truth: the queued job carries only the id, the
 * processor reads the payload, moves the row through running -> completed | failed | cancelled,
 * and leaves retries of transient failures to BullMQ (the phases are idempotent, so a retry
 * resumes rather than restarts).
 */
export function createProcessor(prisma: PrismaClient, isCancelled: (jobId: string) => boolean) {
  return async (bullJob: BullJob<QueuedJob>): Promise<unknown> => {
    const { jobId } = bullJob.data;
    const row = await prisma.job.findUnique({ where: { id: jobId } });
    if (!row) throw new UnrecoverableError(`job ${jobId} has no row in Postgres`);
    if (row.state === 'completed' || row.state === 'failed' || row.state === 'cancelled') return { skipped: row.state };
    if (row.cancelRequested) {
      await finish(prisma, jobId, 'cancelled', { message: 'cancelled before it started' });
      return { cancelled: true };
    }
    await prisma.job.update({ where: { id: jobId }, data: { state: 'running', startedAt: row.startedAt ?? new Date(), attempts: { increment: 1 }, error: null } });
    const type: JobType = fromDbJobType(row.type);
    const context = new JobContext(prisma, jobId, bullJob, () => isCancelled(jobId));
    try {
      const params = parseJobParams(type, row.payload);
      const handler = HANDLERS[type] as (ctx: JobContext, p: typeof params) => Promise<Prisma.InputJsonObject>;
      const result = await handler(context, params);
      await finish(prisma, jobId, 'completed', { result, progress: 100, message: null });
      return result;
    } catch (error) {
      if (error instanceof TrainingStopped) {
        await finish(prisma, jobId, 'cancelled', { message: `cancelled: ${error.message}` });
        return { cancelled: true };
      }
      const message = error instanceof Error ? error.message : String(error);
      const attempts = bullJob.opts.attempts ?? 1;
      const final = error instanceof InputError || bullJob.attemptsMade + 1 >= attempts;
      if (final) await finish(prisma, jobId, 'failed', { error: message });
      else await prisma.job.update({ where: { id: jobId }, data: { message: `attempt ${bullJob.attemptsMade + 1} failed, retrying: ${message}` } });
      throw error instanceof InputError ? new UnrecoverableError(message) : error;
    }
  };
}

async function finish(
  prisma: PrismaClient,
  jobId: string,
  state: 'completed' | 'failed' | 'cancelled',
  data: { result?: Prisma.InputJsonObject; progress?: number; message?: string | null; error?: string },
): Promise<void> {
  await prisma.$transaction([
    prisma.job.update({ where: { id: jobId }, data: { state, finishedAt: new Date(), ...data } }),
    // Runs of the job that did not finish share its fate.
    prisma.run.updateMany({ where: { jobId, status: { in: ['queued', 'running'] } }, data: { status: state === 'completed' ? 'failed' : state } }),
  ]);
}
