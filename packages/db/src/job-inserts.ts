/**
 * Many new jobs in one INSERT (one statement, one commit), with node-postgres on the client's pool:
 * POST /jobs stores the submissions that arrive together this way. Prisma's createManyAndReturn
 * took 140-175 ms for 256 rows here (its query compiler and argument mapping run on every value,
 * on every call), this statement 16-20 ms. The rows come back as Prisma reads them: pg's parsers
 * give the same Dates, numbers and JSON for these column types (test/api/batching.test.ts).
 */
import type pg from 'pg';
import type { Job, JobType, Prisma } from './generated/client.js';

export interface NewJob {
  id: string;
  type: JobType;
  payload: Prisma.InputJsonValue;
  ownerKeyId: string | null;
  /** The X-Request-Id of the request that submitted it. */
  requestId: string | null;
}

/** Inserts the jobs as queued; resolves to the stored rows, in no particular order. */
export async function insertQueuedJobs(pool: pg.Pool, jobs: readonly NewJob[]): Promise<Job[]> {
  const { rows } = await pool.query<Job>({
    // Named: each connection parses and plans it once.
    name: 'mwt-insert-queued-jobs',
    // The rows as one JSON parameter. "updatedAt" is Prisma's @updatedAt: the client sets it, no column default does.
    text: `INSERT INTO "Job" ("id", "type", "payload", "ownerKeyId", "requestId", "updatedAt")
           SELECT "id", "type", "payload", "ownerKeyId", "requestId", now()
           FROM jsonb_to_recordset($1::jsonb) AS job("id" uuid, "type" "JobType", "payload" jsonb, "ownerKeyId" uuid, "requestId" text)
           RETURNING *`,
    values: [JSON.stringify(jobs)],
  });
  return rows;
}
