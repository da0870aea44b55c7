/**
 * Stores and queues the POST /jobs submissions that arrive together as one batch: one multi-row
 * INSERT (one commit; jobs.insertQueued in @mwt/db) and one BullMQ addBulk (one Redis round trip)
 * for up to MAX_BATCH jobs, where each job alone would cost both. A batch goes out on the turn of
 * the event loop after its first submission, so a lone request waits for no timer; while batches
 * are being stored the next one grows, so batches grow with the load. Submissions with an
 * Idempotency-Key are not batched: a duplicate key must fail its own INSERT, not its neighbours'.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Job, NewJob } from '@mwt/db';
import type { AppDeps } from '../deps.js';
import { enqueueJobs, notQueued } from './enqueue.js';

const MAX_BATCH = 256;
/**
 * Batches stored at once. One leaves the API waiting on each commit (~1,900 jobs/s here, latency
 * bound); two keep it busy (~3,500 jobs/s); more only make batches smaller, each costing a commit.
 */
const MAX_IN_FLIGHT = 2;

interface Submission {
  row: NewJob;
  resolve: (job: Job) => void;
  reject: (error: unknown) => void;
}

export class JobBatcher {
  private waiting: Submission[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly deps: AppDeps,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Stores and queues one job; resolves to its row once both are done. */
  submit(row: Omit<NewJob, 'id'>): Promise<Job> {
    return new Promise((resolve, reject) => {
      // Our ids rather than Prisma's default: they pair each returned row with its caller.
      this.waiting.push({ row: { id: randomUUID(), ...row }, resolve, reject });
      this.schedule();
    });
  }

  /** The next batch goes out after this turn of the event loop: requests parsed together go in it. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.inFlight += 1;
      void this.store(this.waiting.splice(0, MAX_BATCH)).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
      this.schedule();
    });
  }

  /** Settles every submission of the batch; never throws. */
  private async store(batch: Submission[]): Promise<void> {
    try {
      const rows = await this.deps.db.jobs.insertQueued(batch.map((s) => s.row));
      const reason = await enqueueJobs(this.deps, rows, this.log);
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const s of batch) {
        const stored = byId.get(s.row.id);
        if (reason !== null) s.reject(notQueued(s.row.id, reason));
        else if (stored) s.resolve(stored);
        else s.reject(new Error(`job ${s.row.id} was not returned by its INSERT`));
      }
    } catch (error) {
      for (const s of batch) s.reject(error);
    }
  }
}
