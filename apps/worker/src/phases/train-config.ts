import { checkpointPosition, type Dataset, type TrainConfig } from '@mwt/core';
import type { TrainModularParams, TrainStandardParams } from '@mwt/shared';
import { augmentOf } from './datasets.js';

/** The trainer's configuration for a train job's params (standard params have no alpha or beta). */
export function trainConfig(params: TrainStandardParams | TrainModularParams, dataset: Dataset): TrainConfig {
  return {
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
}

/** Where a checkpoint resumes training, for the job's message. */
export function resumeMessage(state: Uint8Array): string {
  const { epochsDone, batchesDone, totalBatches } = checkpointPosition(state);
  if (batchesDone === 0) return `resuming after epoch ${epochsDone}`;
  return `resuming epoch ${epochsDone + 1} at batch ${batchesDone + 1} of ${totalBatches}`;
}
