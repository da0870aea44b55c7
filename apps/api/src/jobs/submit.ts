/**
 * POST /jobs: stores the job row, owned by the caller's key, then queues its id; submissions that
 * arrive together share one INSERT and one enqueue (batcher.ts). With an Idempotency-Key, a
 * repeated request returns the job the first one created (idempotency.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import { isUniqueViolation, type Job, type JobWithChildIds } from '@mwt/db';
import { completeJob, toDbJobType, type JobType } from '@mwt/shared';
import type { Principal } from '../auth/principal.js';
import type { AppDeps } from '../deps.js';
import type { JobBatcher } from './batcher.js';
import { enqueueJobs, neverQueued, notQueued, requeueNeverQueued } from './enqueue.js';
import { checkMemoryBudget } from './memory-budget.js';
import { checkReferences } from './references.js';
import { earlierJob, idempotentRequest } from './idempotency.js';

export interface SubmitRequest {
  principal: Principal;
  body: { type: JobType; params?: unknown };
  /** The Idempotency-Key header, if sent. */
  idempotencyKey: string | undefined;
  /** The request's id (X-Request-Id), stored on the job. */
  requestId: string;
  log: FastifyBaseLogger;
}

export interface Submission {
  job: JobWithChildIds;
  /** false when an Idempotency-Key matched an earlier request: `job` is that request's job. */
  created: boolean;
}

/** A new job has no runs yet. (The spread last: see toJobView.) */
const createdJob = (job: Job): Submission => ({ job: { runs: [], modularizations: [], modules: [], ...job }, created: true });

export async function submitJob(deps: AppDeps, batcher: JobBatcher, { principal, body, idempotencyKey, requestId, log }: SubmitRequest): Promise<Submission> {
  const { db } = deps;
  const job = completeJob(body);
  const idempotency = idempotentRequest(principal, idempotencyKey, job);
  const earlier = idempotency && (await earlierJob(db, principal, idempotency));
  if (idempotency && earlier && neverQueued(earlier)) {
    // The first request got a 503 (the queue was unreachable) and no worker ever saw the job: this
    // retry queues it, and so answers as the creation the first request could not complete.
    const requeued = await requeueNeverQueued(deps, principal, earlier, log);
    if (typeof requeued === 'string') throw notQueued(earlier.id, requeued);
    // null: queued by this request; false: a concurrent retry queued it first (this one is a replay).
    const now = await earlierJob(db, principal, idempotency);
    if (now) return { job: now, created: requeued === null };
  }
  if (earlier) return { job: earlier, created: false };
  await checkReferences(db, principal, job);
  await checkMemoryBudget(db, principal, job, deps.config.workerMemoryMb);

  const row = { type: toDbJobType(job.type), payload: job.params, ownerKeyId: principal.keyId, requestId };
  if (!idempotency) return createdJob(await batcher.submit(row));

  let created: Job;
  try {
    created = await db.jobs.createQueued({ ...row, idempotencyKey: idempotency.key, requestHash: idempotency.requestHash });
  } catch (err) {
    // A concurrent request with the same Idempotency-Key inserted first: its job is the answer.
    const winner = isUniqueViolation(err) ? await earlierJob(db, principal, idempotency) : null;
    if (winner) return { job: winner, created: false };
    throw err;
  }
  const reason = await enqueueJobs(deps, [created], log);
  if (reason !== null) throw notQueued(created.id, reason);
  return createdJob(created);
}
