/** Modules (class modules and reused sub-task modules): read by their job's owner, stored by the worker. */
import type { Module, Prisma, PrismaClient } from '../generated/client.js';
import { ownedThroughJob } from '../owner-filter.js';
import type { Principal } from '../principal.js';

/** A module as the API shows it: without its mask (bytes). */
export type ModuleRecord = Omit<Module, 'mask'>;

export type ReusedModuleKey = { jobId: string; modularizationId: string; classes: number[] };

export type NewReusedModule = Omit<Prisma.ModuleUncheckedCreateInput, 'id' | 'createdAt' | 'kind' | keyof ReusedModuleKey>;

export interface FinishedModuleRun {
  runId: string;
  fields: Omit<Prisma.RunUncheckedUpdateInput, 'id' | 'status' | 'finishedAt'>;
}

export class ModuleRepository {
  constructor(private readonly prisma: PrismaClient) {}

  find(principal: Principal, id: string): Promise<ModuleRecord | null> {
    return this.prisma.module.findFirst({ where: { id, ...ownedThroughJob(principal) }, omit: { mask: true } });
  }

  /** The principal's modules cut from the run's modularizations (an admin's reuse jobs may have cut others'), oldest first. */
  listOfRun(principal: Principal, runId: string): Promise<ModuleRecord[]> {
    return this.prisma.module.findMany({
      where: { modularization: { runId }, ...ownedThroughJob(principal) },
      omit: { mask: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /** The reused module a job stored for these (sorted) classes, if it stored one. */
  findReused(principal: Principal, { jobId, modularizationId, classes }: ReusedModuleKey): Promise<Module | null> {
    return this.prisma.module.findFirst({ where: { jobId, kind: 'reused', modularizationId, classes: { equals: classes }, ...ownedThroughJob(principal) } });
  }

  /**
   * The fine-tuning run marked completed and its reused module stored, in one transaction; an upsert
   * on (modularization, kind, classes, job), so that a retried phase stores one. Resolves to the module's id.
   */
  async storeReused(key: ReusedModuleKey, module: NewReusedModule, run: FinishedModuleRun): Promise<string> {
    return this.prisma.$transaction(async (tx) => {
      await tx.run.update({ where: { id: run.runId }, data: { ...run.fields, status: 'completed', finishedAt: new Date() } });
      const row = await tx.module.upsert({
        where: { modularizationId_kind_classes_jobId: { ...key, kind: 'reused' } },
        update: {},
        create: { ...key, kind: 'reused', runId: run.runId, ...module },
        select: { id: true },
      });
      return row.id;
    });
  }
}
