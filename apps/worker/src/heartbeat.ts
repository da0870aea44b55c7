import type { PrismaClient } from '@mwt/db';

/**
 * Touches a running job's row every `intervalMs`, so that Job.updatedAt tells the reconciler the
 * job is alive even through phases that publish no progress (dataset loading, modularization).
 * Each beat also reads the row's cancelRequested: a cancel whose pub/sub message this worker never
 * heard (Redis reconnecting, a subscriber not yet subscribed) still reaches the job within a beat.
 * A missed beat (Postgres briefly away) is harmless: the reconciler reads the same database.
 * Returns the function that stops it.
 */
export function startHeartbeat(prisma: PrismaClient, jobId: string, intervalMs: number, onCancelRequested: () => void): () => void {
  const timer = setInterval(() => {
    prisma.job
      .updateManyAndReturn({ where: { id: jobId, state: 'running' }, data: { updatedAt: new Date() }, select: { cancelRequested: true } })
      .then((rows) => {
        if (rows[0]?.cancelRequested) onCancelRequested();
      })
      .catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
