/**
 * `Idempotency-Key` on POST /jobs, per API key. The first request with a key creates the job
 * (201); a retry with the same key and the same job (same type and params once defaults are
 * applied) gets that job back (200, `Idempotent-Replayed: true`) in whatever state it is now;
 * the same key for a different job is a 409. Concurrent retries are settled by the unique index
 * on Job.idempotencyKey, not by reading before inserting.
 */
import { createHash } from 'node:crypto';
import type { Database, JobWithChildIds } from '@mwt/db';
import type { TypedJob } from '@mwt/shared';
import type { Principal } from '../auth/principal.js';
import { HttpError } from '../errors.js';

export interface IdempotentRequest {
  /** The header as sent, for messages. */
  header: string;
  /** The stored key: scoped to the API key, so two clients may pick the same header value. */
  key: string;
  requestHash: string;
}

/** JSON with object keys sorted, so that key order does not make two equal jobs differ. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function idempotentRequest(principal: Principal, header: string | undefined, job: TypedJob): IdempotentRequest | null {
  if (header === undefined) return null;
  const requestHash = createHash('sha256').update(canonicalJson(job)).digest('hex');
  return { header, key: `${principal.keyId ?? 'anonymous'}:${header}`, requestHash };
}

/** The job an earlier request with this key created, or null; 409 if that request was for another job. */
export async function earlierJob(db: Database, principal: Principal, request: IdempotentRequest): Promise<JobWithChildIds | null> {
  const row = await db.jobs.findByIdempotencyKey(principal, request.key);
  if (row && row.requestHash !== request.requestHash) {
    throw new HttpError(409, `Idempotency-Key "${request.header}" was already used for a different job; use a new key for a new job`);
  }
  return row;
}
