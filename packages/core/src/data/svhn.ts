/**
 * SVHN (Street View House Numbers), "Format 2: Cropped Digits", official train/test split.
 * Two on-disk forms are accepted, per split, looked for in `<dataDir>/svhn/` then `<dataDir>/`:
 *  - converted: `svhn-train.bin` / `svhn-test.bin`, in the CIFAR-10 binary record layout
 *    (1 label byte 0..9, then 3072 bytes: the 32x32 R plane, G plane, B plane, row-major).
 *    Preferred when present: it loads much faster. Make it once with
 *    `writeFileSync('svhn-train.bin', svhnMatToRecords(readFileSync('train_32x32.mat')))`.
 *  - official: `train_32x32.mat` / `test_32x32.mat` from http://ufldl.stanford.edu/housenumbers/
 *    (MATLAB v5: X uint8 [32,32,3,N] column-major, y double [N,1] with 10 meaning digit 0).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DATASETS } from '../catalog.js';
import { makeDataset, type Dataset, type Preprocessing, type Split } from './dataset.js';
import { DatasetNotFoundError } from './errors.js';
import { candidateDirs, findDirWith, resolveDataDir, type FileDatasetOptions } from './files.js';
import { matVariable, readMat5 } from './mat5.js';
import { pixelLookup } from './normalize.js';
import { decodePlanarRecords } from './planar.js';

export const SVHN_FILES = {
  train: { bin: 'svhn-train.bin', mat: 'train_32x32.mat' },
  test: { bin: 'svhn-test.bin', mat: 'test_32x32.mat' },
} as const;
export const SVHN_SUBFOLDER = 'svhn';
export const SVHN_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const SVHN_PREPROCESSING: Preprocessing = {
  scale: 1 / 255,
  mean: [0.4377, 0.4438, 0.4728],
  std: [0.198, 0.201, 0.197],
};

const SIDE = 32;
const CHANNELS = 3;
const PLANE = SIDE * SIDE;
const IMAGE = PLANE * CHANNELS;

/** X and y of an official SVHN .mat file, validated, with labels mapped to 0..9. */
function svhnArrays(bytes: Uint8Array, source: string): { pixels: Uint8Array; labels: Int32Array; count: number } {
  const file = readMat5(bytes);
  const x = matVariable(file, 'X', source);
  const y = matVariable(file, 'y', source);
  const [h, w, c, count = 1] = x.dims;
  const pixels = x.data;
  if (!(pixels instanceof Uint8Array) || h !== SIDE || w !== SIDE || c !== CHANNELS || x.dims.length > 4) {
    throw new RangeError(`${source}: X must be uint8 [32,32,3,N], got ${x.className} [${x.dims.join(',')}]`);
  }
  if (y.data.length !== count) throw new RangeError(`${source}: y has ${y.data.length} labels for ${count} images`);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const value = y.data[n];
    if (!Number.isInteger(value) || value < 0 || value > 10) throw new RangeError(`${source}: label ${value} at ${n} is not in 0..10`);
    labels[n] = value === 10 ? 0 : value; // SVHN writes digit 0 as class 10 (MATLAB is 1-based)
  }
  return { pixels, labels, count };
}

/** Column-major X: pixel (row, col, ch, n) sits at row + 32*col + 1024*ch + 3072*n. */
function columnMajorIndex(row: number, col: number, ch: number, n: number): number {
  return row + SIDE * col + PLANE * ch + IMAGE * n;
}

/** Decodes an official SVHN .mat file straight into a normalized NHWC Split. */
export function decodeSvhnMat(bytes: Uint8Array, source: string): Split {
  const { pixels, labels, count } = svhnArrays(bytes, source);
  const table = pixelLookup(SVHN_PREPROCESSING);
  const images = new Float32Array(count * IMAGE);
  let out = 0;
  for (let n = 0; n < count; n++) {
    for (let row = 0; row < SIDE; row++) {
      for (let col = 0; col < SIDE; col++) {
        for (let ch = 0; ch < CHANNELS; ch++) images[out++] = table[ch * 256 + pixels[columnMajorIndex(row, col, ch, n)]];
      }
    }
  }
  return { images, labels, count };
}

/** Converts an official SVHN .mat file to the CIFAR-style records of `svhn-*.bin`. */
export function svhnMatToRecords(bytes: Uint8Array): Uint8Array {
  const { pixels, labels, count } = svhnArrays(bytes, 'SVHN .mat');
  const records = new Uint8Array(count * (1 + IMAGE));
  let out = 0;
  for (let n = 0; n < count; n++) {
    records[out++] = labels[n];
    for (let ch = 0; ch < CHANNELS; ch++) {
      for (let row = 0; row < SIDE; row++) {
        for (let col = 0; col < SIDE; col++) records[out++] = pixels[columnMajorIndex(row, col, ch, n)];
      }
    }
  }
  return records;
}

/** Where one split is on disk, preferring the converted .bin form. */
function locateSplit(dirs: string[], names: { bin: string; mat: string }): { path: string; form: 'bin' | 'mat' } | undefined {
  for (const form of ['bin', 'mat'] as const) {
    const dir = findDirWith(dirs, [names[form]]);
    if (dir) return { path: join(dir, names[form]), form };
  }
  return undefined;
}

async function decodeSplit({ path, form }: { path: string; form: 'bin' | 'mat' }): Promise<Split> {
  const bytes = await readFile(path);
  if (form === 'mat') return decodeSvhnMat(bytes, path);
  return decodePlanarRecords([bytes], DATASETS.svhn.inputShape, SVHN_PREPROCESSING, DATASETS.svhn.numClasses, path);
}

function notFound(dirs: string[]): DatasetNotFoundError {
  const { train, test } = SVHN_FILES;
  return new DatasetNotFoundError(
    'svhn',
    [train.bin, test.bin, train.mat, test.mat],
    dirs,
    `SVHN files not found in ${dirs.join(' or ')}. Expected either ${train.mat} and ${test.mat} ` +
      `(the official "Format 2: Cropped Digits" MATLAB files from the SVHN page, http://ufldl.stanford.edu/housenumbers/) ` +
      `or their converted form ${train.bin} and ${test.bin} (CIFAR-10 binary record layout: 1 label byte + 3072 bytes ` +
      `of R, G, B planes; see svhnMatToRecords). Put them in ${dirs[0]} or ${dirs[1]}, or point the dataDir option / MWT_DATA_DIR there.`,
  );
}

export async function loadSvhn(opts: FileDatasetOptions = {}): Promise<Dataset> {
  const dirs = candidateDirs(resolveDataDir(opts.dataDir), SVHN_SUBFOLDER);
  const trainFile = locateSplit(dirs, SVHN_FILES.train);
  const testFile = locateSplit(dirs, SVHN_FILES.test);
  if (!trainFile || !testFile) throw notFound(dirs);
  // Sequential, not Promise.all: decoding a .mat holds the file, its inflated copy and the floats at once.
  const train = await decodeSplit(trainFile);
  const test = await decodeSplit(testFile);
  return makeDataset('svhn', SVHN_CLASS_NAMES, SVHN_PREPROCESSING, train, test);
}
