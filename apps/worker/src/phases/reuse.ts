import { disposeModel, maskToString, reuseForSubTask, subTaskMask, type Dataset, type Model, type Modularization } from '@mwt/core';
import type { ReuseParams } from '@mwt/shared';
import type { JobContext, PhaseProgress } from '../context.js';
import { epochMetricsData, publishEpochMetrics } from '../live-events.js';
import { InputError } from '../errors.js';
import { loadModel, storeModel } from '../store.js';
import { augmentOf, dataSpecOf, type DatasetCache } from './datasets.js';
import { loadModularization } from './modularize.js';

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
  const { prisma, jobId } = ctx;
  const classes = [...params.targetClasses].sort((a, b) => a - b);
  const done = await prisma.module.findFirst({ where: { jobId, kind: 'reused', modularizationId: params.modularizationId, classes: { equals: classes } } });
  if (done?.runId && done.accuracy !== null) return { moduleId: done.id, runId: done.runId, accuracy: done.accuracy, standardAccuracy: done.standardAccuracy };

  const row = await prisma.modularization.findUnique({ where: { id: params.modularizationId }, include: { run: true } });
  if (!row) throw new InputError(`params.modularizationId: modularization ${params.modularizationId} does not exist`);
  if (!row.run.modelArtifactId) throw new InputError(`params.modularizationId: its run ${row.runId} has no stored model`);
  const dataset = memory.dataset ?? (await datasets.get(dataSpecOf(row.run.config)));
  for (const [i, c] of params.targetClasses.entries()) {
    if (c >= dataset.numClasses) throw new InputError(`params.targetClasses[${i}]: class ${c} does not exist in ${dataset.name} (${dataset.numClasses} classes)`);
  }
  const standard = memory.standard ?? (params.standardRunId ? await standardModel(ctx, params.standardRunId, row.run.dataset) : undefined);
  const modular = memory.modular ?? (await loadModel(prisma, row.run.modelArtifactId));
  const modularization = memory.modularization ?? (await loadModularization(ctx, params.modularizationId));
  // The phase shows at once (GET /jobs/:id), not only at the first throttled batch report.
  await progress.report(0, { message: `fine-tuning the module of classes ${classes.join(', ')}` }, true);
  const run = await prisma.run.upsert({
    where: { jobId_kind: { jobId, kind: 'module' } },
    create: { jobId, kind: 'module', dataset: row.run.dataset, model: row.run.model, config: { ...params }, status: 'running', backend: row.run.backend },
    update: { status: 'running' },
  });
  try {
    const reuse = await reuseForSubTask(modular, modularization, classes, dataset, { ...params, augment: augmentOf(row.run.config, dataset) }, {
      standard,
      callbacks: {
        ...progress.trainerCallbacks(params.epochs),
        onEpoch: async (metrics) => {
          await prisma.epochMetric.upsert({ where: { runId_epoch: { runId: run.id, epoch: metrics.epoch } }, create: { runId: run.id, ...metrics }, update: metrics });
          publishEpochMetrics(jobId, epochMetricsData(run.id, 'module', metrics), null);
          await progress.report(metrics.epoch / params.epochs, { epoch: metrics.epoch, totalEpochs: params.epochs }, true);
        },
      },
    });
    const { report, module } = reuse;
    const mask = subTaskMask(modularization, classes);
    try {
      const artifactId = await storeModel(prisma, { jobId, key: `run:${run.id}:module` }, 'module', `module-${classes.join('-')}-${run.id}.tar`, module, {
        kind: 'module',
        dataset: dataset.name,
        preprocessing: dataset.preprocessing,
        outputClasses: classes,
        outputClassNames: classes.map((c) => dataset.classNames[c]),
        hyperParameters: { ...params, targetClasses: classes },
        metrics: { accuracy: report.moduleAccuracy, bestEpoch: report.bestEpoch, standardAccuracy: report.standardAccuracy, accuracyLoss: report.accuracyLoss },
        moduleMask: maskToString(mask),
        backend: row.run.backend ?? undefined,
      });
      const created = await prisma.$transaction(async (tx) => {
        await tx.run.update({
          where: { id: run.id },
          data: {
            status: 'completed',
            epochsDone: params.epochs,
            testAccuracy: report.moduleAccuracy,
            trainAccuracy: report.history[report.bestEpoch - 1]?.trainAccuracy ?? null,
            wallMs: reuse.wallMs,
            params: report.module.params,
            flops: BigInt(report.module.flops),
            modelArtifactId: artifactId,
            finishedAt: new Date(),
          },
        });
        const key = { modularizationId: params.modularizationId, kind: 'reused' as const, classes, jobId };
        return tx.module.upsert({
          where: { modularizationId_kind_classes_jobId: key },
          update: {},
          create: {
            ...key,
            keptKernels: report.keptKernels,
            totalKernels: report.totalKernels,
            kernelRetention: report.kernelRetention,
            mask: Buffer.from(mask),
            params: report.module.params,
            flops: BigInt(report.module.flops),
            fullParams: report.full.params,
            fullFlops: BigInt(report.full.flops),
            accuracy: report.moduleAccuracy,
            standardAccuracy: report.standardAccuracy,
            accuracyLoss: report.accuracyLoss,
            runId: run.id,
            artifactId,
          },
          select: { id: true },
        });
      });
      return { moduleId: created.id, runId: run.id, accuracy: report.moduleAccuracy, standardAccuracy: report.standardAccuracy };
    } finally {
      disposeModel(module);
    }
  } finally {
    if (!memory.modular) disposeModel(modular);
    if (standard && !memory.standard) disposeModel(standard);
  }
}

async function standardModel(ctx: JobContext, runId: string, dataset: string): Promise<Model> {
  const run = await ctx.prisma.run.findUnique({ where: { id: runId } });
  if (!run) throw new InputError(`params.standardRunId: run ${runId} does not exist`);
  if (run.kind !== 'standard') throw new InputError(`params.standardRunId: run ${runId} is a ${run.kind} run, not a standard one`);
  if (run.status !== 'completed' || !run.modelArtifactId) throw new InputError(`params.standardRunId: run ${runId} is ${run.status}, not completed`);
  if (run.dataset !== dataset) throw new InputError(`params.standardRunId: run ${runId} was trained on ${run.dataset}, the modules on ${dataset}`);
  return loadModel(ctx.prisma, run.modelArtifactId);
}
