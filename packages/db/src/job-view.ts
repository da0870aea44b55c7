/**
 * Jobs with the ids of their runs, modularizations and modules: what GET /jobs/:id answers, read in
 * one statement for any number of lookups. Prisma's findFirst with `include` sends four (the job,
 * then each relation), and its query compiler runs on each; status polls are the API's most
 * frequent request. The rows come back as Prisma reads them: pg's parsers give the same strings,
 * numbers, Dates and JSON for these column types (test/api/jobs.test.ts compares the answers).
 */
import type pg from 'pg';
import type { Job } from './generated/client.js';

export type JobWithChildIds = Job & { runs: { id: string }[]; modularizations: { id: string }[]; modules: { id: string }[] };

/** Whose jobs a lookup may return: every key's (for an admin), or only those of the key `ownerKeyId`. */
export type JobOwner = { any: true } | { ownerKeyId: string | null };

/** One job id (a UUID) and whose jobs the lookup may see. */
export interface JobLookup {
  id: string;
  owner: JobOwner;
}

/** The job of each lookup with its children's ids, each list in creation order; null where there is none that its owner may see. */
export async function findJobsWithChildIds(pool: pg.Pool, lookups: readonly JobLookup[]): Promise<(JobWithChildIds | null)[]> {
  const { rows } = await pool.query<Job & { runs: string[]; modularizations: string[]; modules: string[] }>({
    // Named: each connection parses and plans it once, whatever the number of lookups.
    name: 'mwt-jobs-with-child-ids',
    text: `SELECT j.*,
             ARRAY(SELECT r."id" FROM "Run" r WHERE r."jobId" = j."id" ORDER BY r."createdAt", r."id") AS "runs",
             ARRAY(SELECT m."id" FROM "Modularization" m WHERE m."jobId" = j."id" ORDER BY m."createdAt", m."id") AS "modularizations",
             ARRAY(SELECT m."id" FROM "Module" m WHERE m."jobId" = j."id" ORDER BY m."createdAt", m."id") AS "modules"
           FROM "Job" j WHERE j."id" = ANY($1::uuid[])`,
    values: [[...new Set(lookups.map((l) => l.id))]],
  });
  const ids = (list: string[]) => list.map((childId) => ({ id: childId }));
  const byId = new Map(rows.map((row) => [row.id, { ...row, runs: ids(row.runs), modularizations: ids(row.modularizations), modules: ids(row.modules) }]));
  // The owner filter, applied to the rows of the one statement: another key's job is not found, as an unknown id.
  return lookups.map(({ id, owner }) => {
    const job = byId.get(id.toLowerCase()); // PostgreSQL writes uuids in lower case
    return job && ('any' in owner || job.ownerKeyId === owner.ownerKeyId) ? job : null;
  });
}
