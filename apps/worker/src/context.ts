import type { Job as BullJob } from 'bullmq';
import { isDatabaseUnavailable, type Database } from '@mwt/db';
import type { EpochMetricsData, Progress, QueuedJob } from '@mwt/shared';
import { MemoryBudgetExceeded } from './errors.js';
import type { EpochMetricsPublisher } from './live-events.js';

/**
 * What a job's phases share: the database, the job's id, and its progress and cancellation.
 * A phase maps its own 0..1 completion into the job's percentage through `span`.
 */
export class JobContext {
  private lastPublished = 0;

  constructor(
    readonly db: Database,
    readonly jobId: string,
    private readonly bullJob: BullJob<QueuedJob>,
    private readonly cancelled: () => boolean,
    private readonly draining: () => boolean,
    /** MWT_WORKER_MEMORY_MB: the resident memory a job may take. */
    readonly memoryBudgetMb: number,
    private readonly epochMetrics: EpochMetricsPublisher,
  ) {}

  /** A finished epoch's metrics, to the API's live event streams (after its row is stored). */
  publishEpochMetrics(metrics: EpochMetricsData, trainingSamples: number | null): void {
    this.epochMetrics.publish(this.jobId, metrics, trainingSamples);
  }

  /** Fails the job (once) when the process's resident memory is above the budget; rss() is a cheap syscall. */
  checkMemory(where: string): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.memoryBudgetMb * 1024 * 1024) throw new MemoryBudgetExceeded(rss, this.memoryBudgetMb, where);
  }

  /** True once the API asked to cancel this job; trainers poll it before each batch. */
  shouldStop = (): boolean => this.cancelled();

  /** True once the worker is shutting down; trainers pause (checkpointed) before the next batch. */
  shouldPause = (): boolean => this.draining();

  /** A reporter for a phase that covers [from, to] percent of the job. */
  span(phase: string, from: number, to: number): PhaseProgress {
    return new PhaseProgress(this, phase, from, to);
  }

  /**
   * Publishes progress through BullMQ (live events) and into the Job row (polling). Batch-level
   * updates are throttled to one a second; epoch and phase boundaries always go out.
   */
  async publish(progress: Progress, force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastPublished < 1000) return;
    this.lastPublished = now;
    // Live events are a courtesy: training neither waits for Redis nor fails with it (the row is the record).
    this.bullJob.updateProgress(progress).catch(() => undefined);
    try {
      await this.db.jobs.recordProgress(this.jobId, progress);
    } catch (error) {
      // A batch-level update lost to a database blip is superseded by the next; boundaries must be stored.
      if (force || !isDatabaseUnavailable(error)) throw error;
    }
  }
}

export class PhaseProgress {
  constructor(
    private readonly context: JobContext,
    readonly phase: string,
    private readonly from: number,
    private readonly to: number,
  ) {}

  async report(fraction: number, details: Omit<Progress, 'percent' | 'phase'> = {}, force = false): Promise<void> {
    const percent = Math.round((this.from + (this.to - this.from) * Math.min(1, Math.max(0, fraction))) * 100) / 100;
    await this.context.publish({ percent, phase: this.phase, ...details }, force);
  }

  /** Progress callbacks for a trainer of `epochs` epochs (1-based epoch numbers in its reports). */
  trainerCallbacks(epochs: number) {
    return {
      onBatch: async (p: { epoch: number; batch: number; totalBatches: number }) => {
        this.context.checkMemory(`after batch ${p.batch} of epoch ${p.epoch}`);
        const fraction = (p.epoch - 1 + p.batch / p.totalBatches) / epochs;
        await this.report(fraction, { epoch: p.epoch, totalEpochs: epochs, batch: p.batch, totalBatches: p.totalBatches });
      },
      shouldStop: this.context.shouldStop,
      shouldPause: this.context.shouldPause,
    };
  }
}
