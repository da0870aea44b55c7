/**
 * A job with the ids of its runs, modularizations and modules: what GET /jobs/:id answers, read in
 * one statement. Prisma's findFirst with `include` sends four (the job, then each relation), and
 * its query compiler runs on each; status polls are the API's most frequent request. The row comes
 * back as Prisma reads it: pg's parsers give the same strings, numbers, Dates and JSON for these
 * column types (test/api/jobs.test.ts compares the answers).
 */
import type pg from 'pg';
import type { Job } from './generated/client.js';

export type JobWithChildIds = Job & { runs: { id: string }[]; modularizations: { id: string }[]; modules: { id: string }[] };

/** Whose jobs a lookup may return: every key's (for an admin), or only those of the key `ownerKeyId`. */
export type JobOwner = { any: true } | { ownerKeyId: string | null };

/** The job `id` with its children's ids, each list in creation order; null if there is none that `owner` may see. */
export async function findJobWithChildIds(pool: pg.Pool, id: string, owner: JobOwner): Promise<JobWithChildIds | null> {
  const { rows } = await pool.query<Job & { runs: string[]; modularizations: string[]; modules: string[] }>({
    // Named: each connection parses and plans it once.
    name: 'mwt-job-with-child-ids',
    text: `SELECT j.*,
             ARRAY(SELECT r."id" FROM "Run" r WHERE r."jobId" = j."id" ORDER BY r."createdAt", r."id") AS "runs",
             ARRAY(SELECT m."id" FROM "Modularization" m WHERE m."jobId" = j."id" ORDER BY m."createdAt", m."id") AS "modularizations",
             ARRAY(SELECT m."id" FROM "Module" m WHERE m."jobId" = j."id" ORDER BY m."createdAt", m."id") AS "modules"
           FROM "Job" j
           WHERE j."id" = $1::uuid AND ($2::boolean OR j."ownerKeyId" IS NOT DISTINCT FROM $3::uuid)`,
    values: [id, 'any' in owner, 'any' in owner ? null : owner.ownerKeyId],
  });
  const row = rows[0];
  if (!row) return null;
  const ids = (list: string[]) => list.map((childId) => ({ id: childId }));
  return { ...row, runs: ids(row.runs), modularizations: ids(row.modularizations), modules: ids(row.modules) };
}
