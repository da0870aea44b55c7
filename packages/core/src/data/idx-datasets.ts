/**
 * Datasets stored as four IDX files (train/t10k images and labels, plain or gzipped): full MNIST,
 * Fashion-MNIST (Debian's dataset-fashion-mnist), KMNIST and EMNIST Digits. Where they are looked
 * for, and their official splits, are in the catalog.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { datasetInfo, locateDatasetFiles, type DatasetName } from '../catalog.js';
import { makeDataset, type Dataset } from './dataset.js';
import { DatasetNotFoundError } from './errors.js';
import { resolveDataDir, type FileDatasetOptions } from './files.js';
import { idxSplit, readIdx } from './idx.js';
import { normalizeInterleaved } from './normalize.js';

export const IDX_DATASETS = ['mnist-full', 'fashion-mnist', 'kmnist', 'emnist-digits'] as const satisfies readonly DatasetName[];
export type IdxDatasetName = (typeof IDX_DATASETS)[number];

/** EMNIST stores every image transposed (column-major): turn them upright. */
function transposeImages(pixels: Uint8Array, count: number, side: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  const size = side * side;
  for (let n = 0; n < count; n++) {
    for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) out[n * size + r * side + c] = pixels[n * size + c * side + r];
  }
  return out;
}

export async function loadIdxDataset(name: IdxDatasetName, opts: FileDatasetOptions = {}): Promise<Dataset> {
  const info = datasetInfo(name);
  const files = info.files;
  if (!files) throw new Error(`${name} has no files in the catalog`);
  const lookup = locateDatasetFiles(files, resolveDataDir(opts.dataDir), existsSync);
  if (!lookup.dir) {
    throw new DatasetNotFoundError(
      name,
      files.required.map((names) => names.join(' or ')),
      lookup.searchedDirs,
      `${name}: missing ${lookup.missing.join(', ')}; looked in ${lookup.searchedDirs.join(', ')}. Get ${files.howToGet}, ` +
        `and put them in one of those directories (MWT_DATA_DIR sets the data directory).`,
    );
  }
  const dir = lookup.dir;
  const paths = lookup.found.map((file) => join(dir, file as string));
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(paths.map(async (path) => readIdx(await readFile(path), path)));
  const split = (images: typeof trainImages, labels: typeof trainLabels, imagePath: string, labelPath: string) => {
    const raw = idxSplit(images, labels, info.inputShape, info.numClasses, { images: imagePath, labels: labelPath });
    const pixels = name === 'emnist-digits' ? transposeImages(raw.pixels, raw.count, info.inputShape[0]) : raw.pixels;
    return { images: normalizeInterleaved(pixels, info.preprocessing), labels: raw.labels, count: raw.count };
  };
  return makeDataset(name, info.classNames, info.preprocessing, split(trainImages, trainLabels, paths[0], paths[1]), split(testImages, testLabels, paths[2], paths[3]));
}
