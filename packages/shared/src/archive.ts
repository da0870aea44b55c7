import { createHash } from 'node:crypto';
import tar from 'tar-stream';

/**
 * Artifacts travel as one uncompressed tar (model.json, weights.bin, metadata.json): `tar xf`
 * gives the files `tf.loadLayersModel` reads. Entries get a fixed mtime so that packing the same
 * files twice yields the same bytes, and so the same sha256 / ETag.
 */
export async function packTar(files: Map<string, Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const pack = tar.pack();
  for (const [name, bytes] of files) pack.entry({ name, size: bytes.byteLength, mtime: new Date(0), mode: 0o644 }, Buffer.from(bytes));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  // A plain Uint8Array over its own ArrayBuffer: what Prisma's Bytes columns take.
  return new Uint8Array(Buffer.concat(chunks));
}

export async function unpackTar(archive: Uint8Array): Promise<Map<string, Uint8Array>> {
  const extract = tar.extract();
  const files = new Map<string, Uint8Array>();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      files.set(entry.header.name, new Uint8Array(Buffer.concat(chunks)));
    }
  })();
  extract.end(Buffer.from(archive));
  await done;
  return files;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
