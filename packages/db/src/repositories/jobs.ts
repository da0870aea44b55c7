/**
 * Job rows: what the API stores, shows, lists and cancels (each read narrowed to the caller's jobs),
 * and how a worker moves a row through running to its final state.
 */
import DataLoader from 'dataloader';
import type pg from 'pg';
import type { Job, JobState, JobType, Prisma, PrismaClient } from '../generated/client.js';
import { insertQueuedJobs, type NewJob } from '../job-inserts.js';
import { findJobsWithChildIds, type JobLookup, type JobWithChildIds } from '../job-view.js';
import { jobOwner, visibleJobs } from '../owner-filter.js';
import type { Principal } from '../principal.js';

/** The job's children's ids, each list in creation order (what findJobsWithChildIds reads in one statement). */
const childIds = {
  runs: { select: { id: true }, orderBy: { createdAt: 'asc' } },
  modularizations: { select: { id: true }, orderBy: { createdAt: 'asc' } },
  modules: { select: { id: true }, orderBy: { createdAt: 'asc' } },
} as const satisfies Prisma.JobInclude;

/** What a job's event stream and progress poll show of its row. */
const statusFields = { id: true, state: true, progress: true, phase: true, epoch: true, totalEpochs: true, message: true, error: true } as const;
export type JobStatusRow = Prisma.JobGetPayload<{ select: typeof statusFields }>;

export interface JobListFilter {
  state?: JobState;
  type?: JobType;
  /** Only rows strictly after this one in (createdAt desc, id desc) order: a keyset cursor. */
  after?: { createdAt: Date; id: string };
  take: number;
}

export interface JobProgress {
  percent: number;
  phase: string;
  epoch?: number;
  totalEpochs?: number;
  message?: string;
}

export type FinalState = 'completed' | 'failed' | 'cancelled';

export interface FinalFields {
  result?: Prisma.InputJsonObject;
  progress?: number;
  message?: string | null;
  error?: string;
}

/** Status polls looked up in one statement at most. */
const MAX_LOOKUPS = 256;

