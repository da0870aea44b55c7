/** The one entry point jobs use: a dataset by name, with its split and optional size limits. */
import { DATASET_NAMES, isDatasetName } from '../catalog.js';
import { loadCifar10 } from './cifar10.js';
import { loadIdxDataset } from './idx-datasets.js';
import type { Dataset, DatasetName } from './dataset.js';
import { loadMnist } from './mnist.js';
import { limitSplit } from './split.js';
import { loadSvhn } from './svhn.js';

export interface LoadOptions {
  /** Directory of the file-based datasets (all but the bundled mnist). Default: env MWT_DATA_DIR, else ./data. */
  dataDir?: string;
  /** Seed of the MNIST split and of the limit subsamples. Default 0. */
  seed?: number;
  /** Bundled mnist only, in (0, 1); the file-based datasets keep their official split. Default 0.2. */
  testFraction?: number;
  /** Keep at most this many train samples, class-balanced (see limitSplit). */
  trainLimit?: number;
  /** Keep at most this many test samples, class-balanced. */
  testLimit?: number;
}

/** Job payloads reach here from users, so bad options fail early and say which option. */
export function validateLoadOptions(opts: LoadOptions): void {
  const fail = (option: string, expected: string, value: unknown) => {
    throw new RangeError(`loadDataset: option "${option}" must be ${expected}, got ${String(value)}`);
  };
  const { dataDir, seed, testFraction, trainLimit, testLimit } = opts;
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir.length === 0)) fail('dataDir', 'a non-empty string', dataDir);
  if (seed !== undefined && !Number.isSafeInteger(seed)) fail('seed', 'an integer', seed);
  if (testFraction !== undefined && !(typeof testFraction === 'number' && testFraction > 0 && testFraction < 1)) {
    fail('testFraction', 'a number in (0, 1)', testFraction);
  }
  for (const [option, value] of [
    ['trainLimit', trainLimit],
    ['testLimit', testLimit],
  ] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) fail(option, 'a positive integer', value);
  }
}

function loadFull(name: DatasetName, opts: LoadOptions): Promise<Dataset> {
  switch (name) {
    case 'mnist':
      return loadMnist({ seed: opts.seed, testFraction: opts.testFraction });
    case 'cifar10':
      return loadCifar10({ dataDir: opts.dataDir });
    case 'svhn':
      return loadSvhn({ dataDir: opts.dataDir });
    case 'mnist-full':
    case 'fashion-mnist':
    case 'kmnist':
    case 'emnist-digits':
      return loadIdxDataset(name, { dataDir: opts.dataDir });
  }
}

export async function loadDataset(name: DatasetName, opts: LoadOptions = {}): Promise<Dataset> {
  if (!isDatasetName(name)) throw new RangeError(`loadDataset: unknown dataset "${String(name)}" (known: ${DATASET_NAMES.join(', ')})`);
  validateLoadOptions(opts);
  const dataset = await loadFull(name, opts);
  const seed = opts.seed ?? 0;
  return {
    ...dataset,
    train: opts.trainLimit ? limitSplit(dataset.train, opts.trainLimit, seed) : dataset.train,
    test: opts.testLimit ? limitSplit(dataset.test, opts.testLimit, seed) : dataset.test,
  };
}
