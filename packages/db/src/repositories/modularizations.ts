/** Modularizations (a modular run cut into class modules): read by their job's owner, stored by the worker. */
import type { Modularization, Module, Prisma, PrismaClient, Run } from '../generated/client.js';
import { ownedThroughJob } from '../owner-filter.js';
import type { Principal } from '../principal.js';

const byCreation = [{ createdAt: 'asc' }, { id: 'asc' }] as const satisfies Prisma.ModuleOrderByWithRelationInput[];

export type NewModularization = Omit<Prisma.ModularizationUncheckedCreateInput, 'id' | 'createdAt' | 'modules'> & {
  /** Its class modules, created with it in one statement. */
  modules: Prisma.ModuleUncheckedCreateWithoutModularizationInput[];
};

export class ModularizationRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** The modularization with the ids of the principal's modules cut from it (an admin's reuse jobs may cut others'). */
  findWithModuleIds(principal: Principal, id: string): Promise<(Modularization & { modules: { id: string }[] }) | null> {
    const owned = ownedThroughJob(principal);
    return this.prisma.modularization.findFirst({
      where: { id, ...owned },
      include: { modules: { where: owned, select: { id: true }, orderBy: byCreation } },
    });
  }

  /** What a reuse job needs checked before it is accepted: the run's dataset and the classes its class modules cover. */
  findForReuse(principal: Principal, id: string): Promise<{ id: string; run: { dataset: string }; modules: { classes: number[] }[] } | null> {
    return this.prisma.modularization.findFirst({
      where: { id, ...ownedThroughJob(principal) },
      select: { id: true, run: { select: { dataset: true } }, modules: { where: { kind: 'class' }, select: { classes: true } } },
    });
  }

  /** The run a modularization was cut from: what a reuse job trains, for its memory estimate. */
  async findRunOf(principal: Principal, id: string): Promise<Pick<Run, 'model' | 'dataset' | 'config'> | null> {
    const row = await this.prisma.modularization.findFirst({
      where: { id, ...ownedThroughJob(principal) },
      select: { run: { select: { model: true, dataset: true, config: true } } },
    });
    return row?.run ?? null;
  }

  /** The id of the modularization job `jobId` stored, if it stored one. */
  async findIdOfJob(principal: Principal, jobId: string): Promise<string | null> {
    const row = await this.prisma.modularization.findFirst({ where: { jobId, ...ownedThroughJob(principal) }, select: { id: true } });
    return row?.id ?? null;
  }

  /** The modularization with its run. */
  findWithRun(principal: Principal, id: string): Promise<(Modularization & { run: Run }) | null> {
    return this.prisma.modularization.findFirst({ where: { id, ...ownedThroughJob(principal) }, include: { run: true } });
  }

  /** The modularization with its class modules (masks included), oldest first. */
  findWithClassModules(principal: Principal, id: string): Promise<(Modularization & { modules: Module[] }) | null> {
    return this.prisma.modularization.findFirst({
      where: { id, ...ownedThroughJob(principal) },
      include: { modules: { where: { kind: 'class' }, orderBy: { createdAt: 'asc' } } },
    });
  }

  /**
   * Stores a job's modularization with all its modules in one statement; an upsert on the job, so
   * that two workers that both ran the phase (one of them presumed dead) store one. Resolves to its id.
   */
  async store({ modules, ...modularization }: NewModularization): Promise<string> {
    const row = await this.prisma.modularization.upsert({
      where: { jobId: modularization.jobId },
      update: {},
      create: { ...modularization, modules: { create: modules } },
      select: { id: true },
    });
    return row.id;
  }
}
