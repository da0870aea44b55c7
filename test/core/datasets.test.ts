import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import {
  CIFAR10_PREPROCESSING,
  DatasetNotFoundError,
  MNIST_PREPROCESSING,
  SVHN_PREPROCESSING,
  batchOrder,
  createRng,
  decodePlanarRecords,
  decodeSvhnMat,
  limitSplit,
  loadCifar10,
  loadDataset,
  loadMnist,
  loadMnistPixels,
  loadSvhn,
  matVariable,
  pixelLookup,
  readIdx,
  writeIdx,
  readMat5,
  seededShuffle,
  subsetClasses,
  svhnMatToRecords,
  type Split,
} from '../../packages/core/src/data/index.js';
import { describeInput } from '../../packages/core/src/artifacts/artifact.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'mwt-datasets-'));
after(() => rmSync(tempRoot, { recursive: true, force: true }));

function tempDir(name: string): string {
  const dir = join(tempRoot, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function classCounts(labels: Int32Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  return counts;
}

const sum = (values: Float32Array) => values.reduce((a, b) => a + b, 0);

describe('MNIST', () => {
  test('loads all 10,000 digits, normalized as documented, from the package bytes', async () => {
    const started = performance.now();
    const mnist = await loadMnist();
    const firstMs = performance.now() - started;
    const again = performance.now();
    await loadMnist();
    console.log(`MNIST load: first ${firstMs.toFixed(0)} ms, cached ${(performance.now() - again).toFixed(0)} ms`);

    assert.equal(mnist.train.count + mnist.test.count, 10_000);
    assert.deepEqual(mnist.inputShape, [28, 28, 1]);
    assert.equal(mnist.train.images.length, mnist.train.count * 784);
    assert.deepEqual([...classCounts(mnist.train.labels).keys()].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(mnist.preprocessing, MNIST_PREPROCESSING);

    const lo = (0 - 0.1307) / 0.3081;
    const hi = (1 - 0.1307) / 0.3081;
    const values = mnist.train.images;
    const min = values.reduce((a, b) => Math.min(a, b), Infinity);
    const max = values.reduce((a, b) => Math.max(a, b), -Infinity);
    assert.ok(Math.abs(min - lo) < 1e-6 && Math.abs(max - hi) < 1e-5, `range ${min}..${max}`);
    for (let i = 0; i < 5000; i += 7) {
      const pixel = (values[i] * 0.3081 + 0.1307) * 255;
      assert.ok(Math.abs(pixel - Math.round(pixel)) < 1e-3, `value ${values[i]} is not a normalized byte`);
    }

    // The bytes are the package's digits: spot-check against its own API, then check that
    // train + test is a permutation of them (same normalized total).
    const pkg = createRequire(import.meta.url)('mnist') as { length: number; get(i: number): number[] }[];
    const { pixels, labels } = await loadMnistPixels();
    const offset = pkg[0].length + pkg[1].length + pkg[2].length; // first "3"
    assert.equal(labels[offset + 5], 3);
    assert.deepEqual(
      Array.from(pixels.subarray((offset + 5) * 784, (offset + 6) * 784)),
      pkg[3].get(5).map((v) => Math.round(v * 255)),
    );
    const table = pixelLookup(MNIST_PREPROCESSING);
    const expected = pixels.reduce((acc, p) => acc + table[p], 0);
    assert.ok(Math.abs(sum(mnist.train.images) + sum(mnist.test.images) - expected) < 1e-3 * Math.abs(expected));
  });

  test('split is stratified, reproducible for a seed and different for another', async () => {
    const a = await loadMnist({ seed: 0 });
    const b = await loadMnist({ seed: 0 });
    const c = await loadMnist({ seed: 1 });
    assert.deepEqual(a.test.labels, b.test.labels);
    assert.deepEqual(a.test.images, b.test.images);
    assert.notDeepEqual(a.test.images, c.test.images);

    const { labels } = await loadMnistPixels();
    const total = classCounts(labels);
    const test = classCounts(a.test.labels);
    const train = classCounts(a.train.labels);
    for (const [digit, n] of total) {
      assert.equal(test.get(digit), Math.round(n * 0.2), `test share of ${digit}`);
      assert.equal((train.get(digit) ?? 0) + (test.get(digit) ?? 0), n);
    }
    const custom = await loadMnist({ testFraction: 0.5 });
    assert.ok(Math.abs(custom.test.count - 5000) <= 10);
  });

  test('loadDataset applies class-balanced limits and validates options', async () => {
    const small = await loadDataset('mnist', { trainLimit: 100, testLimit: 50, seed: 3 });
    assert.equal(small.train.count, 100);
    assert.equal(small.test.count, 50);
    assert.deepEqual([...classCounts(small.train.labels).values()], new Array(10).fill(10));
    await assert.rejects(loadDataset('mnist', { testFraction: 1.5 }), (e: Error) => e instanceof RangeError && e.message.includes('testFraction'));
    await assert.rejects(loadDataset('mnist', { trainLimit: 0 }), (e: Error) => e instanceof RangeError && e.message.includes('trainLimit'));
    await assert.rejects(loadDataset('mnist', { seed: 0.5 }), (e: Error) => e instanceof RangeError && e.message.includes('seed'));
  });
});

/** One CIFAR-style record: label, then R, G, B planes with recognizable values. */
function planarRecord(label: number, n: number, side = 32): Uint8Array {
  const plane = side * side;
  const record = new Uint8Array(1 + 3 * plane);
  record[0] = label;
  for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) record[1 + c * plane + p] = knownPixel(n, p, c);
  return record;
}

const knownPixel = (n: number, p: number, c: number) => (n * 31 + p * 7 + c * 85) % 256;

describe('CIFAR-10', () => {
  test('reads binary batches and converts planar CHW to NHWC', async () => {
    const root = tempDir('cifar');
    const dir = tempDir('cifar/cifar-10-batches-bin');
    for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), Buffer.concat([planarRecord(b, 2 * b), planarRecord(9 - b, 2 * b + 1)]));
    writeFileSync(join(dir, 'test_batch.bin'), planarRecord(7, 100));

    const cifar = await loadCifar10({ dataDir: root });
    assert.equal(cifar.train.count, 10);
    assert.deepEqual(Array.from(cifar.train.labels), [1, 8, 2, 7, 3, 6, 4, 5, 5, 4]);
    assert.deepEqual(Array.from(cifar.test.labels), [7]);
    const table = pixelLookup(CIFAR10_PREPROCESSING);
    for (const [n, source] of [
      [0, 2],
      [9, 11],
    ]) {
      for (const p of [0, 1, 33, 1023]) {
        for (let c = 0; c < 3; c++) assert.equal(cifar.train.images[n * 3072 + p * 3 + c], table[c * 256 + knownPixel(source, p, c)]);
      }
    }
    assert.equal(cifar.test.images[5 * 3 + 2], table[2 * 256 + knownPixel(100, 5, 2)]);
  });

  test('missing files raise DatasetNotFoundError naming them and where to get them', async () => {
    const empty = tempDir('empty');
    await assert.rejects(loadDataset('cifar10', { dataDir: empty }), (e: unknown) => {
      assert.ok(e instanceof DatasetNotFoundError);
      assert.equal(e.dataset, 'cifar10');
      assert.equal(e.expectedFiles.length, 6);
      for (const name of ['data_batch_1.bin', 'data_batch_5.bin', 'test_batch.bin']) assert.ok(e.message.includes(name));
      assert.ok(e.message.includes(empty));
      assert.ok(e.message.includes('CIFAR-10 binary version'));
      return true;
    });
    await assert.rejects(loadSvhn({ dataDir: empty }), (e: unknown) => {
      assert.ok(e instanceof DatasetNotFoundError);
      for (const name of ['train_32x32.mat', 'test_32x32.mat', 'svhn-train.bin', 'svhn-test.bin']) assert.ok(e.message.includes(name));
      return true;
    });
  });
});

