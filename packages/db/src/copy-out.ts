/**
 * One bytea value, sent by PostgreSQL as it is stored: `COPY (SELECT <one bytea>) TO STDOUT (FORMAT
 * binary)` through pg-copy-streams. A plain query cannot do this with node-postgres, which reads
 * every result field as text (a bytea then travels as hex or base64, encoded by PostgreSQL and
 * decoded here: that was the cost of a download from PostgreSQL). COPY's binary format is a header,
 * one field-count and length-prefixed field per row, and a trailer: parsed below.
 */
import type pg from 'pg';
import { to as copyTo, type CopyToStreamQuery } from 'pg-copy-streams';
import { copyOfPieces, piecesLength, slicePieces, type Pieces } from './pieces.js';
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
 * The one bytea field of the at most one row in a binary COPY's output, as subarrays of the pieces
 * the output arrived in; null when there is no row (or the value is NULL).
 */
export function parseOneBytea(out: Pieces): Buffer[] | null {
  const total = piecesLength(out);
  const read = (at: number, length: number) => {
    if (at + length > total) throw new Error('a binary COPY ends early');
    return copyOfPieces(out, at, at + length);
  };
  const head = read(0, SIGNATURE.length + 8);
  if (!head.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY');
  let at = SIGNATURE.length + 8 + head.readUInt32BE(SIGNATURE.length + 4);
  const fields = read(at, 2).readInt16BE(0);
  at += 2;
  if (fields === TRAILER) return null;
  if (fields !== 1) throw new Error(`a binary COPY of one column has rows of ${fields} fields`);
  const length = read(at, 4).readInt32BE(0);
  at += 4;
  if (length < 0) return null;
  if (at + length + 2 !== total || read(at + length, 2).readInt16BE(0) !== TRAILER) throw new Error('a binary COPY of one row has more');
  return slicePieces(out, at, at + length);
}

/**
 * Runs `sql` (a `COPY (SELECT <one bytea column>) TO STDOUT (FORMAT binary)`) on a connection of
 * its own from `pool` (withClient: one the COPY failed on is closed, not pooled again) and returns
 * the value as the pieces it arrived in (parseOneBytea). COPY takes no parameters: the caller quotes literals.
 */
export function copyOneBytea(pool: pg.Pool, sql: string): Promise<Buffer[] | null> {
  return withClient(pool, async (client) => {
    const pieces: Buffer[] = [];
    for await (const piece of client.query(copyToStream(sql)) as AsyncIterable<Buffer>) pieces.push(piece);
    return parseOneBytea(pieces);
  });
}
