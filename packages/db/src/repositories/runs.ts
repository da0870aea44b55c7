/** Training runs and their per-epoch metrics: read by their job's owner, written by the worker that trains them. */
import type { EpochMetric, Prisma, PrismaClient, Run, RunKind } from '../generated/client.js';
import { ownedThroughJob } from '../owner-filter.js';
import type { Principal } from '../principal.js';

/** One epoch's figures, as a trainer reports them (EpochMetrics in @mwt/core). */
export type EpochFigures = Omit<Prisma.EpochMetricUncheckedCreateInput, 'id' | 'runId' | 'createdAt'>;

export interface NewRun {
  jobId: string;
  kind: RunKind;
  dataset: string;
  model: string;
  config: Prisma.InputJsonValue;
  backend: string | null;
}

export class RunRepository {
  constructor(private readonly prisma: PrismaClient) {}

  find(principal: Principal, id: string): Promise<Run | null> {
    return this.prisma.run.findFirst({ where: { id, ...ownedThroughJob(principal) } });
  }

  /** The run of kind `kind` of job `jobId` (a job has at most one of each). */
  findOfJob(principal: Principal, jobId: string, kind: RunKind): Promise<Run | null> {
    return this.prisma.run.findFirst({ where: { jobId, kind, ...ownedThroughJob(principal) } });
  }

  /** The run's metrics, by epoch. */
  metrics(principal: Principal, runId: string): Promise<EpochMetric[]> {
    return this.prisma.epochMetric.findMany({ where: { runId, run: ownedThroughJob(principal) }, orderBy: { epoch: 'asc' } });
  }

  /** Every metric row of a job's runs with its run's kind, oldest first. */
  metricsOfJob(principal: Principal, jobId: string): Promise<(EpochMetric & { run: { kind: RunKind } })[]> {
    return this.prisma.epochMetric.findMany({
      where: { run: { jobId, ...ownedThroughJob(principal) } },
      include: { run: { select: { kind: true } } },
      orderBy: [{ createdAt: 'asc' }, { epoch: 'asc' }],
    });
  }

  /** The job's run of this kind, created or marked running again (a retried phase); `update` also goes into an existing row. */
  start(run: NewRun, update: { backend?: string | null } = {}): Promise<Run> {
    return this.prisma.run.upsert({
      where: { jobId_kind: { jobId: run.jobId, kind: run.kind } },
      create: { ...run, status: 'running' },
      update: { status: 'running', ...update },
    });
  }

  /** An epoch's metric row (upserted on (run, epoch): a retried epoch overwrites its row) and the run's progress, together. */
  async recordEpoch(runId: string, figures: EpochFigures & { trainAccuracy: number; testAccuracy: number }): Promise<void> {
    await this.prisma.$transaction([
      this.upsertMetric(runId, figures),
      this.prisma.run.update({ where: { id: runId }, data: { epochsDone: figures.epoch, trainAccuracy: figures.trainAccuracy, testAccuracy: figures.testAccuracy } }),
    ]);
  }

  /** An epoch's metric row alone (a module's fine-tuning records the run once, when it ends). */
  async recordMetric(runId: string, figures: EpochFigures): Promise<void> {
    await this.upsertMetric(runId, figures);
  }

  /** The run finished with its model stored; its resumable checkpoint is dropped with it. */
  async complete(runId: string, fields: { modelArtifactId: string; wallMs: number; params: number; flops: bigint }): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.run.update({ where: { id: runId }, data: { status: 'completed', ...fields, finishedAt: new Date() } }),
      // The artifact now holds the final weights: the resumable state is no longer needed.
      this.prisma.checkpoint.deleteMany({ where: { runId } }),
    ]);
  }

  private upsertMetric(runId: string, figures: EpochFigures) {
    return this.prisma.epochMetric.upsert({ where: { runId_epoch: { runId, epoch: figures.epoch } }, create: { runId, ...figures }, update: figures });
  }
}
