import {
  checkpointPosition,
  currentBackend,
  modelCost,
  trainModel,
  TrainingPaused,
  withoutMasks,
  type Dataset,
  type EpochMetrics,
  type Model,
  type TrainConfig,
} from '@mwt/core';
import { blobStore } from '@mwt/db';
import type { TrainModularParams, TrainStandardParams } from '@mwt/shared';
import type { JobContext, PhaseProgress } from '../context.js';
import { epochMetricsData, publishEpochMetrics } from '../live-events.js';
import { loadModel, storeModel } from '../store.js';
import { augmentOf, type DatasetCache } from './datasets.js';

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
  params: TrainStandardParams | TrainModularParams,
  progress: PhaseProgress,
): Promise<TrainedRun> {
  const { prisma, jobId } = ctx;
  const blobs = blobStore(prisma);
  const dataset = await datasets.get(params);
  const backend = currentBackend()?.name ?? null;
  // A run that finished (a resumed pipeline passing through) is only loaded: marking it running
  // again would leave it running, and finish() would then record the job's finished run as failed.
  const finished = await prisma.run.findUnique({ where: { jobId_kind: { jobId, kind } } });
  if (finished?.status === 'completed' && finished.modelArtifactId) {
    return { runId: finished.id, model: await loadModel(prisma, finished.modelArtifactId), dataset };
  }
  const run = await prisma.run.upsert({
    where: { jobId_kind: { jobId, kind } },
    create: { jobId, kind, dataset: params.dataset, model: params.model, config: { ...params }, status: 'running', backend },
    update: { status: 'running', backend },
  });

  const modular = kind === 'modular';
  const config: TrainConfig = {
    epochs: params.epochs,
    batchSize: params.batchSize,
    lr: params.lr,
    momentum: params.momentum,
    nesterov: true,
    weightDecay: params.weightDecay,
    alpha: 'alpha' in params ? params.alpha : 0,
    beta: 'beta' in params ? params.beta : 0,
    seed: params.seed,
    augment: augmentOf(params, dataset),
  };
  const checkpoint = await blobs.readCheckpoint(run.id);
  const state = checkpoint ? new Uint8Array(checkpoint.state) : undefined;
  const resume = state ? resumeMessage(state) : null;
  await progress.report(checkpoint ? checkpoint.epoch / params.epochs : 0, { message: resume ?? 'training' }, true);
  const trained = await trainModel(params.model, dataset, config, {
    modular,
    checkpoint: state,
    callbacks: {
      ...progress.trainerCallbacks(params.epochs),
      onEpoch: async (metrics, trainer) => {
        // The epoch's rows, then its checkpoint: a crash in between resumes from the previous
        // checkpoint, re-trains this epoch and upserts the same metric row, so rows stay unique and
        // continuous. (The checkpoint goes through the blob store, outside Prisma's transaction.)
        await prisma.$transaction([
          prisma.epochMetric.upsert({ where: { runId_epoch: { runId: run.id, epoch: metrics.epoch } }, create: { runId: run.id, ...metrics }, update: metrics }),
          prisma.run.update({ where: { id: run.id }, data: { epochsDone: metrics.epoch, trainAccuracy: metrics.trainAccuracy, testAccuracy: metrics.testAccuracy } }),
        ]);
        publishEpochMetrics(jobId, epochMetricsData(run.id, kind, metrics), dataset.train.count);
        await blobs.writeCheckpoint(run.id, metrics.epoch, await trainer.checkpoint());
        await progress.report(metrics.epoch / params.epochs, { epoch: metrics.epoch, totalEpochs: params.epochs }, true);
      },
    },
  }).catch(async (error: unknown) => {
    // A worker shutting down: keep the epoch's finished batches for whoever resumes the job.
    if (error instanceof TrainingPaused) await blobs.writeCheckpoint(run.id, error.epochsDone, error.checkpoint);
    throw error;
  });
  const final = trained.history[trained.history.length - 1] as EpochMetrics | undefined;
  const artifactId = await storeModel(prisma, { jobId, key: `run:${run.id}:model` }, 'model', `${kind}-${params.model}-${run.id}.tar`, trained.model, {
    kind: 'model',
    dataset: dataset.name,
    preprocessing: dataset.preprocessing,
    outputClasses: dataset.classNames.map((_, i) => i),
    outputClassNames: dataset.classNames,
    hyperParameters: { ...params, kind },
    metrics: { trainAccuracy: final?.trainAccuracy ?? null, testAccuracy: final?.testAccuracy ?? null },
    backend: backend ?? undefined,
  });
  const cost = modelCost(modular ? withoutMasks(trained.model.arch) : trained.model.arch);
  await prisma.$transaction([
    prisma.run.update({
      where: { id: run.id },
      data: { status: 'completed', modelArtifactId: artifactId, wallMs: trained.wallMs, params: cost.params, flops: BigInt(cost.flops), finishedAt: new Date() },
    }),
    // The artifact now holds the final weights: the resumable state is no longer needed.
    prisma.checkpoint.deleteMany({ where: { runId: run.id } }),
  ]);
  return { runId: run.id, model: trained.model, dataset };
}

function resumeMessage(state: Uint8Array): string {
  const { epochsDone, batchesDone, totalBatches } = checkpointPosition(state);
  if (batchesDone === 0) return `resuming after epoch ${epochsDone}`;
  return `resuming epoch ${epochsDone + 1} at batch ${batchesDone + 1} of ${totalBatches}`;
}
