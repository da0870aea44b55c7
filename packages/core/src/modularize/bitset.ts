/**
 * Kernel masks as packed bits, so that the pairwise Jaccard indices of thousands of samples
 * (MWT.md section 3) are a few popcounts per pair instead of a loop over every kernel.
 */
export class PackedBits {
  readonly words: Uint32Array;
  readonly wordsPerRow: number;

  constructor(
    readonly rows: number,
    readonly bits: number,
  ) {
    this.wordsPerRow = Math.ceil(bits / 32);
    this.words = new Uint32Array(rows * this.wordsPerRow);
  }

  set(row: number, bit: number): void {
    this.words[row * this.wordsPerRow + (bit >>> 5)] |= 1 << (bit & 31);
  }

  get(row: number, bit: number): boolean {
    return (this.words[row * this.wordsPerRow + (bit >>> 5)] & (1 << (bit & 31))) !== 0;
  }

  /** A row ANDed with a 0/1 mask (packed the same way). */
  andRow(row: number, mask: Uint32Array): Uint32Array {
    const out = new Uint32Array(this.wordsPerRow);
    for (let w = 0; w < this.wordsPerRow; w++) out[w] = this.words[row * this.wordsPerRow + w] & mask[w];
    return out;
  }
}

export function packMask(bits: ArrayLike<number>): Uint32Array {
  const packed = new Uint32Array(Math.ceil(bits.length / 32));
  for (let i = 0; i < bits.length; i++) if (bits[i]) packed[i >>> 5] |= 1 << (i & 31);
  return packed;
}

export function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** |a AND b| / |a OR b|; two empty sets count as identical (1). */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  let intersection = 0;
  let union = 0;
  for (let w = 0; w < a.length; w++) {
    intersection += popcount(a[w] & b[w]);
    union += popcount(a[w] | b[w]);
  }
  return union === 0 ? 1 : intersection / union;
}

/** Mean Jaccard index over all unordered pairs of a list of packed masks (1 for fewer than 2). */
export function meanPairwiseJaccard(masks: Uint32Array[]): number {
  if (masks.length < 2) return 1;
  let sum = 0;
  for (let i = 0; i < masks.length; i++) for (let j = i + 1; j < masks.length; j++) sum += jaccard(masks[i], masks[j]);
  return sum / ((masks.length * (masks.length - 1)) / 2);
}
