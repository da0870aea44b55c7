import { disposeModel, reuseForSubTask, subTaskMask, type Dataset, type Model, type Modularization } from '@mwt/core';
import { SYSTEM_PRINCIPAL } from '@mwt/db';
import type { ReuseParams } from '@mwt/shared';
import type { JobContext, PhaseProgress } from '../context.js';
import { epochMetricsData } from '../live-events.js';
import { InputError } from '../errors.js';
import { loadModel } from '../store.js';
import { augmentOf, dataSpecOf, type DatasetCache } from './datasets.js';
import { checkTargetClasses, standardModel } from './reuse-inputs.js';
import { storeReusedModule } from './reused-module.js';
import { loadModularization } from './stored-modularization.js';

export interface ReusedModule {
  moduleId: string;
  runId: string;
  accuracy: number;
  standardAccuracy: number | null;
}

/** Models a pipeline already holds in memory, so that it does not reload them from artifacts. */
export interface InMemory {
  modular?: Model;
  standard?: Model;
  dataset?: Dataset;
  modularization?: Modularization;
}

/**
 * Builds the module of a sub-task (OR of the target classes' module masks), fine-tunes it as a run
 * of kind `module` with per-epoch metrics, and stores it as a downloadable LayersModel. Idempotent
 * per job: a retry finds the stored module; one interrupted before that fine-tunes again (a short
 * run, not checkpointed) and rewrites the same artifact row.
 */
export async function reusePhase(ctx: JobContext, datasets: DatasetCache, params: ReuseParams, progress: PhaseProgress, memory: InMemory = {}): Promise<ReusedModule> {
  const { db, jobId } = ctx;
  const classes = [...params.targetClasses].sort((a, b) => a - b);
  const done = await db.modules.findReused(SYSTEM_PRINCIPAL, { jobId, modularizationId: params.modularizationId, classes });
  if (done?.runId && done.accuracy !== null) return { moduleId: done.id, runId: done.runId, accuracy: done.accuracy, standardAccuracy: done.standardAccuracy };

  const row = await db.modularizations.findWithRun(SYSTEM_PRINCIPAL, params.modularizationId);
  if (!row) throw new InputError(`params.modularizationId: modularization ${params.modularizationId} does not exist`);
  if (!row.run.modelArtifactId) throw new InputError(`params.modularizationId: its run ${row.runId} has no stored model`);
  const dataset = memory.dataset ?? (await datasets.get(dataSpecOf(row.run.config)));
  checkTargetClasses(params, dataset);
  const standard = memory.standard ?? (params.standardRunId ? await standardModel(ctx, params.standardRunId, row.run.dataset) : undefined);
  const modular = memory.modular ?? (await loadModel(db.blobs, row.run.modelArtifactId));
  const modularization = memory.modularization ?? (await loadModularization(ctx, params.modularizationId));
  // The phase shows at once (GET /jobs/:id), not only at the first throttled batch report.
  await progress.report(0, { message: `fine-tuning the module of classes ${classes.join(', ')}` }, true);
  const { dataset: datasetName, model, backend } = row.run;
  const run = await db.runs.start({ jobId, kind: 'module', dataset: datasetName, model, config: { ...params }, backend });
  try {
    const reuse = await reuseForSubTask(
      modular,
      modularization,
      classes,
      dataset,
      { ...params, augment: augmentOf(row.run.config, dataset) },
      {
        standard,
        callbacks: {
          ...progress.trainerCallbacks(params.epochs),
          onEpoch: async (metrics) => {
            await db.runs.recordMetric(run.id, metrics);
            ctx.publishEpochMetrics(epochMetricsData(run.id, 'module', metrics), null);
            await progress.report(metrics.epoch / params.epochs, { epoch: metrics.epoch, totalEpochs: params.epochs }, true);
          },
        },
      },
    );
    try {
      const mask = subTaskMask(modularization, classes);
      const moduleId = await storeReusedModule(ctx, params, reuse.module, { runId: run.id, reuse, mask, classes, dataset, backend });
      return { moduleId, runId: run.id, accuracy: reuse.report.moduleAccuracy, standardAccuracy: reuse.report.standardAccuracy };
    } finally {
      disposeModel(reuse.module);
    }
  } finally {
    if (!memory.modular) disposeModel(modular);
    if (standard && !memory.standard) disposeModel(standard);
  }
}
