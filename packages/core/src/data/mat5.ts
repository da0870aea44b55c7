/**
 * A minimal reader for MATLAB level-5 MAT-files (the format `save -v6` / `-v7` writes),
 * enough for numeric arrays such as the SVHN `X` and `y` variables. Supported: little-endian
 * files, miMATRIX elements (optionally wrapped in zlib miCOMPRESSED), the small data element
 * format, real numeric classes double/single/(u)int8/16/32. Anything else is reported with a
 * clear error rather than guessed at. Reference: MathWorks "MAT-File Format" (matfile_format.pdf).
 */
import { inflateSync } from 'node:zlib';

export type MatNumericClass = 'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32';
export type MatData = Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** One numeric variable; `data` is column-major, as MATLAB stores it. */
export interface MatArray {
  name: string;
  className: MatNumericClass;
  dims: number[];
  data: MatData;
}

export interface MatFile {
  variables: Map<string, MatArray>;
  /** Variables this reader cannot decode, kept so that errors can say what the file holds. */
  skipped: { name: string; reason: string }[];
}

type TypedCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): MatData; BYTES_PER_ELEMENT: number; from(values: ArrayLike<number>): MatData };

/** Storage types (miINT8 = 1 ...); the numbers come from the format spec. */
const STORAGE: Record<number, TypedCtor> = {
  1: Int8Array,
  2: Uint8Array,
  3: Int16Array,
  4: Uint16Array,
  5: Int32Array,
  6: Uint32Array,
  7: Float32Array,
  9: Float64Array,
};
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;

/** Array classes (mxDOUBLE_CLASS = 6 ...); MATLAB may store e.g. a double array as miUINT8 to save space. */
const CLASSES: Record<number, [MatNumericClass, TypedCtor]> = {
  6: ['double', Float64Array],
  7: ['single', Float32Array],
  8: ['int8', Int8Array],
  9: ['uint8', Uint8Array],
  10: ['int16', Int16Array],
  11: ['uint16', Uint16Array],
  12: ['int32', Int32Array],
  13: ['uint32', Uint32Array],
};
const CLASS_NAMES: Record<number, string> = {
  1: 'cell array',
  2: 'struct',
  3: 'object',
  4: 'char array',
  5: 'sparse matrix',
  14: 'int64 array',
  15: 'uint64 array',
};
const COMPLEX_FLAG = 0x0800;

/** Typed arrays use the host byte order; the file is little-endian, so views are only valid on such hosts. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Element {
  type: number;
  start: number;
  size: number;
  /** Offset of the following element. */
  next: number;
}

