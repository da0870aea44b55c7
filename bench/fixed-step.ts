/**
 * One SGD step of a model on the first `batch` training samples, with the paper's loss weights and
 * Nesterov momentum: the same step, repeatable, for every speed measurement (bench rows, profilers).
 */
import { buildArchitecture, createModel, disposeModel, gatherBatch, makeDataset, Sgd, trainStep, type Dataset, type ModelName } from '@mwt/core';

export interface FixedStep {
  /** Runs the step once (forward, backward, update). */
  run(): void;
  dispose(): void;
}

export function fixedTrainStep(dataset: Dataset, model: ModelName, modular: boolean, batch: number): FixedStep {
  const arch = buildArchitecture(model, dataset.inputShape, dataset.numClasses, { modular });
  const built = createModel(arch, 0);
  const optimizer = new Sgd(built.params, { momentum: 0.9, nesterov: true, weightDecay: 0 });
  const paramNameOf = new Map([...built.params].map(([name, v]) => [v.name, name]));
  const indices = Array.from({ length: batch }, (_, i) => i % dataset.train.count);
  const { images, labels } = gatherBatch(dataset.train, indices, arch.inputShape);
  const input = { images, labels, lr: 0.05, dropoutSeed: 1, alpha: 0.5, beta: 1.5, modular };
  return {
    run: () => void trainStep(built, optimizer, paramNameOf, input),
    dispose: () => {
      optimizer.dispose();
      disposeModel(built);
    },
  };
}

/** Random CIFAR-10-shaped samples: the step's time does not depend on the pixel values. */
export function syntheticDataset(count: number): Dataset {
  const split = {
    images: Float32Array.from({ length: count * 32 * 32 * 3 }, (_, i) => Math.sin(i * 12.9898) % 1),
    labels: Int32Array.from({ length: count }, (_, i) => i % 10),
    count,
  };
  return makeDataset(
    'cifar10',
    Array.from({ length: 10 }, (_, i) => `class${i}`),
    { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
    split,
    split,
  );
}
