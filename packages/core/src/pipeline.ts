import type { ModelName } from './catalog.js';
import { augmentSplit, type AugmentSpec } from './data/augment.js';
import type { Dataset } from './data/dataset.js';
import { buildArchitecture } from './model/zoo.js';
import { createModel, disposeModel, type Model } from './model/model.js';
import { modularize, subTaskMask, type Modularization } from './modularize/modularizer.js';
import { reuseModule, type ReuseConfig, type ReuseReport } from './reuse/reuse.js';
import { Trainer, type EpochMetrics, type TrainCallbacks, type TrainConfig } from './train/trainer.js';

export interface TrainedModel {
  model: Model;
  history: EpochMetrics[];
  wallMs: number;
}

/** Builds a zoo model for a dataset and trains it (modular: MwT losses; standard: cross-entropy only). */
export async function trainModel(
  name: ModelName,
  dataset: Dataset,
  config: TrainConfig,
  options: { modular: boolean; widthMultiplier?: number; callbacks?: TrainCallbacks; checkpoint?: Uint8Array },
): Promise<TrainedModel> {
  const started = performance.now();
  const arch = buildArchitecture(name, dataset.inputShape, dataset.numClasses, { modular: options.modular, widthMultiplier: options.widthMultiplier });
  const model = createModel(arch, config.seed);
  const trainer = new Trainer(model, dataset, config);
  try {
    if (options.checkpoint) trainer.restore(options.checkpoint);
    const history = await trainer.run(options.callbacks);
    return { model, history, wallMs: Math.round(performance.now() - started) };
  } catch (error) {
    // Stopped, paused or failed: the caller never sees the model, so it must not outlive this call.
    disposeModel(model);
    throw error;
  } finally {
    trainer.dispose();
  }
}

export interface TimedModularization extends Modularization {
  wallMs: number;
}

/**
 * Modularizes a trained modular model on the training set (MWT.md section 3), augmented as in
 * training when `augment` is given (the reference runs it over its augmented training loader).
 */
export async function modularizeModel(model: Model, dataset: Dataset, threshold: number, augment?: { spec: AugmentSpec; seed: number }): Promise<TimedModularization> {
  const started = performance.now();
  const train = augment ? augmentSplit(dataset.train, dataset.inputShape, augment.spec, augment.seed) : dataset.train;
  const result = await modularize(model, train, { threshold, numClasses: dataset.numClasses });
  return { ...result, wallMs: Math.round(performance.now() - started) };
}

export interface TimedReuse {
  module: Model;
  report: ReuseReport;
  wallMs: number;
}

/** Builds and fine-tunes the module of a sub-task, compared with the standard model when given. */
export async function reuseForSubTask(
  modular: Model,
  modularization: Modularization,
  targetClasses: number[],
  dataset: Dataset,
  config: ReuseConfig,
  options: { standard?: Model; callbacks?: TrainCallbacks } = {},
): Promise<TimedReuse> {
  const started = performance.now();
  const { module, report } = await reuseModule({
    modular,
    layers: modularization.layers,
    mask: subTaskMask(modularization, targetClasses),
    targetClasses,
    dataset,
    standard: options.standard,
    config,
    callbacks: options.callbacks,
  });
  return { module, report, wallMs: Math.round(performance.now() - started) };
}
