import type { Queue } from 'bullmq';
import { SYSTEM_PRINCIPAL, type Database } from '@mwt/db';
import { queueEntry, type QueuedJob } from '@mwt/shared';

/** Rows one pass looks at; a larger backlog is swept over several passes (see `after`). */
const ROWS_PER_PASS = 500;

export interface ReconcileResult {
  /** Where the next pass goes on (the last row id seen), or null when this one reached the end. */
  next: string | null;
  /** Jobs BullMQ had lost, added back. */
  requeued: number;
  /** Jobs BullMQ had given up on without the worker recording it, now failed in Postgres too. */
  failed: number;
}

/**
 * PostgreSQL is the source of truth and Redis may forget: a Redis restarted without persistence
 * comes back with an empty queue. One pass makes sure that every job the database holds as queued,
 * or as running with a heartbeat (Job.updatedAt) older than `staleMs`, has a BullMQ entry; a job
 * added back resumes from its checkpoint. Every worker runs passes; concurrent ones are harmless:
 * BullMQ ignores an add whose job id exists, and rows only move out of unfinished states.
 */
export async function reconcile(db: Database, queue: Queue<QueuedJob>, staleMs: number, after: string | null = null): Promise<ReconcileResult> {
  const rows = await db.jobs.unfinished(SYSTEM_PRINCIPAL, { staleBefore: new Date(Date.now() - staleMs), after, take: ROWS_PER_PASS });
  const result: ReconcileResult = { next: rows.length === ROWS_PER_PASS ? (rows.at(-1)?.id ?? null) : null, requeued: 0, failed: 0 };
  for (const row of rows) {
    const state = await queue.getJobState(row.id);
    if (state === 'unknown') {
      const { name, data, opts } = queueEntry(row.id, row.type);
      await queue.add(name, data, opts);
      result.requeued += 1;
    } else if (state === 'failed') {
      // E.g. a job whose workers died more often than BullMQ's stalled limit allows.
      const reason = (await queue.getJob(row.id))?.failedReason ?? 'no reason recorded';
      result.failed += await db.jobs.finish(row.id, 'failed', { error: `the queue gave up on it: ${reason}` }, { unfinishedOnly: true });
    }
    // Waiting, delayed or active: BullMQ holds the job (its stalled check takes a dead worker's job
    // over once the lock expires). Completed: the worker recorded the outcome before telling BullMQ.
  }
  return result;
}

/** Runs a pass now and every `intervalMs`, one at a time; returns the function that stops it. */
export function startReconciler(db: Database, queue: Queue<QueuedJob>, options: { intervalMs: number; staleMs: number; log: (message: string) => void }): () => Promise<void> {
  let pass: Promise<void> | undefined;
  let failing = false;
  let cursor: string | null = null;
  const run = async () => {
    try {
      const { next, requeued, failed } = await reconcile(db, queue, options.staleMs, cursor);
      cursor = next;
      if (requeued || failed) options.log(`reconciler: ${requeued} job(s) put back in the queue, ${failed} recorded failed`);
      if (failing) options.log('reconciler: PostgreSQL and Redis answer again');
      failing = false;
    } catch (error) {
      // Expected while Postgres or Redis is down: say so once, and try again at the next pass.
      if (!failing) options.log(`reconciler: pass failed, retrying every ${options.intervalMs} ms: ${(error as Error).message.split('\n').at(-1)}`);
      failing = true;
    }
  };
  const tick = () => {
    pass ??= run().finally(() => (pass = undefined));
  };
  const timer = setInterval(tick, options.intervalMs);
  tick();
  return async () => {
    clearInterval(timer);
    await pass;
  };
}
