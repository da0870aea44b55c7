/**
 * A small binary container for named float32 arrays plus a JSON header:
 *   "MWTB" | u32 header length | header JSON (utf-8) | float32 data, 4-byte aligned
 * Used for checkpoints, where the exact bits of every variable must come back.
 */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

interface Header<Meta> {
  meta: Meta;
  arrays: { name: string; shape: number[]; offset: number; length: number }[];
}

const MAGIC = 'MWTB';

export function encodeBundle<Meta>(meta: Meta, arrays: Map<string, NamedArray>): Uint8Array {
  let offset = 0;
  const entries: Header<Meta>['arrays'] = [];
  for (const [name, { shape, data }] of arrays) {
    entries.push({ name, shape, offset, length: data.length });
    offset += data.length;
  }
  const headerBytes = new TextEncoder().encode(JSON.stringify({ meta, arrays: entries } satisfies Header<Meta>));
  const dataStart = align4(8 + headerBytes.length);
  const bytes = new Uint8Array(dataStart + offset * 4);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(4, headerBytes.length, true);
  bytes.set(headerBytes, 8);
  const floats = new Float32Array(bytes.buffer, dataStart, offset);
  for (const [index, { data }] of [...arrays.values()].entries()) floats.set(data, entries[index].offset);
  return bytes;
}

export function decodeBundle<Meta>(bytes: Uint8Array): { meta: Meta; arrays: Map<string, NamedArray> } {
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) throw new Error('not an MwT tensor bundle (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Header<Meta>;
  const dataStart = align4(8 + headerLength);
  // Copy into an aligned buffer: the bytes may come from Postgres at any byte offset.
  const data = new Float32Array(new Uint8Array(bytes.subarray(dataStart)).buffer);
  const arrays = new Map<string, NamedArray>();
  for (const entry of header.arrays) {
    arrays.set(entry.name, { shape: entry.shape, data: data.slice(entry.offset, entry.offset + entry.length) });
  }
  return { meta: header.meta, arrays };
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
