/** Training throughput of the bench model: modular and standard SGD steps, on the active tfjs backend. */
import * as tf from '@tensorflow/tfjs';
import { buildArchitecture, createModel, disposeModel, gatherBatch, Sgd, trainStep, type Dataset, type ModelName } from '@mwt/core';
import { timeSteps, type BenchRow } from './table';

export interface TrainingBenchOptions {
  model: ModelName;
  batches: number[];
  /** Timed steps at least (after warmup). */
  minSteps: number;
  minMs: number;
  warmup: number;
}

/** ms per step of one model variant at one batch size, with tensor-leak detection. */
export function msPerTrainStep(dataset: Dataset, model: ModelName, modular: boolean, batch: number, timing: { warmup: number; minSteps: number; minMs: number }): number {
  const arch = buildArchitecture(model, dataset.inputShape, dataset.numClasses, { modular });
  const built = createModel(arch, 0);
  const optimizer = new Sgd(built.params, { momentum: 0.9, nesterov: true, weightDecay: 0 });
  const paramNameOf = new Map([...built.params].map(([name, v]) => [v.name, name]));
  const indices = Array.from({ length: batch }, (_, i) => i % dataset.train.count);
  const { images, labels } = gatherBatch(dataset.train, indices, arch.inputShape);
  const input = { images, labels, lr: 0.05, dropoutSeed: 1, alpha: 0.5, beta: 1.5, modular };
  try {
    trainStep(built, optimizer, paramNameOf, input);
    const tensors = tf.memory().numTensors;
    const ms = timeSteps(() => trainStep(built, optimizer, paramNameOf, input), timing);
    if (tf.memory().numTensors !== tensors) throw new Error(`training step leaks ${tf.memory().numTensors - tensors} tensors`);
    return ms;
  } finally {
    optimizer.dispose();
    disposeModel(built);
  }
}

export function benchTraining(dataset: Dataset, options: TrainingBenchOptions): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const batch of options.batches) {
    for (const modular of [true, false]) {
      const ms = msPerTrainStep(dataset, options.model, modular, batch, options);
      rows.push({
        section: 'training',
        case: `${modular ? 'modular' : 'standard'} step ${options.model}`,
        backend: tf.getBackend(),
        batch,
        msPerStep: ms,
        samplesPerSec: (batch * 1000) / ms,
      });
    }
  }
  return rows;
}
