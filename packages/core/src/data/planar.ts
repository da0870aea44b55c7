/**
 * The CIFAR-10 binary record layout, also used for converted SVHN files: each record is
 * 1 label byte, then the image as planes (all R, then all G, then all B, each row-major).
 * Models take NHWC, so decoding interleaves the planes while normalizing.
 */
import type { Preprocessing, Split } from './dataset.js';
import { pixelLookup } from './normalize.js';

/** Decodes concatenated records of `height x width x channels` images into one Split. */
export function decodePlanarRecords(chunks: Uint8Array[], shape: readonly [number, number, number], preprocessing: Preprocessing, numClasses: number, source: string): Split {
  const [height, width, channels] = shape;
  const plane = height * width;
  const imageSize = plane * channels;
  const recordSize = 1 + imageSize;
  let count = 0;
  for (const chunk of chunks) {
    if (chunk.length % recordSize !== 0) {
      throw new RangeError(`${source}: ${chunk.length} bytes is not a whole number of ${recordSize}-byte records`);
    }
    count += chunk.length / recordSize;
  }
  const table = pixelLookup(preprocessing);
  const images = new Float32Array(count * imageSize);
  const labels = new Int32Array(count);
  let n = 0;
  for (const chunk of chunks) {
    for (let offset = 0; offset < chunk.length; offset += recordSize, n++) {
      const label = chunk[offset];
      if (label >= numClasses) throw new RangeError(`${source}: record ${n} has label ${label}, expected 0..${numClasses - 1}`);
      labels[n] = label;
      const out = n * imageSize;
      for (let c = 0; c < channels; c++) {
        const planeStart = offset + 1 + c * plane;
        const lut = c * 256;
        for (let p = 0; p < plane; p++) images[out + p * channels + c] = table[lut + chunk[planeStart + p]];
      }
    }
  }
  return { images, labels, count };
}
