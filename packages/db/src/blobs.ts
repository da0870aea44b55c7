/**
 * The large bytea columns (Artifact.bytes, Checkpoint.state), written and read with node-postgres
 * on the Prisma client's own pool instead of through Prisma: @prisma/adapter-pg turns every bytea
 * into an array of numbers, one per byte, and sends writes as base64, a few MB/s either way.
 *
 * Writes pass the bytes as one Buffer parameter (sent in binary). Reads fetch CHUNK_BYTES at a time
 * with substring(): the columns are STORAGE EXTERNAL (uncompressed, see the migration), so
 * PostgreSQL reads only the TOAST chunks a slice covers, memory stays bounded and a byte range costs
 * what it covers. Downloads (artifactChunks) read each chunk with a binary COPY (copy-out.ts) in
 * slices, the bytes as stored: a 32 MB download cost the API 40-80 ms of CPU and PostgreSQL 80-110
 * (one slice per chunk, on a machine with cheap page faults), against 130-200 and 160-190 with the
 * base64 text the whole-value reads below still use (pg would parse a bytea from hex, which Node
 * decodes 3-4 times slower than base64, whose line breaks Buffer.from skips).
 */
import pg from 'pg';
import { copyNumberedSlices } from './copy-out.js';
import { piecesLength } from './pieces.js';
import type { ArtifactKind } from './generated/client.js';
import { withClient } from './pool.js';

export const CHUNK_BYTES = 1 << 20;
/** What a download's COPY reads per row: see BlobStore's constructor. */
export const SLICE_BYTES = 32 << 10;
/** Chunks a streaming read fetches ahead of the one it hands out. */
const READ_AHEAD = 2;

/** A bytea column and the key of its row; identifiers are quoted here, never taken from input. */
interface BlobColumn {
  table: string;
  key: string;
  column: string;
}

const ARTIFACT_BYTES: BlobColumn = { table: '"Artifact"', key: '"id"', column: '"bytes"' };
const CHECKPOINT_STATE: BlobColumn = { table: '"Checkpoint"', key: '"runId"', column: '"state"' };

export interface ArtifactUpload {
  id: string;
  jobId: string | null;
  kind: ArtifactKind;
  fileName: string;
  contentType: string;
  sha256: string;
  bytes: Uint8Array;
}

export interface StoredCheckpoint {
  epoch: number;
  state: Buffer;
}

/** The row was rewritten (or deleted) while it was being read in chunks. */
export class BlobChanged extends Error {
  override name = 'BlobChanged';
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function chunkSql({ table, key, column }: BlobColumn, guard = ''): string {
  // substring() counts from 1.
  return `SELECT encode(substring(${column} from $2 for $3), 'base64') AS chunk FROM ${table} WHERE ${key} = $1 ${guard}`;
}

/**
 * A binary COPY of bytes [offset, offset + length) of the value in the row `keyValue`, if `guard`
 * holds, as rows (n, the n-th slice of sliceBytes) for parseNumberedSlices. No ORDER BY: a sort
 * would carry the slices (and spill them to disk); with no join condition PostgreSQL can only
 * nest the loops, which keeps generate_series' order, and the reader checks the numbers.
 */
function slicesCopySql({ table, key, column }: BlobColumn, keyValue: string, offset: number, length: number, sliceBytes: number, guard: string): string {
  if (![offset, length, sliceBytes].every(Number.isSafeInteger) || length <= 0 || sliceBytes <= 0) throw new RangeError(`not a byte range: ${offset}+${length}`);
  const slices = Math.ceil(length / sliceBytes);
  return `COPY (SELECT n, substring(${column} from ${offset + 1} + n * ${sliceBytes} for least(${sliceBytes}, ${length} - n * ${sliceBytes}))
    FROM ${table} CROSS JOIN generate_series(0, ${slices - 1}) AS n WHERE ${key} = ${pg.escapeLiteral(keyValue)} ${guard}) TO STDOUT (FORMAT binary)`;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A promise that never rejects: the outcome of `promise`, as a value. */
const settled = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );

export class BlobStore {
  /**
   * `chunkBytes`: what one query reads. `sliceBytes`: the rows a download's query reads that in.
   * PostgreSQL holds a row's slice about three times over (the slice, its send copy, COPY's row
   * buffer), and glibc gives memory over 128 KiB back to the kernel when it is freed: on a VM where
   * a page fault costs 12 us, a 1 MiB COPY of one row took PostgreSQL 390-490 ms of CPU per 32 MB
   * of fresh artifacts (24,000 page faults); in rows of 256 KiB 160-200 ms (5,500), of 64 KiB
   * 100-140 (1,300), of 32 KiB 100-130 (500-700), of 16 KiB 80-130: past that the rows' own cost
   * takes over.
   */
  constructor(
    private readonly pool: pg.Pool,
    readonly chunkBytes = CHUNK_BYTES,
    readonly sliceBytes = Math.min(SLICE_BYTES, chunkBytes),
  ) {}

