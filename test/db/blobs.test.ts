/**
 * The blob store (packages/db/src/blobs.ts) on real PostgreSQL: artifact bytes and checkpoint states
 * written as one Buffer parameter and read back in chunks. A store with 1,000-byte chunks, each read
 * as slices of 300 bytes (300, 300, 300, 100), puts the boundaries where the tests can aim at them.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { BlobChanged, BlobStore, createDatabase, type ArtifactUpload, type Database } from '@mwt/db';
import { parseNumberedSlices } from '../../packages/db/src/copy-out.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mwt_test';
const CHUNK = 1000;
const SLICE = 300;
const db = createDatabase(DATABASE_URL);
const { prisma } = db;
const blobs = new BlobStore(db.pool, CHUNK, SLICE);
const artifactIds: string[] = [];
let jobId: string;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function upload(bytes: Buffer, id: string = randomUUID()): ArtifactUpload {
  artifactIds.push(id);
  return { id, jobId: null, kind: 'module', fileName: 'm.tar', contentType: 'application/x-tar', sha256: sha256(bytes), bytes };
}

/** Resolves once no connection of `database`'s pool is lent out or waited for: every query sent so far has ended. */
async function poolIdle(database: Database = db): Promise<void> {
  const { pool } = database;
  for (const started = Date.now(); pool.totalCount !== pool.idleCount || pool.waitingCount > 0;) {
    if (Date.now() - started > 60_000) throw new Error('the pool stayed busy for a minute');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // The outcome of the last one (a rejection) is seen by now.
  await new Promise((resolve) => setImmediate(resolve));
}

/** Runs `body` and resolves to the unhandled rejections the process saw meanwhile. */
async function unhandledRejections(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const record = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', record);
  try {
    await body();
  } finally {
    process.off('unhandledRejection', record);
  }
  return seen;
}

/** The next `length` bytes of a reader (artifactChunks yields pieces as they arrived: a chunk may come in several). */
async function take(reader: AsyncIterator<Buffer, unknown>, length: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let got = 0; got < length;) {
    const { value, done } = await reader.next();
    if (done) break;
    pieces.push(value);
    got += value.length;
  }
  return Buffer.concat(pieces);
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

before(async () => {
  jobId = (await prisma.job.create({ data: { type: 'train_standard', payload: {} } })).id;
});
after(async () => {
  await prisma.artifact.deleteMany({ where: { id: { in: artifactIds } } });
  await prisma.job.delete({ where: { id: jobId } }); // cascades to the run and its checkpoint
  await db.close();
});

describe('artifacts', () => {
  const bytes = randomBytes(3 * CHUNK + 500);
  const artifact = upload(bytes);
  before(() => blobs.writeArtifact(artifact));

  test('read whole, in chunks, equals what was written', async () => {
    assert.ok((await blobs.readArtifact(artifact.id))?.equals(bytes));
    const chunks = await collect(blobs.artifactChunks(artifact.id, artifact.sha256, 0, bytes.length));
    assert.ok(Buffer.concat(chunks).equals(bytes));
    assert.ok(chunks.every((c) => c.length <= CHUNK));
  });

  test('the row is the Prisma model: Prisma reads the same bytes, sha256 and size', async () => {
    const row = await prisma.artifact.findUniqueOrThrow({ where: { id: artifact.id } });
    assert.ok(Buffer.from(row.bytes).equals(bytes));
    assert.equal(row.sha256, artifact.sha256);
    assert.equal(row.size, bytes.length);
    assert.equal(row.kind, 'module');
  });

  test('bytes Prisma wrote are read back by the store', async () => {
    const small = randomBytes(2 * CHUNK + 1);
    const row = await prisma.artifact.create({
      data: { kind: 'model', fileName: 'p.tar', contentType: 'application/x-tar', bytes: new Uint8Array(small), sha256: sha256(small), size: small.length },
      select: { id: true },
    });
    artifactIds.push(row.id);
    assert.ok((await blobs.readArtifact(row.id))?.equals(small));
  });

  const ranges: [string, number, number][] = [
    ['the first byte', 0, 1],
    ['the two bytes around the first boundary', CHUNK - 1, CHUNK + 1],
    ['the two bytes around the first slice boundary', SLICE - 1, SLICE + 1],
    ['exactly the second slice', SLICE, 2 * SLICE],
    ['the short last slice of a chunk', 3 * SLICE, CHUNK],
    ['a slice boundary to a slice boundary in the next chunk', 2 * SLICE, CHUNK + SLICE],
    ['exactly the second chunk', CHUNK, 2 * CHUNK],
    ['from a boundary to the end', 2 * CHUNK, 3 * CHUNK + 500],
    ['across two boundaries', CHUNK - 10, 2 * CHUNK + 10],
    ['the last byte', 3 * CHUNK + 499, 3 * CHUNK + 500],
  ];
  for (const [name, start, end] of ranges) {
    test(`a range: ${name} [${start}, ${end})`, async () => {
      const chunks = await collect(blobs.artifactChunks(artifact.id, artifact.sha256, start, end));
      assert.ok(Buffer.concat(chunks).equals(bytes.subarray(start, end)));
      assert.ok(chunks.every((c) => c.length <= CHUNK));
    });
  }

  test('an empty range reads nothing', async () => {
    assert.deepEqual(await collect(blobs.artifactChunks(artifact.id, artifact.sha256, 5, 5)), []);
  });

  test('rewriting the same id is idempotent: one row, the latest bytes', async () => {
    const first = randomBytes(1500);
    const again = upload(first);
    await blobs.writeArtifact(again);
    await blobs.writeArtifact(again);
    const second = randomBytes(2500);
    await blobs.writeArtifact({ ...upload(second, again.id), fileName: 'renamed.tar' });
    const rows = await prisma.artifact.findMany({ where: { id: again.id }, select: { fileName: true, sha256: true, size: true } });
    assert.deepEqual(rows, [{ fileName: 'renamed.tar', sha256: sha256(second), size: 2500 }]);
    assert.ok((await blobs.readArtifact(again.id))?.equals(second));
  });

  test('a row rewritten between two chunks fails the read instead of mixing versions', async () => {
    const old = upload(randomBytes(4 * CHUNK));
    await blobs.writeArtifact(old);
    const reader = blobs.artifactChunks(old.id, old.sha256, 0, 4 * CHUNK);
    assert.ok((await take(reader, CHUNK)).equals(old.bytes.subarray(0, CHUNK)));
    // Chunks 2 and 3 were fetched ahead with the first: let them end before the rewrite.
    await poolIdle();
    await blobs.writeArtifact(upload(randomBytes(4 * CHUNK), old.id));
    assert.ok((await take(reader, CHUNK)).equals(old.bytes.subarray(CHUNK, 2 * CHUNK)));
    // The third is the last old one; the fourth was fetched after the rewrite.
    await assert.rejects(collect(reader), BlobChanged);
  });

  test('a chunk fetched ahead that fails while the reader waits is no unhandled rejection; the reader gets the error when it asks', async () => {
    const old = upload(randomBytes(4 * CHUNK));
    await blobs.writeArtifact(old);
    const reader = blobs.artifactChunks(old.id, old.sha256, 0, 4 * CHUNK);
    const unhandled = await unhandledRejections(async () => {
      await take(reader, CHUNK);
      await poolIdle();
      await blobs.writeArtifact(upload(randomBytes(4 * CHUNK), old.id));
      // Hands out chunk 2 (fetched before) and fetches chunk 4 ahead, which fails while nobody asks for it.
      await take(reader, CHUNK);
      await poolIdle();
    });
    assert.deepEqual(unhandled, []);
    assert.ok((await take(reader, CHUNK)).equals(old.bytes.subarray(2 * CHUNK, 3 * CHUNK)));
    await assert.rejects(reader.next(), BlobChanged);
  });

  test('PostgreSQL cut off while the reader waits: no unhandled rejection; the reader gets the error when it asks', async () => {
    const target = new URL(DATABASE_URL);
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(DATABASE_URL);
    proxied.host = `127.0.0.1:${proxy.port}`;
    const behindProxy = createDatabase(proxied.toString());
    try {
      const store = new BlobStore(behindProxy.pool, CHUNK);
      const reader = store.artifactChunks(artifact.id, artifact.sha256, 0, bytes.length);
      const unhandled = await unhandledRejections(async () => {
        await take(reader, CHUNK);
        await poolIdle(behindProxy);
        await proxy.cut();
        // Hands out chunk 2 (fetched before) and fetches chunk 4 ahead, which fails: no connection.
        await take(reader, CHUNK);
        await poolIdle(behindProxy);
      });
      assert.deepEqual(unhandled, []);
      assert.ok((await take(reader, CHUNK)).equals(bytes.subarray(2 * CHUNK, 3 * CHUNK)));
      await assert.rejects(reader.next(), /ECONNREFUSED|Connection terminated/);
    } finally {
      await behindProxy.close();
      await proxy.cut();
    }
  });

  test('a missing artifact reads as null', async () => {
    assert.equal(await blobs.readArtifact(randomUUID()), null);
    await assert.rejects(collect(blobs.artifactChunks(randomUUID(), 'x', 0, 10)), BlobChanged);
  });
});

describe('a binary COPY of numbered slices, as pieces', () => {
  /** PostgreSQL's own output for `SELECT <rows>`, joined. */
  async function copyOutput(selectSql: string): Promise<Buffer> {
    const client = await db.pool.connect();
    try {
      const pieces: Buffer[] = [];
      for await (const piece of client.query(copyTo(`COPY (SELECT ${selectSql}) TO STDOUT (FORMAT binary)`)) as AsyncIterable<Buffer>) pieces.push(piece);
      return Buffer.concat(pieces);
    } finally {
      client.release();
    }
  }
  const hex = (bytes: Buffer) => `${pg.escapeLiteral(`\\x${bytes.toString('hex')}`)}::bytea`;

  test('parses to the slices joined wherever the pieces split the output: header, field count, number, length, slice or trailer', async () => {
    const slices = [randomBytes(13), randomBytes(0), randomBytes(21)];
    const out = await copyOutput(`* FROM (VALUES ${slices.map((slice, n) => `(${n}, ${hex(slice)})`).join(', ')}) AS v`);
    for (let first = 1; first < out.length; first++) {
      for (const second of [first + 1, first + 7, out.length]) {
        const pieces = [out.subarray(0, first), out.subarray(first, second), out.subarray(second)].filter((p) => p.length > 0);
        const parsed = parseNumberedSlices(pieces);
        assert.ok(parsed && Buffer.concat(parsed).equals(Buffer.concat(slices)), `split at ${first} and ${second}`);
        // Subarrays of the pieces: nothing copied.
        assert.ok(
          parsed.every((part) => pieces.some((piece) => piece.buffer === part.buffer)),
          `a copy at ${first}, ${second}`,
        );
      }
    }
  });

  test('no row and a NULL slice read as null; a cut-off output, a row out of order or of other fields fail', async () => {
    assert.equal(parseNumberedSlices([await copyOutput(`0, '\\x00'::bytea WHERE false`)]), null);
    assert.equal(parseNumberedSlices([await copyOutput('0, NULL::bytea')]), null);
    const out = await copyOutput(`0, '\\x0102'::bytea`);
    assert.throws(() => parseNumberedSlices([out.subarray(0, out.length - 3)]), /ends early/);
    const swapped = await copyOutput(`* FROM (VALUES (1, '\\x01'::bytea), (0, '\\x02'::bytea)) AS v`);
    assert.throws(() => parseNumberedSlices([swapped]), /out of order/);
    const unnumbered = await copyOutput(`'\\x01'::bytea`);
    assert.throws(() => parseNumberedSlices([unnumbered]), /rows of 1 fields/);
  });
});

describe('checkpoints', () => {
  let runId: string;
  before(async () => {
    runId = (await prisma.run.create({ data: { jobId, kind: 'standard', dataset: 'mnist', model: 'simcnn-small', config: {} } })).id;
  });

  test('written, overwritten and read back in chunks', async () => {
    assert.equal(await blobs.readCheckpoint(runId), null);
    const first = randomBytes(2 * CHUNK + 7);
    await blobs.writeCheckpoint(runId, 1, first);
    const read = await blobs.readCheckpoint(runId);
    assert.equal(read?.epoch, 1);
    assert.ok(read?.state.equals(first));
    const second = randomBytes(CHUNK);
    await blobs.writeCheckpoint(runId, 2, second);
    const again = await blobs.readCheckpoint(runId);
    assert.equal(again?.epoch, 2);
    assert.ok(again?.state.equals(second));
    // One row per run, as Prisma sees it, with @updatedAt set.
    const rows = await prisma.checkpoint.findMany({ where: { runId }, select: { epoch: true, updatedAt: true } });
    assert.equal(rows.length, 1);
    assert.equal(rows[0].epoch, 2);
    assert.ok(Date.now() - rows[0].updatedAt.getTime() < 60_000);
  });

  test('an empty state reads back empty', async () => {
    await blobs.writeCheckpoint(runId, 3, new Uint8Array(0));
    assert.equal((await blobs.readCheckpoint(runId))?.state.length, 0);
  });
});

describe('storage', () => {
  test('both columns are stored out of line, uncompressed (STORAGE EXTERNAL)', async () => {
    const { rows } = await db.pool.query<{ attname: string; attstorage: string }>(
      `SELECT attname, attstorage FROM pg_attribute
       WHERE (attrelid, attname) IN (('"Artifact"'::regclass, 'bytes'), ('"Checkpoint"'::regclass, 'state')) ORDER BY attname`,
    );
    assert.deepEqual(rows, [
      { attname: 'bytes', attstorage: 'e' },
      { attname: 'state', attstorage: 'e' },
    ]);
  });

  test('compressible bytes are stored uncompressed', async () => {
    const zeros = upload(Buffer.alloc(100_000));
    await blobs.writeArtifact(zeros);
    const { rows } = await db.pool.query<{ method: string | null }>('SELECT pg_column_compression("bytes") AS method FROM "Artifact" WHERE "id" = $1', [zeros.id]);
    assert.deepEqual(rows, [{ method: null }]);
  });

  test("createDatabase's blobs work on the client's pool, with 1 MiB chunks", async () => {
    const bytes = randomBytes(1000);
    const artifact = upload(bytes);
    await db.blobs.writeArtifact(artifact);
    assert.ok((await db.blobs.readArtifact(artifact.id))?.equals(bytes));
    assert.equal(db.blobs.chunkBytes, 1 << 20);
  });
});
