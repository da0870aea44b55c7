/**
 * The owner filter, for the repositories only (test/db/layering.test.ts keeps it there). Filters
 * rather than checks after the read, so another key's row is simply not found: a 404 exactly like
 * an unknown id, which tells the caller nothing about other keys' ids.
 */
import type { Prisma } from './generated/client.js';
import type { JobOwner } from './job-view.js';
import { isAdmin, type Principal } from './principal.js';

/** Where-filter on jobs: the caller's own, or all of them for an admin. */
export function visibleJobs(p: Principal): Prisma.JobWhereInput {
  return isAdmin(p) ? {} : { ownerKeyId: p.keyId };
}

/** Where-filter for rows that belong to the key of their job (runs, modularizations, modules, artifacts). */
export function ownedThroughJob(p: Principal): { job?: Prisma.JobWhereInput } {
  return isAdmin(p) ? {} : { job: visibleJobs(p) };
}

/** visibleJobs(p) as findJobsWithChildIds applies it to the rows of its one statement (polls of several keys share it). */
export function jobOwner(p: Principal): JobOwner {
  return isAdmin(p) ? { any: true } : { ownerKeyId: p.keyId };
}
