import type { Database } from '@mwt/db';

/**
 * Touches a running job's row every `intervalMs`, so that Job.updatedAt tells the reconciler the
 * job is alive even through phases that publish no progress (dataset loading, modularization).
 * Each beat also reads the row's cancelRequested: a cancel whose pub/sub message this worker never
 * heard (Redis reconnecting, a subscriber not yet subscribed) still reaches the job within a beat.
 * A missed beat (Postgres briefly away) is harmless: the reconciler reads the same database.
 * Returns the function that stops it.
 */
export function startHeartbeat(db: Database, jobId: string, intervalMs: number, onCancelRequested: () => void): () => void {
  const timer = setInterval(() => {
    db.jobs
      .heartbeat(jobId)
      .then((beat) => {
        if (beat?.cancelRequested) onCancelRequested();
      })
      .catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
