/**
 * Refuses a training job whose estimated peak memory (catalog's estimateTrainingMemory) is above
 * the worker budget (MWT_WORKER_MEMORY_MB): such a job would take its worker down, come back on
 * retry and take down the next one. The message names batchSize, the field a client turns down.
 */
import type { Database, Principal } from '@mwt/db';
import { buildArchitecture, DATASETS, estimateTrainingMemory, formatBytes, isDatasetName, isModelName, MB, type Architecture, type DatasetName } from '@mwt/catalog';
import type { TypedJob } from '@mwt/shared';
import { HttpError } from '../errors.js';

interface TrainingShape {
  arch: Architecture;
  batchSize: number;
  trainSamples: number;
  testSamples: number;
}

const samples = (dataset: DatasetName, trainLimit: number | undefined, testLimit: number | undefined) => ({
  trainSamples: Math.min(trainLimit ?? Infinity, DATASETS[dataset].trainSize),
  testSamples: Math.min(testLimit ?? Infinity, DATASETS[dataset].testSize),
});

/** What the job's largest training step trains: the modular model where there is one (it carries mask generators). */
async function trainingShape(db: Database, principal: Principal, job: TypedJob): Promise<TrainingShape | null> {
  switch (job.type) {
    case 'train-standard':
    case 'train-modular':
    case 'pipeline': {
      const p = job.params;
      const { inputShape, numClasses } = DATASETS[p.dataset];
      const arch = buildArchitecture(p.model, [...inputShape], numClasses, { modular: job.type !== 'train-standard' });
      return { arch, batchSize: p.batchSize, ...samples(p.dataset, p.trainLimit, p.testLimit) };
    }
    case 'reuse': {
      // Fine-tuning trains the combined modules: at most the whole standard network of the run,
      // on at most the run's training set (checkReferences has already checked the reference).
      const run = await db.modularizations.findRunOf(principal, job.params.modularizationId);
      if (!run || !isDatasetName(run.dataset) || !isModelName(run.model)) return null;
      const config = (run.config ?? {}) as { trainLimit?: number; testLimit?: number };
      const { inputShape, numClasses } = DATASETS[run.dataset];
      const arch = buildArchitecture(run.model, [...inputShape], numClasses, { modular: false });
      return { arch, batchSize: job.params.batchSize, ...samples(run.dataset, config.trainLimit, config.testLimit) };
    }
    case 'modularize':
      return null;
  }
}

export async function checkMemoryBudget(db: Database, principal: Principal, job: TypedJob, budgetMb: number): Promise<void> {
  const shape = await trainingShape(db, principal, job);
  if (!shape) return;
  const { totalBytes } = estimateTrainingMemory(shape);
  const budgetBytes = budgetMb * MB;
  if (totalBytes > budgetBytes) {
    throw new HttpError(
      400,
      `body/params/batchSize: job needs an estimated ${formatBytes(totalBytes)}, above the worker budget of ${formatBytes(budgetBytes)} (MWT_WORKER_MEMORY_MB); use a smaller batchSize or model`,
    );
  }
}