function readTag(bytes: Uint8Array, offset: number, context: string): Element {
  if (offset + 8 > bytes.length) throw new RangeError(`MAT-file: truncated tag in ${context} at byte ${offset}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  const first = view.getUint32(0, true);
  // Small data element format: size in the upper 16 bits, data in the tag's second word.
  if (first >>> 16 !== 0) return { type: first & 0xffff, start: offset + 4, size: first >>> 16, next: offset + 8 };
  const size = view.getUint32(4, true);
  const start = offset + 8;
  if (start + size > bytes.length) throw new RangeError(`MAT-file: ${context} element at byte ${offset} claims ${size} bytes past the end`);
  // Normal elements are padded to 8 bytes; compressed ones are not.
  const next = first === MI_COMPRESSED ? start + size : start + Math.ceil(size / 8) * 8;
  return { type: first, start, size, next };
}

/**
 * The element's values as a typed array of its storage type. Values are copied (typed-array
 * views need aligned offsets, and the caller's buffer must not be aliased), except bytes from
 * a buffer this reader inflated itself: SVHN's X is 225 MB, not worth a second copy.
 */
function readValues(bytes: Uint8Array, element: Element, context: string, owned = false): MatData {
  const Ctor = STORAGE[element.type];
  if (!Ctor) throw new RangeError(`MAT-file: ${context} has unsupported storage type ${element.type}`);
  const width = Ctor.BYTES_PER_ELEMENT;
  if (element.size % width !== 0) throw new RangeError(`MAT-file: ${context} size ${element.size} is not a multiple of ${width}`);
  if (!HOST_LITTLE_ENDIAN && width > 1) throw new RangeError('MAT-file: reading multi-byte values needs a little-endian host');
  if (owned && width === 1) return new Ctor(bytes.buffer, bytes.byteOffset + element.start, element.size);
  const copy = new Uint8Array(element.size);
  copy.set(bytes.subarray(element.start, element.start + element.size));
  return new Ctor(copy.buffer, 0, element.size / width);
}

/** Decodes one miMATRIX payload into a numeric array, or a reason why it cannot. */
function readMatrix(bytes: Uint8Array, matrix: Element, owned: boolean): MatArray | { name: string; reason: string } {
  const flagsTag = readTag(bytes, matrix.start, 'array flags');
  const flags = readValues(bytes, flagsTag, 'array flags')[0];
  const dimsTag = readTag(bytes, flagsTag.next, 'dimensions');
  const dims = Array.from(readValues(bytes, dimsTag, 'dimensions'));
  const nameTag = readTag(bytes, dimsTag.next, 'array name');
  const name = new TextDecoder('latin1').decode(bytes.subarray(nameTag.start, nameTag.start + nameTag.size));
  const classId = flags & 0xff;
  const cls = CLASSES[classId];
  if (!cls) return { name, reason: `it is a ${CLASS_NAMES[classId] ?? `class ${classId} value`}; only real numeric arrays are supported` };
  if (flags & COMPLEX_FLAG) return { name, reason: 'it is complex; only real numeric arrays are supported' };
  const [className, Ctor] = cls;
  const realTag = readTag(bytes, nameTag.next, `real part of "${name}"`);
  const stored = readValues(bytes, realTag, `real part of "${name}"`, owned);
  const count = dims.reduce((a, b) => a * b, 1);
  if (stored.length !== count) throw new RangeError(`MAT-file: "${name}" has ${stored.length} values for dims [${dims.join(', ')}]`);
  const data = stored instanceof Ctor ? stored : Ctor.from(stored);
  return { name, className, dims, data };
}

export function readMat5(bytes: Uint8Array): MatFile {
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 116));
  if (bytes.length < 128 || !header.startsWith('MATLAB 5.0 MAT-file')) {
    const hint = header.startsWith('MATLAB 7.3') ? ' (it is a v7.3/HDF5 file; re-save it with -v7)' : '';
    throw new RangeError(`not a MATLAB level-5 MAT-file${hint}`);
  }
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (endian !== 'IM') throw new RangeError(`MAT-file: only little-endian files are supported (indicator "${endian}")`);
  const file: MatFile = { variables: new Map(), skipped: [] };
  let offset = 128;
  while (offset + 8 <= bytes.length) {
    const element = readTag(bytes, offset, 'top level');
    offset = element.next;
    const compressed = element.type === MI_COMPRESSED;
    const source = compressed ? inflateSync(bytes.subarray(element.start, element.start + element.size)) : bytes;
    const matrix = compressed ? readTag(source, 0, 'compressed element') : element;
    if (matrix.type !== MI_MATRIX) throw new RangeError(`MAT-file: unsupported top-level element type ${matrix.type}`);
    const result = readMatrix(source, matrix, compressed);
    if ('data' in result) file.variables.set(result.name, result);
    else file.skipped.push(result);
  }
  return file;
}

/** The named numeric variable, or an error saying what the file holds instead. */
export function matVariable(file: MatFile, name: string, source: string): MatArray {
  const found = file.variables.get(name);
  if (found) return found;
  const skipped = file.skipped.find((entry) => entry.name === name);
  if (skipped) throw new RangeError(`${source}: cannot read variable "${name}": ${skipped.reason}`);
  const names = [...file.variables.keys(), ...file.skipped.map((entry) => entry.name)];
  throw new RangeError(`${source}: no variable "${name}" (found: ${names.join(', ') || 'none'})`);
}
