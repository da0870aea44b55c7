import { maskToString, type Dataset, type Model, type TimedReuse } from '@mwt/core';
import type { ReuseParams } from '@mwt/shared';
import type { JobContext } from '../context.js';
import { storeModel } from '../store.js';

/** What a finished fine-tuning leaves to store: its result, the sub-task's mask and classes, and where it ran. */
export interface FineTuned {
  runId: string;
  reuse: TimedReuse;
  mask: Uint8Array;
  classes: number[];
  dataset: Dataset;
  backend: string | null;
}

/**
 * Stores the reused module as a downloadable LayersModel, then marks its fine-tuning run completed
 * and records the module, in one transaction; returns the module's id.
 */
export async function storeReusedModule(ctx: JobContext, params: ReuseParams, module: Model, tuned: FineTuned): Promise<string> {
  const { runId, reuse, mask, classes, dataset } = tuned;
  const { report } = reuse;
  const artifactId = await storeModel(ctx.db.blobs, { jobId: ctx.jobId, key: `run:${runId}:module` }, 'module', `module-${classes.join('-')}-${runId}.tar`, module, {
    kind: 'module',
    dataset: dataset.name,
    preprocessing: dataset.preprocessing,
    outputClasses: classes,
    outputClassNames: classes.map((c) => dataset.classNames[c]),
    hyperParameters: { ...params, targetClasses: classes },
    metrics: { accuracy: report.moduleAccuracy, bestEpoch: report.bestEpoch, standardAccuracy: report.standardAccuracy, accuracyLoss: report.accuracyLoss },
    moduleMask: maskToString(mask),
    backend: tuned.backend ?? undefined,
  });
  const run = {
    runId,
    fields: {
      epochsDone: params.epochs,
      testAccuracy: report.moduleAccuracy,
      trainAccuracy: report.history[report.bestEpoch - 1]?.trainAccuracy ?? null,
      wallMs: reuse.wallMs,
      params: report.module.params,
      flops: BigInt(report.module.flops),
      modelArtifactId: artifactId,
    },
  };
  return ctx.db.modules.storeReused(
    { modularizationId: params.modularizationId, classes, jobId: ctx.jobId },
    {
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
      artifactId,
    },
    run,
  );
}