/** A minimal MAT-file v5 writer, the mirror image of the reader, for synthetic fixtures. */
function matElement(type: number, payload: Uint8Array): Uint8Array {
  if (payload.length <= 4) {
    const small = new Uint8Array(8);
    new DataView(small.buffer).setUint32(0, (payload.length << 16) | type, true);
    small.set(payload, 4);
    return small;
  }
  const out = new Uint8Array(8 + Math.ceil(payload.length / 8) * 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function matMatrix(name: string, classId: number, dims: number[], storageType: number, data: Uint8Array): Uint8Array {
  const bytes = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const payload = Buffer.concat([
    matElement(6, bytes(new Uint32Array([classId, 0]))),
    matElement(5, bytes(new Int32Array(dims))),
    matElement(1, new TextEncoder().encode(name)),
    matElement(storageType, data),
  ]);
  return matElement(14, payload);
}

function matFile(elements: Uint8Array[]): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, written by datasets.test.ts'));
  header.fill(0, 116, 124);
  header.set([0x00, 0x01, 0x49, 0x4d], 124); // version 0x0100, endian indicator "IM"
  return Buffer.concat([header, ...elements]);
}

function compressed(element: Uint8Array): Uint8Array {
  const deflated = deflateSync(element);
  const tag = new Uint8Array(8);
  new DataView(tag.buffer).setUint32(0, 15, true);
  new DataView(tag.buffer).setUint32(4, deflated.length, true);
  return Buffer.concat([tag, deflated]);
}

describe('SVHN / MAT-file v5', () => {
  const count = 3;
  const xValue = (row: number, col: number, ch: number, n: number) => (row * 7 + col * 3 + ch * 50 + n * 11) % 256;
  const x = new Uint8Array(32 * 32 * 3 * count);
  for (let n = 0; n < count; n++) {
    for (let ch = 0; ch < 3; ch++) {
      for (let col = 0; col < 32; col++) for (let row = 0; row < 32; row++) x[row + 32 * col + 1024 * ch + 3072 * n] = xValue(row, col, ch, n);
    }
  }
  const yDoubles = new Float64Array([10, 1, 7]);
  const xElement = matMatrix('X', 9, [32, 32, 3, count], 2, x);
  // MATLAB stores small integral doubles as miUINT8; the plain file uses miDOUBLE instead.
  const plain = matFile([xElement, matMatrix('y', 6, [count, 1], 9, new Uint8Array(yDoubles.buffer))]);
  const zipped = matFile([compressed(xElement), compressed(matMatrix('y', 6, [count, 1], 2, Uint8Array.from(yDoubles)))]);

  test('reads uncompressed and zlib-compressed numeric arrays', () => {
    for (const bytes of [plain, zipped]) {
      const file = readMat5(bytes);
      const xs = matVariable(file, 'X', 'fixture');
      assert.equal(xs.className, 'uint8');
      assert.deepEqual(xs.dims, [32, 32, 3, count]);
      assert.deepEqual(xs.data, x);
      const ys = matVariable(file, 'y', 'fixture');
      assert.equal(ys.className, 'double');
      assert.deepEqual(ys.data, yDoubles);
    }
    const withChar = matFile([matMatrix('s', 4, [1, 2], 4, new Uint8Array([104, 0, 105, 0]))]);
    assert.throws(() => matVariable(readMat5(withChar), 's', 'fixture'), /char array/);
    assert.throws(() => matVariable(readMat5(plain), 'Z', 'fixture'), /no variable "Z".*X, y/);
    assert.throws(() => readMat5(new Uint8Array(200)), /not a MATLAB level-5/);
  });

  test('decodes X column-major to NHWC and maps label 10 to 0', () => {
    const table = pixelLookup(SVHN_PREPROCESSING);
    for (const bytes of [plain, zipped]) {
      const split = decodeSvhnMat(bytes, 'fixture');
      assert.deepEqual(Array.from(split.labels), [0, 1, 7]);
      for (const [row, col, n] of [
        [0, 0, 0],
        [0, 1, 1],
        [5, 17, 2],
        [31, 31, 2],
      ]) {
        for (let ch = 0; ch < 3; ch++) {
          assert.equal(split.images[n * 3072 + (row * 32 + col) * 3 + ch], table[ch * 256 + xValue(row, col, ch, n)]);
        }
      }
      const viaRecords = decodePlanarRecords([svhnMatToRecords(bytes)], [32, 32, 3], SVHN_PREPROCESSING, 10, 'records');
      assert.deepEqual(viaRecords, split);
    }
  });

  test('loads from .mat files or their converted .bin form', async () => {
    const matRoot = tempDir('svhn-mat');
    writeFileSync(join(tempDir('svhn-mat/svhn'), 'train_32x32.mat'), zipped);
    writeFileSync(join(matRoot, 'test_32x32.mat'), plain);
    const fromMat = await loadDataset('svhn', { dataDir: matRoot });
    assert.deepEqual(Array.from(fromMat.train.labels), [0, 1, 7]);

    const binRoot = tempDir('svhn-bin');
    writeFileSync(join(binRoot, 'svhn-train.bin'), svhnMatToRecords(zipped));
    writeFileSync(join(binRoot, 'svhn-test.bin'), svhnMatToRecords(plain));
    const fromBin = await loadDataset('svhn', { dataDir: binRoot });
    assert.deepEqual(fromBin.train, fromMat.train);
    assert.deepEqual(fromBin.test, fromMat.test);
  });
});

/** `count` samples of 2 values each; sample i holds [i, label]. */
function syntheticSplit(labels: number[]): Split {
  const images = new Float32Array(labels.length * 2);
  labels.forEach((label, i) => images.set([i, label], i * 2));
  return { images, labels: Int32Array.from(labels), count: labels.length };
}

describe('split utilities', () => {
  test('subsetClasses keeps the listed classes and optionally relabels them', () => {
    const split = syntheticSplit([0, 1, 2, 3, 4, 3, 1, 0]);
    const relabeled = subsetClasses(split, [3, 1], true);
    assert.equal(relabeled.count, 4);
    assert.deepEqual(Array.from(relabeled.labels), [1, 0, 0, 1]);
    assert.deepEqual(Array.from(relabeled.images), [1, 1, 3, 3, 5, 3, 6, 1]);
    assert.deepEqual(Array.from(subsetClasses(split, [3, 1], false).labels), [1, 3, 3, 1]);
    assert.deepEqual(Array.from(split.labels), [0, 1, 2, 3, 4, 3, 1, 0], 'input untouched');
    assert.throws(() => subsetClasses(split, [1, 1], true), /twice/);
  });

  test('batchOrder is a permutation reproducible per (seed, epoch)', () => {
    const order = batchOrder(1000, 42, 3);
    assert.deepEqual(order, batchOrder(1000, 42, 3));
    assert.notDeepEqual(order, batchOrder(1000, 42, 4));
    assert.notDeepEqual(order, batchOrder(1000, 43, 3));
    assert.deepEqual(
      Array.from(order).sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    const rng = createRng(7);
    const draws = Array.from({ length: 1000 }, rng);
    assert.ok(draws.every((v) => v >= 0 && v < 1));
    assert.deepEqual(draws, Array.from({ length: 1000 }, createRng(7)));
    assert.deepEqual(seededShuffle([1, 2, 3, 4, 5], 9), seededShuffle([1, 2, 3, 4, 5], 9));
  });

  test('limitSplit balances classes, reproducibly', () => {
    const split = syntheticSplit([...new Array(50).fill(0), ...new Array(30).fill(1), ...new Array(5).fill(2)]);
    const countsOf = (limited: Split) => [0, 1, 2].map((c) => classCounts(limited.labels).get(c) ?? 0);
    const balanced = limitSplit(split, 15, 1);
    assert.deepEqual(countsOf(balanced), [5, 5, 5]);
    // Class 2 runs out after 5: its share goes to the others, which stay within one of each other.
    assert.deepEqual(countsOf(limitSplit(split, 40, 1)), [18, 17, 5]);
    assert.deepEqual(limitSplit(split, 15, 1), balanced);
    assert.notDeepEqual(limitSplit(split, 15, 2).images, balanced.images);
    for (let i = 0; i < balanced.count; i++) assert.equal(balanced.images[i * 2 + 1], balanced.labels[i], 'images follow labels');
    assert.equal(limitSplit(split, 1000, 1), split);
  });
});

describe('IDX datasets (full MNIST, Fashion-MNIST, KMNIST, EMNIST)', () => {
  const IDX_NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

  /** Images whose pixel (r, c) of sample n is (n * 7 + r * 28 + c) % 256, and labels n % 10. */
  function writeIdxDataset(dir: string, counts: [number, number], options: { gzip?: boolean; prefix?: string } = {}): Uint8Array[] {
    const pixels = counts.map((count) => Uint8Array.from({ length: count * 784 }, (_, i) => (Math.floor(i / 784) * 7 + (i % 784)) % 256));
    const labels = counts.map((count) => Uint8Array.from({ length: count }, (_, n) => n % 10));
    const files = [writeIdx([counts[0], 28, 28], pixels[0]), writeIdx([counts[0]], labels[0]), writeIdx([counts[1], 28, 28], pixels[1]), writeIdx([counts[1]], labels[1])];
    IDX_NAMES.forEach((name, i) => {
      const file = `${options.prefix ?? ''}${name}${options.gzip ? '.gz' : ''}`;
      writeFileSync(join(dir, file), options.gzip ? gzipSync(files[i]) : files[i]);
    });
    return pixels;
  }

  test('reads plain and gzipped IDX files', () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const plain = writeIdx([2, 3], data);
    assert.deepEqual(readIdx(plain, 'plain'), { dims: [2, 3], data });
    const gzipped = readIdx(gzipSync(plain), 'gzipped');
    assert.deepEqual([gzipped.dims, Array.from(gzipped.data)], [[2, 3], Array.from(data)]);
  });

  test('wrong magic, truncated files and trailing bytes are clear errors', () => {
    const good = writeIdx([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6]));
    assert.throws(() => readIdx(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'x.zip'), /x\.zip: not an IDX file \(magic 50 4b 03 04/);
    assert.throws(() => readIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]), 'floats'), /floats: IDX value type 0xd is not unsigned byte/);
    assert.throws(() => readIdx(good.subarray(0, good.length - 2), 'short'), /short: truncated: dims \[2, 3\] need 18 bytes, the file has 16/);
    assert.throws(() => readIdx(good.subarray(0, 6), 'header'), /header: truncated IDX header/);
    assert.throws(() => readIdx(Uint8Array.from([...good, 9]), 'long'), /long: 1 bytes after the \[2, 3\] values/);
    assert.throws(() => readIdx(gzipSync(good).subarray(0, 12), 'cut.gz'), /cut\.gz: not a valid gzip file/);
  });

  test('loads fashion-mnist from the data directory with the official class names, normalized as documented', async () => {
    const dir = tempDir('fashion/fashion-mnist');
    const pixels = writeIdxDataset(dir, [30, 20], { gzip: true });
    const fashion = await loadDataset('fashion-mnist', { dataDir: join(tempRoot, 'fashion') });
    assert.deepEqual([fashion.train.count, fashion.test.count], [30, 20]);
    assert.equal(fashion.classNames[9], 'Ankle boot');
    assert.deepEqual(Array.from(fashion.test.labels.subarray(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const { mean, std } = fashion.preprocessing;
    const expected = (p: number) => Math.fround((p / 255 - mean[0]) / std[0]);
    for (const i of [0, 100, 784 * 29 + 783]) assert.equal(fashion.train.images[i], expected(pixels[0][i]));
  });

  test('turns EMNIST images upright (they are stored transposed)', async () => {
    const dir = tempDir('emnist-root/emnist');
    const pixels = writeIdxDataset(dir, [2, 2], { prefix: 'emnist-digits-' });
    const emnist = await loadDataset('emnist-digits', { dataDir: join(tempRoot, 'emnist-root') });
    const lookup = pixelLookup(emnist.preprocessing);
    // Row 2, column 5 of the loaded image is row 5, column 2 of the stored one.
    assert.equal(emnist.train.images[784 + 2 * 28 + 5], lookup[pixels[0][784 + 5 * 28 + 2]]);
  });

  test('label/image count mismatches, labels out of range and missing files say what and where', async () => {
    const dir = tempDir('mismatch');
    writeIdxDataset(dir, [4, 3]);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), writeIdx([5], Uint8Array.from([0, 1, 2, 3, 4])));
    await assert.rejects(loadDataset('mnist-full', { dataDir: dir }), /train-labels-idx1-ubyte: 5 labels for the 4 images of .*train-images-idx3-ubyte/);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), writeIdx([4], Uint8Array.from([0, 1, 12, 3])));
    await assert.rejects(loadDataset('kmnist', { dataDir: dir }), /label 12 at 2 is not a class \(0\.\.9\)/);

    const partial = tempDir('partial');
    writeIdxDataset(partial, [4, 3]);
    rmSync(join(partial, 't10k-labels-idx1-ubyte'));
    await assert.rejects(loadDataset('mnist-full', { dataDir: partial }), (e: unknown) => {
      assert.ok(e instanceof DatasetNotFoundError);
      assert.ok(e.message.includes('missing t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz'), e.message);
      assert.ok(e.message.includes(join(partial, 'mnist')) && e.message.includes(partial), e.message);
      return true;
    });
  });

  test("metadata states the input as raw 0..255 pixels and the transform that gives the dataset's own inputs", async () => {
    const input = describeInput(MNIST_PREPROCESSING);
    assert.deepEqual(input.pixelRange, [0, 255]);
    assert.deepEqual(input.transform, ['x = (pixel / 255 - 0.1307) / 0.3081']);
    // Applied literally to the raw bytes, the formula reproduces the inputs the model was trained on.
    const { pixels } = await loadMnistPixels();
    const mnist = await loadMnist({ testFraction: 0.2 });
    const all = new Set(Array.from(mnist.train.images.subarray(0, 784 * 50)));
    for (const p of [0, 1, 128, 255]) assert.ok(all.has(Math.fround((p / 255 - 0.1307) / 0.3081)) || !pixels.includes(p));
  });
});
