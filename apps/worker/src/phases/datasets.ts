import { loadDataset, type Dataset, type DatasetName } from '@mwt/core';

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
      dataset = loadDataset(spec.dataset, { seed: spec.seed, trainLimit: spec.trainLimit, testLimit: spec.testLimit });
      this.loaded.set(key, dataset);
    }
    return dataset;
  }
}

export function dataSpecOf(config: unknown): DataSpec {
  const c = config as Partial<DataSpec>;
  if (!c || typeof c.dataset !== 'string' || typeof c.seed !== 'number') throw new Error('run config has no dataset/seed');
  return { dataset: c.dataset, seed: c.seed, trainLimit: c.trainLimit, testLimit: c.testLimit };
}
