/**
 * Deterministic randomness for data handling. Splits, subsamples and batch orders must be
 * reproducible from a job's seed alone, so nothing here touches Math.random.
 */

/** mulberry32: a tiny 32-bit PRNG, good enough for shuffling and fast to re-create per epoch. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Anything indexable and writable: plain arrays and typed arrays alike. */
interface Swappable<T> {
  length: number;
  [index: number]: T;
}

/** Fisher-Yates in place; internal so that the exported functions can stay pure. */
export function shuffleInPlace<T>(items: Swappable<T>, rng: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
}

/** A shuffled copy of `items`; the input is left untouched. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const copy = items.slice();
  shuffleInPlace(copy, createRng(seed));
  return copy;
}

/**
 * A permutation of 0..count-1 that depends only on (seed, epoch), so that a resumed or
 * re-run job sees exactly the same batches. The epoch is mixed in with a large odd constant
 * (golden-ratio hashing) so that neighbouring epochs get unrelated streams.
 */
export function batchOrder(count: number, seed: number, epoch: number): Int32Array {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`batchOrder: count must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`batchOrder: epoch must be a non-negative integer, got ${epoch}`);
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const mixed = (seed ^ Math.imul(epoch + 1, 0x9e3779b9)) >>> 0;
  shuffleInPlace(order, createRng(mixed));
  return order;
}