export class JobRepository {
  /**
   * Status polls that arrive together share one statement: those parsed in the same turn of the
   * event loop go out on the next (setImmediate), so a lone poll waits for no timer and batches grow
   * with the load. A poll alone costs a round trip to PostgreSQL: under 64 polling connections the
   * query's socket write (which wakes the backend) was 28% of the API's CPU in a profile on this VM,
   * and PostgreSQL spent 120-170 us per poll. No cache: each poll reads the row as it is now.
   */
  private readonly withChildIds: DataLoader<JobLookup, JobWithChildIds | null>;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly pool: pg.Pool,
  ) {
    this.withChildIds = new DataLoader((lookups) => findJobsWithChildIds(this.pool, lookups), {
      cache: false,
      maxBatchSize: MAX_LOOKUPS,
      batchScheduleFn: (send) => setImmediate(send),
    });
  }

  /** The job with its children's ids, in the one statement a status poll costs, shared with the polls beside it (job-view.ts). */
  findWithChildIds(principal: Principal, id: string): Promise<JobWithChildIds | null> {
    return this.withChildIds.load({ id, owner: jobOwner(principal) });
  }

  find(principal: Principal, id: string): Promise<Job | null> {
    return this.prisma.job.findFirst({ where: { id, ...visibleJobs(principal) } });
  }

  async findState(principal: Principal, id: string): Promise<JobState | null> {
    const job = await this.prisma.job.findFirst({ where: { id, ...visibleJobs(principal) }, select: { state: true } });
    return job?.state ?? null;
  }

  /** Newest first on (createdAt, id). */
  list(principal: Principal, { state, type, after, take }: JobListFilter): Promise<JobWithChildIds[]> {
    return this.prisma.job.findMany({
      where: {
        AND: [
          visibleJobs(principal),
          state ? { state } : {},
          type ? { type } : {},
          after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {},
        ],
      },
      include: childIds,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take,
    });
  }

  /** The rows of `ids` the principal may see, status fields only (unknown ids are left out). */
  statuses(principal: Principal, ids: string[]): Promise<JobStatusRow[]> {
    return this.prisma.job.findMany({ where: { id: { in: ids }, ...visibleJobs(principal) }, select: statusFields });
  }

  /** Job counts by type and state. */
  async countByTypeAndState(principal: Principal): Promise<{ type: JobType; state: JobState; count: number }[]> {
    const groups = await this.prisma.job.groupBy({ by: ['type', 'state'], where: visibleJobs(principal), _count: { _all: true } });
    return groups.map((g) => ({ type: g.type, state: g.state, count: g._count._all }));
  }

  /** The job an Idempotency-Key (already scoped to its API key) created, with its children's ids. */
  findByIdempotencyKey(principal: Principal, idempotencyKey: string): Promise<JobWithChildIds | null> {
    return this.prisma.job.findFirst({ where: { idempotencyKey, ...visibleJobs(principal) }, include: childIds });
  }

  /** Many queued jobs in one INSERT (job-inserts.ts). */
  insertQueued(jobs: readonly NewJob[]): Promise<Job[]> {
    return insertQueuedJobs(this.pool, jobs);
  }

  /** One queued job with its Idempotency-Key; a concurrent duplicate fails with a unique violation. */
  createQueued(job: Omit<NewJob, 'id'> & { idempotencyKey: string; requestHash: string }): Promise<Job> {
    // No `include` here: a new job has no runs yet, and Prisma 6.19 runs a nested create's
    // relation reads concurrently on one pg connection (a pg deprecation warning).
    return this.prisma.job.create({ data: { ...job, state: 'queued' } });
  }

  /** Jobs Redis did not take, recorded failed; only rows still queued (a reconciler may have started one meanwhile). */
  async failQueued(ids: string[], error: string): Promise<void> {
    await this.prisma.job.updateMany({ where: { id: { in: ids }, state: 'queued' }, data: { state: 'failed', error, finishedAt: new Date() } });
  }

  /** A job that failed only because it was never queued (its error starts with `errorPrefix`) goes back to queued; false if it moved meanwhile. */
  async requeueNeverQueued(principal: Principal, id: string, errorPrefix: string): Promise<boolean> {
    const { count } = await this.prisma.job.updateMany({
      where: { id, state: 'failed', attempts: 0, error: { startsWith: errorPrefix }, ...visibleJobs(principal) },
      data: { state: 'queued', error: null, finishedAt: null },
    });
    return count === 1;
  }

  /** A queued job cancelled at once (it was taken out of the queue); false if it is no longer queued. */
  async cancelQueued(principal: Principal, id: string): Promise<boolean> {
    const { count } = await this.prisma.job.updateMany({
      where: { id, state: 'queued', ...visibleJobs(principal) },
      data: { state: 'cancelled', cancelRequested: true, finishedAt: new Date() },
    });
    return count === 1;
  }

  /** Flags a queued or running job for its worker to stop; false if it has finished meanwhile. */
  async requestCancel(principal: Principal, id: string): Promise<boolean> {
    const { count } = await this.prisma.job.updateMany({
      where: { id, state: { in: ['queued', 'running'] }, ...visibleJobs(principal) },
      data: { cancelRequested: true },
    });
    return count === 1;
  }

  /** A worker takes the job: running, one more attempt, started now unless it had started before. */
  async markRunning(id: string, startedAt: Date | null, message: string): Promise<void> {
    await this.prisma.job.update({
      where: { id },
      data: { state: 'running', startedAt: startedAt ?? new Date(), attempts: { increment: 1 }, error: null, message },
    });
  }

  /** A running job goes back to queued (its worker is shutting down); the row first, before BullMQ. */
  async requeueRunning(id: string, message: string): Promise<void> {
    await this.prisma.job.updateMany({ where: { id, state: 'running' }, data: { state: 'queued', message } });
  }

  async setMessage(id: string, message: string): Promise<void> {
    await this.prisma.job.update({ where: { id }, data: { message } });
  }

  /** Progress mirrored into the row, for polling clients. */
  async recordProgress(id: string, progress: JobProgress): Promise<void> {
    await this.prisma.job.update({
      where: { id },
      data: {
        progress: progress.percent,
        phase: progress.phase,
        epoch: progress.epoch ?? null,
        totalEpochs: progress.totalEpochs ?? null,
        message: progress.message ?? null,
      },
    });
  }

  /**
   * Touches a running job's row (Job.updatedAt is the heartbeat the reconciler reads) and tells
   * whether it was flagged cancelRequested; null when the row is not running.
   */
  async heartbeat(id: string): Promise<{ cancelRequested: boolean } | null> {
    const rows = await this.prisma.job.updateManyAndReturn({ where: { id, state: 'running' }, data: { updatedAt: new Date() }, select: { cancelRequested: true } });
    return rows[0] ?? null;
  }

  /**
   * Moves a job's row to a final state, and its unfinished runs with it; resolves to the number of
   * job rows moved. `unfinishedOnly` moves the row only from queued or running (the reconciler: so
   * that concurrent passes are harmless).
   */
  async finish(id: string, state: FinalState, fields: FinalFields, { unfinishedOnly = false } = {}): Promise<number> {
    const [job] = await this.prisma.$transaction([
      this.prisma.job.updateMany({
        where: { ...(unfinishedOnly ? { state: { in: ['queued', 'running'] } } : {}), id },
        data: { state, finishedAt: new Date(), ...fields },
      }),
      // Runs of the job that did not finish share its fate.
      this.prisma.run.updateMany({ where: { jobId: id, status: { in: ['queued', 'running'] } }, data: { status: state === 'completed' ? 'failed' : state } }),
    ]);
    return job.count;
  }

  /**
   * Jobs the reconciler makes sure BullMQ holds: queued ones, and running ones whose heartbeat is
   * older than `staleBefore`; by id, after `after`, at most `take`.
   */
  unfinished(principal: Principal, { staleBefore, after, take }: { staleBefore: Date; after: string | null; take: number }): Promise<{ id: string; type: JobType }[]> {
    return this.prisma.job.findMany({
      where: {
        OR: [{ state: 'queued' }, { state: 'running', updatedAt: { lt: staleBefore } }],
        ...(after ? { id: { gt: after } } : {}),
        ...visibleJobs(principal),
      },
      select: { id: true, type: true },
      orderBy: { id: 'asc' },
      take,
    });
  }
}
