/**
 * Training-time augmentation as the reference applies it to CIFAR-10 and SVHN: RandomCrop(side,
 * padding=4) then RandomHorizontalFlip(0.5). The padding is black *pixels* (torchvision pads before
 * normalizing), i.e. `(0 * scale - mean[c]) / std[c]` in our already normalized images. Every draw
 * comes from (seed, epoch, batch), so a resumed run sees exactly the batches of an uninterrupted one.
 */
import type { Augmentation, Preprocessing } from '../catalog.js';
import type { Split } from './dataset.js';
import { createRng } from './random.js';

export const CROP_PADDING = 4;

export interface AugmentSpec {
  kind: Augmentation;
  /** Normalized value of a black pixel, per channel (what the padding holds). */
  fill: number[];
}

/** The augmentation of a dataset's images, given its preprocessing. */
export function augmentSpec(kind: Augmentation, preprocessing: Preprocessing): AugmentSpec {
  return { kind, fill: preprocessing.mean.map((mean, c) => (0 * preprocessing.scale - mean) / preprocessing.std[c]) };
}

/** A 32-bit stream id from (seed, epoch, batch): golden-ratio mixing keeps neighbours unrelated. */
function streamSeed(seed: number, epoch: number, batch: number): number {
  let h = (seed ^ 0x5bd1e995) >>> 0;
  h = Math.imul(h ^ (epoch + 1), 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ (batch + 1), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Augments a batch of NHWC images (a new array; the input is left untouched). `none` returns the
 * input itself.
 */
export function augmentBatch(
  images: Float32Array,
  shape: readonly [number, number, number],
  spec: AugmentSpec,
  draw: { seed: number; epoch: number; batch: number },
): Float32Array {
  if (spec.kind === 'none') return images;
  const [height, width, channels] = shape;
  const size = height * width * channels;
  const count = images.length / size;
  const rng = createRng(streamSeed(draw.seed, draw.epoch, draw.batch));
  const out = new Float32Array(images.length);
  const span = 2 * CROP_PADDING + 1;
  for (let n = 0; n < count; n++) {
    // Offsets of the crop window in the padded image, and the flip: three draws per sample, in this order.
    const top = Math.floor(rng() * span) - CROP_PADDING;
    const left = Math.floor(rng() * span) - CROP_PADDING;
    const flip = rng() < 0.5;
    const base = n * size;
    for (let r = 0; r < height; r++) {
      const sr = r + top;
      for (let col = 0; col < width; col++) {
        const sc = (flip ? width - 1 - col : col) + left;
        const target = base + (r * width + col) * channels;
        if (sr < 0 || sr >= height || sc < 0 || sc >= width) {
          for (let c = 0; c < channels; c++) out[target + c] = spec.fill[c];
        } else {
          const source = base + (sr * width + sc) * channels;
          for (let c = 0; c < channels; c++) out[target + c] = images[source + c];
        }
      }
    }
  }
  return out;
}

/** A whole split augmented once (modularization runs over the augmented training set, as the reference does). */
export function augmentSplit(split: Split, shape: readonly [number, number, number], spec: AugmentSpec, seed: number): Split {
  if (spec.kind === 'none') return split;
  return { ...split, images: augmentBatch(split.images, shape, spec, { seed, epoch: 0, batch: 0 }) };
}
