import { disposeModel } from '@mwt/core';
import { SYSTEM_PRINCIPAL } from '@mwt/db';
import type { JobParamsMap, JobResultMap, JobType } from '@mwt/shared';
import type { JobContext } from './context.js';
import { DatasetCache } from './phases/datasets.js';
import { modularizePhase } from './phases/modularize.js';
import { reusePhase } from './phases/reuse.js';
import { trainPhase } from './phases/train.js';

/** A job type's handler returns what its job stores in Job.result (@mwt/shared's result schema of the type). */
type Handler<T extends JobType> = (ctx: JobContext, params: JobParamsMap[T]) => Promise<JobResultMap[T]>;

/** One function per job type; each is a composition of idempotent phases. */
export const HANDLERS: { [T in JobType]: Handler<T> } = {
  'train-modular': async (ctx, params) => trainOnly(ctx, 'modular', params),
  'train-standard': async (ctx, params) => trainOnly(ctx, 'standard', params),

  modularize: async (ctx, params) => {
    const { modularizationId, modularization } = await modularizePhase(ctx, new DatasetCache(), params, ctx.span('modularize', 0, 100));
    return { modularizationId, krr: modularization.krr, cohesion: modularization.cohesion, coupling: modularization.coupling };
  },

  reuse: async (ctx, params) => {
    const reused = await reusePhase(ctx, new DatasetCache(), params, ctx.span('reuse', 0, 100));
    return { moduleId: reused.moduleId, moduleRunId: reused.runId, moduleAccuracy: reused.accuracy, standardAccuracy: reused.standardAccuracy };
  },

  /** Standard training (the baseline), modular training, modularization and reuse, in one job. */
  pipeline: async (ctx, params) => {
    const datasets = new DatasetCache();
    const standard = await trainPhase(ctx, datasets, 'standard', params, ctx.span('train-standard', 0, 35));
    try {
      const modular = await trainPhase(ctx, datasets, 'modular', params, ctx.span('train-modular', 35, 75));
      try {
        const { modularizationId, modularization } = await modularizePhase(
          ctx,
          datasets,
          { runId: modular.runId, threshold: params.threshold, model: modular.model, dataset: modular.dataset },
          ctx.span('modularize', 75, 80),
        );
        const reused = await reusePhase(
          ctx,
          datasets,
          { modularizationId, targetClasses: params.targetClasses, epochs: params.reuseEpochs, lr: params.reuseLr, batchSize: params.batchSize, seed: params.seed },
          ctx.span('reuse', 80, 100),
          { modular: modular.model, standard: standard.model, dataset: modular.dataset, modularization },
        );
        return {
          standardRunId: standard.runId,
          modularRunId: modular.runId,
          modularizationId,
          moduleId: reused.moduleId,
          moduleRunId: reused.runId,
          krr: modularization.krr,
          cohesion: modularization.cohesion,
          coupling: modularization.coupling,
          moduleAccuracy: reused.accuracy,
          standardAccuracy: reused.standardAccuracy,
        };
      } finally {
        disposeModel(modular.model);
      }
    } finally {
      disposeModel(standard.model);
    }
  },
};

async function trainOnly(ctx: JobContext, kind: 'modular' | 'standard', params: JobParamsMap['train-standard']): Promise<JobResultMap['train-standard']> {
  const run = await trainPhase(ctx, new DatasetCache(), kind, params, ctx.span(`train-${kind}`, 0, 100));
  disposeModel(run.model);
  const row = await ctx.db.runs.find(SYSTEM_PRINCIPAL, run.runId);
  if (!row) throw new Error(`run ${run.runId} is gone`);
  return { runId: run.runId, testAccuracy: row.testAccuracy };
}
