/**
 * The IDX format of MNIST, Fashion-MNIST, KMNIST and EMNIST: magic 0x00 0x00 <type> <rank>, then
 * <rank> big-endian uint32 dimensions, then the values. Only unsigned bytes (type 0x08) occur in
 * these datasets. Files may be gzipped (recognized by the gzip magic, whatever their name).
 */
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parses one IDX file (plain or gzipped); `source` names it in errors. */
export function readIdx(file: Uint8Array, source: string): IdxArray {
  let bytes = file;
  if (isGzip(file)) {
    try {
      bytes = gunzipSync(file);
    } catch (error) {
      throw new RangeError(`${source}: not a valid gzip file (${(error as Error).message})`, { cause: error });
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new RangeError(`${source}: not an IDX file (magic ${magic || 'missing'}, expected 00 00 08 <rank>)`);
  }
  if (bytes[2] !== UNSIGNED_BYTE) throw new RangeError(`${source}: IDX value type 0x${bytes[2].toString(16)} is not unsigned byte (0x08)`);
  const rank = bytes[3];
  const header = 4 + 4 * rank;
  if (rank === 0 || bytes.length < header) throw new RangeError(`${source}: truncated IDX header (rank ${rank}, ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < header + size) {
    throw new RangeError(`${source}: truncated: dims [${dims.join(', ')}] need ${header + size} bytes, the file has ${bytes.length}`);
  }
  if (bytes.length > header + size) throw new RangeError(`${source}: ${bytes.length - header - size} bytes after the [${dims.join(', ')}] values`);
  return { dims, data: bytes.subarray(header, header + size) };
}

/** Encodes unsigned bytes as IDX (tests write their own small files with it). */
export function writeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new RangeError(`writeIdx: dims [${dims.join(', ')}] hold ${size} values, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + size);
  const view = new DataView(out.buffer);
  out.set([0, 0, UNSIGNED_BYTE, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Images [N, H, W] and labels [N] of one split, checked against each other and the class count. */
export function idxSplit(
  images: IdxArray,
  labels: IdxArray,
  shape: readonly [number, number, number],
  numClasses: number,
  sources: { images: string; labels: string },
): { pixels: Uint8Array; labels: Int32Array; count: number } {
  const [height, width] = shape;
  if (images.dims.length !== 3 || images.dims[1] !== height || images.dims[2] !== width) {
    throw new RangeError(`${sources.images}: expected images [N, ${height}, ${width}], got [${images.dims.join(', ')}]`);
  }
  if (labels.dims.length !== 1) throw new RangeError(`${sources.labels}: expected labels [N], got [${labels.dims.join(', ')}]`);
  const count = images.dims[0];
  if (labels.dims[0] !== count) throw new RangeError(`${sources.labels}: ${labels.dims[0]} labels for the ${count} images of ${sources.images}`);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels.data[i];
    if (label >= numClasses) throw new RangeError(`${sources.labels}: label ${label} at ${i} is not a class (0..${numClasses - 1})`);
    out[i] = label;
  }
  return { pixels: images.data, labels: out, count };
}
