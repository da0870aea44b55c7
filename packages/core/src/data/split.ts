/**
 * Pure operations on Splits: partitioning, subsampling, class subsets and batch gathering.
 * Every function returns new arrays and never mutates its inputs, so one loaded Dataset can
 * be shared by several jobs (e.g. a module-reuse task on a class subset) in one process.
 */
import type { Split } from './dataset.js';
import { createRng, shuffleInPlace } from './random.js';

export { createRng, seededShuffle, batchOrder } from './random.js';

/** Values per sample, derived from the split itself so callers need not pass a shape. */
function sampleSize(split: Split): number {
  const size = split.count === 0 ? 0 : split.images.length / split.count;
  if (!Number.isInteger(size) || split.labels.length !== split.count) {
    throw new RangeError(`inconsistent split: ${split.images.length} values, ${split.labels.length} labels, count ${split.count}`);
  }
  return size;
}

/** Sample indices grouped by label, in ascending label order, each group in original order. */
function indicesByClass(labels: Int32Array): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  labels.forEach((label, index) => {
    const group = groups.get(label);
    if (group) group.push(index);
    else groups.set(label, [index]);
  });
  return new Map([...groups.entries()].sort((a, b) => a[0] - b[0]));
}

/** Copies the listed samples (in that order) into fresh arrays. */
export function gatherBatch(split: Split, indices: ArrayLike<number>, shape: readonly [number, number, number]): { images: Float32Array; labels: Int32Array } {
  const size = shape[0] * shape[1] * shape[2];
  if (split.count > 0 && size !== sampleSize(split)) {
    throw new RangeError(`gatherBatch: shape [${shape.join(', ')}] does not match ${sampleSize(split)} values per sample`);
  }
  const images = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i];
    if (!Number.isInteger(source) || source < 0 || source >= split.count) {
      throw new RangeError(`gatherBatch: index ${source} out of range 0..${split.count - 1}`);
    }
    images.set(split.images.subarray(source * size, (source + 1) * size), i * size);
    labels[i] = split.labels[source];
  }
  return { images, labels };
}

/** gatherBatch, wrapped back into a Split. */
function take(split: Split, indices: ArrayLike<number>): Split {
  const size = sampleSize(split);
  const { images, labels } = gatherBatch(split, indices, [size, 1, 1]);
  return { images, labels, count: labels.length };
}

/**
 * Per class, a seeded `testFraction` (rounded) of its samples goes to test, the rest to
 * train, so both sides keep the class proportions. Each side is then shuffled, so that code
 * reading "the first n samples" does not see one class only.
 */
export function stratifiedIndices(labels: Int32Array, testFraction: number, seed: number): { train: Int32Array; test: Int32Array } {
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`testFraction must be in (0, 1), got ${testFraction}`);
  const rng = createRng(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const group of indicesByClass(labels).values()) {
    shuffleInPlace(group, rng);
    const testCount = Math.round(group.length * testFraction);
    // A loop, not push(...slice): spreading a large class would overflow the argument limit.
    group.forEach((index, rank) => (rank < testCount ? test : train).push(index));
  }
  shuffleInPlace(train, rng);
  shuffleInPlace(test, rng);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

/** Splits one pool of samples into stratified train and test Splits (see stratifiedIndices). */
export function stratifiedSplit(all: Split, testFraction: number, seed: number): { train: Split; test: Split } {
  const { train, test } = stratifiedIndices(all.labels, testFraction, seed);
  return { train: take(all, train), test: take(all, test) };
}

/**
 * At most `n` samples, as class-balanced as the data allows: classes are drawn round-robin
 * from seeded per-class shuffles, so class sizes differ by at most one unless a class runs
 * out (its share then goes to the others). Returns `split` itself when it is small enough.
 */
export function limitSplit(split: Split, n: number, seed: number): Split {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`limitSplit: n must be a positive integer, got ${n}`);
  if (n >= split.count) return split;
  const rng = createRng(seed);
  const groups = [...indicesByClass(split.labels).values()];
  for (const group of groups) shuffleInPlace(group, rng);
  const chosen: number[] = [];
  for (let round = 0; chosen.length < n; round++) {
    for (const group of groups) {
      if (round < group.length && chosen.length < n) chosen.push(group[round]);
    }
  }
  shuffleInPlace(chosen, rng);
  return take(split, chosen);
}

/**
 * The samples whose label is in `classes`, in their original order. With `relabel`,
 * classes[i] becomes label i, which is what a model trained on the sub-task expects.
 * (A copy, not a view: the kept samples are not contiguous.)
 */
export function subsetClasses(split: Split, classes: number[], relabel: boolean): Split {
  const newLabel = new Map<number, number>();
  classes.forEach((cls, i) => {
    if (!Number.isInteger(cls) || cls < 0) throw new RangeError(`subsetClasses: class ${cls} is not a non-negative integer`);
    if (newLabel.has(cls)) throw new RangeError(`subsetClasses: class ${cls} listed twice`);
    newLabel.set(cls, relabel ? i : cls);
  });
  const kept: number[] = [];
  split.labels.forEach((label, index) => {
    if (newLabel.has(label)) kept.push(index);
  });
  const subset = take(split, kept);
  subset.labels = subset.labels.map((label) => newLabel.get(label) ?? label);
  return subset;
}
