/**
 * One SGD step of a model on the first `batch` training samples, with the paper's loss weights and
 * Nesterov momentum: the same step, repeatable, for every speed measurement (bench rows, profilers).
 */
import { buildArchitecture, createModel, disposeModel, gatherBatch, Sgd, trainStep, type Dataset, type ModelName } from '@mwt/core';

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
