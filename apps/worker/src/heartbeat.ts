import type { PrismaClient } from '@mwt/db';

/**
 * Touches a running job's row every `intervalMs`, so that Job.updatedAt tells the reconciler the
 * job is alive even through phases that publish no progress (dataset loading, modularization).
 * A missed beat (Postgres briefly away) is harmless: the reconciler reads the same database.
 * Returns the function that stops it.
 */
export function startHeartbeat(prisma: PrismaClient, jobId: string, intervalMs: number): () => void {
  const timer = setInterval(() => {
    prisma.job.updateMany({ where: { id: jobId, state: 'running' }, data: { updatedAt: new Date() } }).catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