  /** Inserts or overwrites the artifact row `id` (ids are derived from the job: a retried phase rewrites it). */
  async writeArtifact(a: ArtifactUpload): Promise<void> {
    await this.pool.query(
      `INSERT INTO "Artifact" ("id", "jobId", "kind", "fileName", "contentType", "bytes", "sha256", "size")
       VALUES ($1, $2, $3::"ArtifactKind", $4, $5, $6, $7, $8)
       ON CONFLICT ("id") DO UPDATE SET "jobId" = EXCLUDED."jobId", "kind" = EXCLUDED."kind", "fileName" = EXCLUDED."fileName",
         "contentType" = EXCLUDED."contentType", "bytes" = EXCLUDED."bytes", "sha256" = EXCLUDED."sha256", "size" = EXCLUDED."size"`,
      [a.id, a.jobId, a.kind, a.fileName, a.contentType, asBuffer(a.bytes), a.sha256, a.bytes.byteLength],
    );
  }

  /** The run's one resumable state, overwritten each time; `updatedAt` is Prisma's @updatedAt, so set here. */
  async writeCheckpoint(runId: string, epoch: number, state: Uint8Array): Promise<void> {
    await this.pool.query(
      `INSERT INTO "Checkpoint" ("runId", "epoch", "state", "updatedAt") VALUES ($1, $2, $3, now())
       ON CONFLICT ("runId") DO UPDATE SET "epoch" = EXCLUDED."epoch", "state" = EXCLUDED."state", "updatedAt" = EXCLUDED."updatedAt"`,
      [runId, epoch, asBuffer(state)],
    );
  }

  /** The whole artifact, or null if there is none. */
  async readArtifact(id: string): Promise<Buffer | null> {
    return (await this.readWhole(ARTIFACT_BYTES, id))?.bytes ?? null;
  }

  async readCheckpoint(runId: string): Promise<StoredCheckpoint | null> {
    const read = await this.readWhole<{ epoch: number }>(CHECKPOINT_STATE, runId, ['"epoch"']);
    return read && { epoch: read.row.epoch, state: read.bytes };
  }

  /**
   * Bytes [start, end) of artifact `id`, in order, as the pieces (about 64 KB) PostgreSQL's answers
   * arrived in: never joined, so a download copies nothing it passes on (pieces.ts). They are read
   * chunkBytes at a time, up to READ_AHEAD chunks ahead on other connections, so that PostgreSQL,
   * node-postgres and the caller work at once (one at a time, a 32 MB read took twice as long). Each
   * chunk is a query of its own on any pooled connection (a slow client holds none), guarded by the
   * sha256 the caller knows: if the row changes meanwhile the read fails (BlobChanged) rather than
   * mix two versions.
   */
  async *artifactChunks(id: string, sha256: string, start: number, end: number): AsyncGenerator<Buffer> {
    const guard = `AND "sha256" = ${pg.escapeLiteral(sha256)}`;
    const fetch = async (offset: number): Promise<Buffer[]> => {
      const length = Math.min(this.chunkBytes, end - offset);
      const chunk = await copyNumberedSlices(this.pool, slicesCopySql(ARTIFACT_BYTES, id, offset, length, this.sliceBytes, guard));
      if (chunk === null || piecesLength(chunk) !== length) throw new BlobChanged(`artifact ${id} changed while it was being read`);
      return chunk;
    };
    // Settled as they end: a fetch ahead may fail (the row rewritten, PostgreSQL gone) while the
    // generator waits at `yield` for a slow client, long before anyone awaits it. A rejected promise
    // nobody handles by then is an unhandled rejection, which ends the process.
    const ahead: Promise<Settled<Buffer[]>>[] = [];
    let next = start;
    while (next < end || ahead.length > 0) {
      for (; next < end && ahead.length <= READ_AHEAD; next += this.chunkBytes) ahead.push(settled(fetch(next)));
      const chunk = await ahead.shift()!;
      if (!chunk.ok) throw chunk.error;
      yield* chunk.value;
    }
  }

  /**
   * A whole value and `columns` of its row, in chunks on one connection within one snapshot
   * (REPEATABLE READ), so that a concurrent rewrite is never read half old, half new. A failure
   * closes the connection (withClient): it may be broken or mid-transaction.
   */
  private readWhole<Row>(blob: BlobColumn, key: string, columns: string[] = []): Promise<{ row: Row; bytes: Buffer } | null> {
    return withClient(this.pool, async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const fields = [`octet_length(${blob.column}) AS size`, ...columns].join(', ');
      const head = await client.query<Row & { size: number }>(`SELECT ${fields} FROM ${blob.table} WHERE ${blob.key} = $1`, [key]);
      const row = head.rows[0];
      const bytes = row ? Buffer.allocUnsafe(row.size) : null;
      const sql = chunkSql(blob);
      for (let offset = 0; bytes && offset < bytes.length; offset += this.chunkBytes) {
        const { rows } = await client.query<{ chunk: string }>(sql, [key, offset + 1, this.chunkBytes]);
        // Decoded straight into place: no chunk is held twice.
        bytes.write(rows[0].chunk, offset, 'base64');
      }
      await client.query('COMMIT');
      return row && bytes ? { row, bytes } : null;
    });
  }
}
