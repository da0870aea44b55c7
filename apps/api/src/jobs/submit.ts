/**
 * POST /jobs: stores the job row, owned by the caller's key, then queues its id. With an
 * Idempotency-Key, a repeated request returns the job the first one created (idempotency.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Job } from '@mwt/db';
import { completeJob, toDbJobType, type JobType } from '@mwt/shared';
import type { Principal } from '../auth/principal.js';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { withTimeout } from '../timeout.js';
import type { JobRow } from '../views.js';
import { checkReferences } from './references.js';
import { earlierJob, idempotentRequest, isUniqueViolation } from './idempotency.js';

const ENQUEUE_TIMEOUT_MS = 5_000;

export interface SubmitRequest {
  principal: Principal;
  body: { type: JobType; params?: unknown };
  /** The Idempotency-Key header, if sent. */
  idempotencyKey: string | undefined;
  log: FastifyBaseLogger;
}

export interface Submission {
  job: JobRow;
  /** false when an Idempotency-Key matched an earlier request: `job` is that request's job. */
  created: boolean;
}

export async function submitJob({ prisma, queue }: AppDeps, { principal, body, idempotencyKey, log }: SubmitRequest): Promise<Submission> {
  const job = completeJob(body);
  const idempotency = idempotentRequest(principal, idempotencyKey, job);
  const earlier = idempotency && (await earlierJob(prisma, idempotency));
  if (earlier) return { job: earlier, created: false };
  await checkReferences(prisma, principal, job);

  let created: Job;
  try {
    // No `include` here: a new job has no runs yet, and Prisma 6.19 runs a nested create's
    // relation reads concurrently on one pg connection (a pg deprecation warning).
    created = await prisma.job.create({
      data: {
        type: toDbJobType(job.type),
        state: 'queued',
        payload: job.params,
        ownerKeyId: principal.keyId,
        idempotencyKey: idempotency?.key,
        requestHash: idempotency?.requestHash,
      },
    });
  } catch (err) {
    // A concurrent request with the same Idempotency-Key inserted first: its job is the answer.
    const winner = idempotency && isUniqueViolation(err) ? await earlierJob(prisma, idempotency) : null;
    if (winner) return { job: winner, created: false };
    throw err;
  }

  try {
    // BullMQ job id = our id: the worker finds the row, and DELETE finds the BullMQ job.
    await withTimeout(queue.add(job.type, { jobId: created.id }, { jobId: created.id }), ENQUEUE_TIMEOUT_MS, 'enqueue');
  } catch (err) {
    const reason = (err as Error).message;
    log.error({ err, jobId: created.id }, 'enqueue failed');
    // Never leave a "queued" row that no worker will ever see; only while it is still queued, since
    // a worker's reconciler may have enqueued and started it meanwhile.
    await prisma.job.updateMany({
      where: { id: created.id, state: 'queued' },
      data: { state: 'failed', error: `could not be queued: ${reason}`, finishedAt: new Date() },
    });
    throw new HttpError(503, `job ${created.id} could not be queued (${reason}); it is recorded as failed`);
  }
  return { job: { ...created, runs: [], modularizations: [], modules: [] }, created: true };
}
