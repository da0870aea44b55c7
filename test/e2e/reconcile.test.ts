/**
 * The workers' reconciler against the real PostgreSQL and Redis: what it puts back in the queue,
 * what it leaves alone, what it records as failed, and that passes running at once are harmless.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { UnrecoverableError, Worker } from 'bullmq';
import { createDatabase, type Database, type JobState, type PrismaClient } from '@mwt/db';
import { createJobQueue, readConfig, type JobQueue, type QueuedJob } from '@mwt/shared';
import { reconcile } from '../../apps/worker/src/reconciler.js';
import { waitFor } from '../support/processes.js';

const config = readConfig();
const STALE_MS = 10_000;
let db: Database;
let prisma: PrismaClient;
const queues: JobQueue[] = [];
const ids: string[] = [];

before(() => {
  db = createDatabase(config.databaseUrl);
  prisma = db.prisma;
});

after(async () => {
  await prisma.job.deleteMany({ where: { id: { in: ids } } });
  for (const queue of queues) {
    await queue.obliterate({ force: true });
    await queue.close();
  }
  await db.close();
});

/** A queue of its own for each test (as for each deployment): one test's jobs stay out of another's. */
function freshQueue(): JobQueue {
  const queue = createJobQueue({ ...config, queuePrefix: `mwt-test-reconcile-${randomUUID().slice(0, 8)}` });
  queues.push(queue);
  return queue;
}

/** A job row as the API and a worker would have left it, its heartbeat `ageMs` old. */
async function row(state: JobState, ageMs = 0): Promise<string> {
  const job = await prisma.job.create({
    data: { type: 'train_standard', state, payload: { epochs: 1 }, updatedAt: new Date(Date.now() - ageMs) },
  });
  ids.push(job.id);
  return job.id;
}

describe('reconcile', () => {
  it('puts back queued jobs and running ones without heartbeat that Redis lost, once, however many passes run at once', async () => {
    const queued = await row('queued');
    const stale = await row('running', 3 * STALE_MS);
    const alive = await row('running');
    const done = await row('completed', 3 * STALE_MS);
    const queue = freshQueue();
    await Promise.all([1, 2, 3].map(() => reconcile(db, queue, STALE_MS)));
    assert.equal(await queue.getJobState(queued), 'waiting');
    assert.equal(await queue.getJobState(stale), 'waiting');
    assert.equal(await queue.getJobState(alive), 'unknown', 'a job with a fresh heartbeat is left to its worker');
    assert.equal(await queue.getJobState(done), 'unknown');
    const job = await queue.getJob(stale);
    assert.deepEqual([job?.name, job?.data], ['train-standard', { jobId: stale }]);
  });

  it('records as failed a job BullMQ gave up on without its worker recording it', async () => {
    const id = await row('running', 3 * STALE_MS);
    const queue = freshQueue();
    await queue.add('train-standard', { jobId: id }, { jobId: id });
    // A plain BullMQ worker that gives up on it, as BullMQ does with a job that stalled too often.
    const giveUp = new Worker<QueuedJob>(config.queueName, async () => Promise.reject(new UnrecoverableError('job stalled more than allowable limit')), {
      connection: { url: config.redisUrl },
      prefix: queue.opts.prefix,
    });
    try {
      await waitFor('BullMQ to fail the job', async () => ((await queue.getJobState(id)) === 'failed' ? true : undefined), 10_000, 50);
    } finally {
      await giveUp.close();
    }
    const results = await Promise.all([1, 2].map(() => reconcile(db, queue, STALE_MS)));
    assert.equal(
      results.reduce((n, r) => n + r.failed, 0),
      1,
      'recorded once',
    );
    const failed = await prisma.job.findUniqueOrThrow({ where: { id } });
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error, 'the queue gave up on it: job stalled more than allowable limit');
    assert.ok(failed.finishedAt);
  });
});
