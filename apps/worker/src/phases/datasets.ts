import { augmentSpec, AUGMENTATIONS, DatasetNotFoundError, defaultAugmentation, loadDataset, type AugmentSpec, type Dataset, type DatasetName } from '@mwt/core';
import { InputError } from '../errors.js';

/** What identifies the exact data a run saw: stored in Run.config, reused by later phases. */
export interface DataSpec {
  dataset: DatasetName;
  seed: number;
  trainLimit?: number;
  testLimit?: number;
}

/**
 * Datasets by spec, loaded once per job: a pipeline's four phases share one copy, and a modularize
 * or reuse job sees exactly the split its training run saw (same seed and limits).
 */
export class DatasetCache {
  private readonly loaded = new Map<string, Promise<Dataset>>();

  get(spec: DataSpec): Promise<Dataset> {
    const key = JSON.stringify([spec.dataset, spec.seed, spec.trainLimit ?? null, spec.testLimit ?? null]);
    let dataset = this.loaded.get(key);
    if (!dataset) {
      dataset = loadDataset(spec.dataset, { seed: spec.seed, trainLimit: spec.trainLimit, testLimit: spec.testLimit }).catch(asInputError);
      this.loaded.set(key, dataset);
    }
    return dataset;
  }
}

/**
 * Missing dataset files (the message says which, and where they were looked for) and malformed ones
 * (RangeError from the readers) fail the job once: a retry a few seconds later cannot fix them.
 */
function asInputError(error: unknown): never {
  if (error instanceof DatasetNotFoundError || error instanceof RangeError) throw new InputError(error.message);
  throw error;
}

export function dataSpecOf(config: unknown): DataSpec {
  const c = config as Partial<DataSpec>;
  if (!c || typeof c.dataset !== 'string' || typeof c.seed !== 'number') throw new InputError('the run has no dataset/seed in its config');
  return { dataset: c.dataset, seed: c.seed, trainLimit: c.trainLimit, testLimit: c.testLimit };
}

/** A run's augmentation (its `augment` param, else the dataset's default), for training, modularizing and reuse alike. */
export function augmentOf(config: unknown, dataset: Dataset): AugmentSpec {
  const requested = (config as { augment?: unknown } | null)?.augment;
  const kind = AUGMENTATIONS.find((a) => a === requested) ?? defaultAugmentation(dataset.name);
  return augmentSpec(kind, dataset.preprocessing);
}
