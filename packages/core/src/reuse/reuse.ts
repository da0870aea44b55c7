import * as tf from '@tensorflow/tfjs';
import type { AugmentSpec } from '../data/augment.js';
import type { Dataset } from '../data/dataset.js';
import { subsetClasses } from '../data/split.js';
import { modelCost, withoutMasks, type ModelCost } from '../model/cost.js';
import { disposeModel, type Model } from '../model/model.js';
import type { MaskedLayer } from '../modularize/sample-masks.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import { Trainer, type EpochMetrics, type TrainCallbacks } from '../train/trainer.js';
import { addHead, pruneModel } from './prune.js';

export interface ReuseConfig {
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
  /** Fine-tuning augmentation (the reference keeps the training augmentation); absent = none. */
  augment?: AugmentSpec;
}

export interface ReuseReport {
  targetClasses: number[];
  /** Best sub-task test accuracy over the fine-tuning epochs (the module that is kept). */
  moduleAccuracy: number;
  bestEpoch: number;
  /** The standard model's accuracy on the same sub-task (argmax over the target classes' logits). */
  standardAccuracy: number | null;
  /** standardAccuracy - moduleAccuracy, in [0, 1] units (x100 for percentage points). */
  accuracyLoss: number | null;
  keptKernels: number;
  totalKernels: number;
  kernelRetention: number;
  module: ModelCost;
  /** The full model without mask generators (the standard architecture). */
  full: ModelCost;
  history: EpochMetrics[];
}

export interface ReuseInput {
  /** The trained modular model (not modified). */
  modular: Model;
  layers: MaskedLayer[];
  /** Sub-task mask: OR of the target classes' module masks (see subTaskMask). */
  mask: Uint8Array;
  targetClasses: number[];
  dataset: Dataset;
  /** A standard model trained on the same dataset, for the accuracy comparison. */
  standard?: Model;
  config: ReuseConfig;
  callbacks?: TrainCallbacks;
}

/**
 * Builds the module for a sub-task and fine-tunes it (MWT.md section 4): prune, add the head,
 * SGD with Nesterov momentum and cosine annealing over 2x epochs, keep the best epoch on the
 * sub-task test set. The caller owns the returned module.
 */
export async function reuseModule(input: ReuseInput): Promise<{ module: Model; report: ReuseReport }> {
  const { targetClasses, dataset, config } = input;
  for (const c of targetClasses) {
    if (!Number.isInteger(c) || c < 0 || c >= dataset.numClasses) throw new RangeError(`targetClasses: class ${c} does not exist in ${dataset.name}`);
  }
  const train = subsetClasses(dataset.train, targetClasses, true);
  const test = subsetClasses(dataset.test, targetClasses, true);
  const module = addHead(pruneModel(input.modular, input.layers, input.mask), targetClasses.length, config.seed);
  const trainer = new Trainer(
    module,
    { train, test },
    {
      epochs: config.epochs,
      batchSize: config.batchSize,
      lr: config.lr,
      momentum: 0.9,
      nesterov: true,
      weightDecay: 0,
      alpha: 0,
      beta: 0,
      seed: config.seed,
      cosinePeriod: 2 * config.epochs,
      augment: config.augment,
    },
  );
  let best = { accuracy: -1, epoch: 0, values: new Map<string, Float32Array>() };
  try {
    await trainer.run({
      ...input.callbacks,
      onEpoch: async (metrics, t) => {
        if (metrics.testAccuracy > best.accuracy) best = { accuracy: metrics.testAccuracy, epoch: metrics.epoch, values: await snapshot(module) };
        await input.callbacks?.onEpoch?.(metrics, t);
      },
    });
  } catch (error) {
    disposeModel(module);
    throw error;
  } finally {
    trainer.dispose();
  }
  restore(module, best.values);
  const standardAccuracy = input.standard ? await evaluateAccuracy(input.standard.arch, input.standard.params, test, { restrictTo: targetClasses }) : null;
  const keptKernels = input.mask.reduce((n, bit) => n + bit, 0);
  const report: ReuseReport = {
    targetClasses,
    moduleAccuracy: best.accuracy,
    bestEpoch: best.epoch,
    standardAccuracy,
    accuracyLoss: standardAccuracy === null ? null : standardAccuracy - best.accuracy,
    keptKernels,
    totalKernels: input.mask.length,
    kernelRetention: keptKernels / input.mask.length,
    module: modelCost(module.arch),
    full: modelCost(withoutMasks(input.modular.arch)),
    history: trainer.history,
  };
  return { module, report };
}

async function snapshot(model: Model): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all([...model.params].map(async ([name, v]): Promise<[string, Float32Array]> => [name, (await v.data()).slice() as Float32Array])));
}

function restore(model: Model, values: Map<string, Float32Array>): void {
  for (const [name, v] of model.params) {
    const saved = values.get(name);
    if (saved) tf.tidy(() => v.assign(tf.tensor(saved, v.shape)));
  }
}
