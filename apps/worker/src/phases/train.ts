import { currentBackend, modelCost, trainModel, TrainingPaused, withoutMasks, type Dataset, type EpochMetrics, type Model } from '@mwt/core';
import { SYSTEM_PRINCIPAL } from '@mwt/db';
import type { PipelineParams, TrainModularParams, TrainStandardParams } from '@mwt/shared';
import type { JobContext, PhaseProgress } from '../context.js';
import { epochMetricsData } from '../live-events.js';
import { loadModel, storeModel } from '../store.js';
import type { DatasetCache } from './datasets.js';
import { resumeMessage, trainConfig } from './train-config.js';

export interface TrainedRun {
  runId: string;
  model: Model;
  dataset: Dataset;
}

/**
 * Trains one run of a job (modular or standard), idempotently: the Run row is keyed by (job, kind);
 * a run that already finished is loaded from its artifact; one that was interrupted resumes from its
 * last checkpoint (written after every epoch, and at the batch where a shutting-down worker paused);
 * every epoch's metrics are upserted on (run, epoch), so a retried epoch overwrites its row instead
 * of duplicating it.
 */
export async function trainPhase(
  ctx: JobContext,
  datasets: DatasetCache,
  kind: 'modular' | 'standard',
  params: TrainStandardParams | TrainModularParams | PipelineParams,
  progress: PhaseProgress,
): Promise<TrainedRun> {
  // A pipeline's standard model trains at its own lr (the BN-free baselines at CNNSplitter's).
  const lr = kind === 'standard' && 'standardLr' in params ? params.standardLr : params.lr;
  const { db, jobId } = ctx;
  const dataset = await datasets.get(params);
  const backend = currentBackend()?.name ?? null;
  // A run that finished (a resumed pipeline passing through) is only loaded: marking it running
  // again would leave it running, and finishing the job would then record its finished run as failed.
  const finished = await db.runs.findOfJob(SYSTEM_PRINCIPAL, jobId, kind);
  if (finished?.status === 'completed' && finished.modelArtifactId) {
    return { runId: finished.id, model: await loadModel(db.blobs, finished.modelArtifactId), dataset };
  }
  const run = await db.runs.start({ jobId, kind, dataset: params.dataset, model: params.model, config: { ...params, lr }, backend }, { backend });

  const checkpoint = await db.blobs.readCheckpoint(run.id);
  const state = checkpoint ? new Uint8Array(checkpoint.state) : undefined;
  await progress.report(checkpoint ? checkpoint.epoch / params.epochs : 0, { message: state ? resumeMessage(state) : 'training' }, true);
  const trained = await trainModel(params.model, dataset, trainConfig({ ...params, lr }, dataset), {
    modular: kind === 'modular',
    checkpoint: state,
    callbacks: {
      ...progress.trainerCallbacks(params.epochs),
      onEpoch: async (metrics, trainer) => {
        // The epoch's rows, then its checkpoint: a crash in between resumes from the previous
        // checkpoint, re-trains this epoch and upserts the same metric row, so rows stay unique and
        // continuous. (The checkpoint goes through the blob store, outside Prisma's transaction.)
        await db.runs.recordEpoch(run.id, metrics);
        ctx.publishEpochMetrics(epochMetricsData(run.id, kind, metrics), dataset.train.count);
        await db.blobs.writeCheckpoint(run.id, metrics.epoch, await trainer.checkpoint());
        await progress.report(metrics.epoch / params.epochs, { epoch: metrics.epoch, totalEpochs: params.epochs }, true);
      },
    },
  }).catch(async (error: unknown) => {
    // A worker shutting down: keep the epoch's finished batches for whoever resumes the job.
    if (error instanceof TrainingPaused) await db.blobs.writeCheckpoint(run.id, error.epochsDone, error.checkpoint);
    throw error;
  });
  const final = trained.history[trained.history.length - 1] as EpochMetrics | undefined;
  const modelArtifactId = await storeModel(db.blobs, { jobId, key: `run:${run.id}:model` }, 'model', `${kind}-${params.model}-${run.id}.tar`, trained.model, {
    kind: 'model',
    dataset: dataset.name,
    preprocessing: dataset.preprocessing,
    outputClasses: dataset.classNames.map((_, i) => i),
    outputClassNames: dataset.classNames,
    hyperParameters: { ...params, kind },
    metrics: { trainAccuracy: final?.trainAccuracy ?? null, testAccuracy: final?.testAccuracy ?? null },
    backend: backend ?? undefined,
  });
  const cost = modelCost(kind === 'modular' ? withoutMasks(trained.model.arch) : trained.model.arch);
  await db.runs.complete(run.id, { modelArtifactId, wallMs: trained.wallMs, params: cost.params, flops: BigInt(cost.flops) });
  return { runId: run.id, model: trained.model, dataset };
}
