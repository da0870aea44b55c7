/**
 * Keyset pagination for GET /jobs: newest first on (createdAt, id). The cursor is the last
 * row's key, base64url-encoded so clients treat it as opaque.
 */
import { HttpError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

/** The row a cursor points after (the last row of the previous page). */
export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  // Exactly what encodeCursor writes, in years 1-9999: JavaScript dates reach further than
  // PostgreSQL's timestamptz takes, and there is no year 0 in PostgreSQL.
  const year = createdAt.getUTCFullYear();
  const canonical = !Number.isNaN(year) && year >= 1 && year <= 9999 && createdAt.toISOString() === at;
  if (extra !== undefined || !id || !UUID.test(id) || !canonical) {
    throw new HttpError(400, 'querystring/cursor is not a cursor returned by GET /jobs');
  }
  return { createdAt, id };
}
