/**
 * Bytea values sent by PostgreSQL as they are stored: `COPY (SELECT ...) TO STDOUT (FORMAT binary)`
 * through pg-copy-streams. A plain query cannot do this with node-postgres, which reads every result
 * field as text (a bytea then travels as hex or base64, encoded by PostgreSQL and decoded here: that
 * was the cost of a download from PostgreSQL). COPY's binary format is a header, one field-count and
 * length-prefixed fields per row, and a trailer: parsed below.
 */
import type pg from 'pg';
import { to as copyTo, type CopyToStreamQuery } from 'pg-copy-streams';
import { PiecesCursor, type Pieces } from './pieces.js';
import { withClient } from './pool.js';

/** "PGCOPY\n\377\r\n\0", then flags (int32) and the length of a header extension (int32). */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const TRAILER = -1;

/**
 * A COPY TO stream that ends pg's query_timeout timer when the COPY ends. pg arms the timer for
 * any query and clears it through the query's callback, which pg-copy-streams never calls
 * (brianc/node-pg-copy-streams#156): each COPY would leave a timer running for query_timeout (30 s),
 * holding the finished stream, that then fails it with a 'Query read timeout' nobody asked for.
 */
function copyToStream(sql: string): CopyToStreamQuery {
  const stream = copyTo(sql) as CopyToStreamQuery & { callback?: () => void };
  stream.callback = () => undefined;
  const { handleReadyForQuery, handleError } = stream as unknown as Record<'handleReadyForQuery' | 'handleError', (...args: unknown[]) => void>;
  Object.assign(stream, {
    handleReadyForQuery(...args: unknown[]) {
      stream.callback?.();
      handleReadyForQuery.apply(stream, args);
    },
    handleError(...args: unknown[]) {
      stream.callback?.();
      handleError.apply(stream, args);
    },
  });
  // Whoever reads the stream hears its errors; this one is for an error after the reader is gone
  // (the connection ending after a failed COPY fails the query a second time).
  stream.on('error', () => undefined);
  return stream;
}

/**
 * The bytes of a binary COPY whose rows are (n int4, slice bytea) with n = 0, 1, 2, ...: the slices
 * joined in order, as subarrays of the pieces the output arrived in; null when there is no row (or a
 * slice is NULL). A row out of order fails: the reader relies on the order the query produced.
 */
export function parseNumberedSlices(out: Pieces): Buffer[] | null {
  const cursor = new PiecesCursor(out);
  const take = (length: number) => {
    if (cursor.left() < length) throw new Error('a binary COPY ends early');
    return cursor.take(length);
  };
  const read = (length: number) => {
    const parts = take(length);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
  };
  const head = read(SIGNATURE.length + 8);
  if (!head.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY');
  read(head.readUInt32BE(SIGNATURE.length + 4));
  const bytes: Buffer[] = [];
  let rows = 0;
  for (let fields = read(2).readInt16BE(0); fields !== TRAILER; fields = read(2).readInt16BE(0), rows++) {
    if (fields !== 2) throw new Error(`a binary COPY of numbered slices has rows of ${fields} fields`);
    const number = read(8);
    if (number.readInt32BE(0) !== 4 || number.readInt32BE(4) !== rows) throw new Error(`a binary COPY's slice ${rows} is missing or out of order`);
    const length = read(4).readInt32BE(0);
    if (length < 0) return null;
    for (const part of take(length)) bytes.push(part);
  }
  if (cursor.left() > 0) throw new Error('a binary COPY has bytes after its trailer');
  return rows > 0 ? bytes : null;
}

/**
 * Runs `sql` (a `COPY (SELECT n, slice ...) TO STDOUT (FORMAT binary)`, see parseNumberedSlices) on a
 * connection of its own from `pool` (withClient: one the COPY failed on is closed, not pooled again)
 * and returns the slices joined, as the pieces they arrived in. COPY takes no parameters: the caller
 * quotes literals.
 */
export function copyNumberedSlices(pool: pg.Pool, sql: string): Promise<Buffer[] | null> {
  return withClient(pool, async (client) => {
    const pieces: Buffer[] = [];
    for await (const piece of client.query(copyToStream(sql)) as AsyncIterable<Buffer>) pieces.push(piece);
    return parseNumberedSlices(pieces);
  });
}
