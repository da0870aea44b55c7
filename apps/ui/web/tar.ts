/**
 * Reads the API's artifacts in the browser: one uncompressed ustar archive (model.json,
 * weights.bin, metadata.json), as packTar() in packages/shared writes it. Regular files only.
 */
const BLOCK = 512;

function text(bytes: Uint8Array, start: number, length: number): string {
  const field = bytes.subarray(start, start + length);
  const nul = field.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? field : field.subarray(0, nul));
}

export function readTar(archive: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const name = text(archive, offset, 100);
    if (name === '') break; // the two zero blocks that end an archive
    const size = parseInt(text(archive, offset + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(archive[offset + 156] || 48); // '0' (or NUL) is a regular file
    const prefix = text(archive, offset + 345, 155);
    const start = offset + BLOCK;
    if (!Number.isFinite(size) || start + size > archive.length) throw new Error(`truncated archive at ${name}`);
    if (type === '0') files.set(prefix ? `${prefix}/${name}` : name, archive.slice(start, start + size));
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

export function readJson<T>(files: Map<string, Uint8Array>, name: string): T {
  const bytes = files.get(name);
  if (!bytes) throw new Error(`the archive has no ${name}`);
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}
