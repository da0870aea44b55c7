/**
 * CIFAR-10 from the official "CIFAR-10 binary version" (cifar-10-binary.tar.gz), which
 * extracts to cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin. The official
 * 50,000 / 10,000 train/test split is kept as is.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DATASETS } from '../catalog.js';
import { makeDataset, type Dataset, type Preprocessing } from './dataset.js';
import { DatasetNotFoundError } from './errors.js';
import { candidateDirs, findDirWith, resolveDataDir, type FileDatasetOptions } from './files.js';
import { decodePlanarRecords } from './planar.js';

export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILES = ['test_batch.bin'];
export const CIFAR10_SUBFOLDER = 'cifar-10-batches-bin';
export const CIFAR10_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR10_PREPROCESSING: Preprocessing = {
  scale: 1 / 255,
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.247, 0.2435, 0.2616],
};

function notFound(dirs: string[]): DatasetNotFoundError {
  const expected = [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES];
  const missing = expected.filter((name) => !findDirWith(dirs, [name]));
  return new DatasetNotFoundError(
    'cifar10',
    expected,
    dirs,
    `CIFAR-10 files not found in ${dirs.join(' or ')}. Expected ${expected.join(', ')}` +
      (missing.length < expected.length ? ` (missing: ${missing.join(', ')})` : '') +
      `. Download the "CIFAR-10 binary version" (cifar-10-binary.tar.gz) from the official CIFAR-10 page ` +
      `(https://www.cs.toronto.edu/~kriz/cifar.html) and extract it into ${dirs[dirs.length - 1]}, ` +
      `or point the dataDir option / MWT_DATA_DIR at the directory holding it.`,
  );
}

export async function loadCifar10(opts: FileDatasetOptions = {}): Promise<Dataset> {
  const dirs = candidateDirs(resolveDataDir(opts.dataDir), CIFAR10_SUBFOLDER);
  const dir = findDirWith(dirs, [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES]);
  if (!dir) throw notFound(dirs);
  const read = (names: string[]) => Promise.all(names.map((name) => readFile(join(dir, name))));
  const [trainChunks, testChunks] = await Promise.all([read(CIFAR10_TRAIN_FILES), read(CIFAR10_TEST_FILES)]);
  const { inputShape, numClasses } = DATASETS.cifar10;
  const decode = (chunks: Buffer[], split: string) => decodePlanarRecords(chunks, inputShape, CIFAR10_PREPROCESSING, numClasses, `CIFAR-10 ${split} (${dir})`);
  return makeDataset('cifar10', CIFAR10_CLASS_NAMES, CIFAR10_PREPROCESSING, decode(trainChunks, 'train'), decode(testChunks, 'test'));
}
