import type { Prisma, PrismaClient } from '@mwt/db';

export type FinalState = 'completed' | 'failed' | 'cancelled';

/**
 * Moves a job's row to a final state, and its unfinished runs with it. `where` narrows which row may
 * move (the reconciler moves only unfinished ones, so that concurrent passes are harmless).
 */
export async function finish(
  prisma: PrismaClient,
  jobId: string,
  state: FinalState,
  data: { result?: Prisma.InputJsonObject; progress?: number; message?: string | null; error?: string },
  where: Prisma.JobWhereInput = {},
): Promise<number> {
  const [job] = await prisma.$transaction([
    prisma.job.updateMany({ where: { ...where, id: jobId }, data: { state, finishedAt: new Date(), ...data } }),
    // Runs of the job that did not finish share its fate.
    prisma.run.updateMany({ where: { jobId, status: { in: ['queued', 'running'] } }, data: { status: state === 'completed' ? 'failed' : state } }),
  ]);
  return job.count;
}
