/**
 * POST /jobs under concurrency: submissions that arrive together are stored by one INSERT and
 * queued by one addBulk (apps/api/src/jobs/batcher.ts), yet each caller gets its own job, exactly
 * as a lone request would; with Redis down every caller gets the 503 and every row is failed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobView } from '../../apps/api/src/schemas/job.js';
import { freePort } from '../support/processes.js';
import { RedisServer } from '../support/redis-server.js';
import { startApp, type ErrorBody, type Harness } from './helpers.js';

const JOBS = 120;

const submitAll = <T = JobView>(h: Harness, count: number) =>
  Promise.all(Array.from({ length: count }, (_, seed) => h.request<T>('POST', '/jobs', { type: 'train-standard', params: { seed, epochs: 2 } }, { as: 'alice' })));

describe('concurrent submissions', () => {
  let h: Harness;
  let answers: { status: number; headers: Headers; body: JobView }[];
  before(async () => {
    h = await startApp('batching');
    // Open the connections first (fetch keeps them alive), so that the submissions leave at once.
    await Promise.all(Array.from({ length: JOBS }, async () => (await h.fetch('/healthz')).arrayBuffer()));
    answers = await submitAll(h, JOBS);
  });
  after(() => h.close());

  test('each caller gets 201 and its own job, with its own params', () => {
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([201]));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, JOBS);
    answers.forEach((a, seed) => {
      assert.ok(a.body.type === 'train-standard');
      assert.equal(a.body.params.seed, seed);
      assert.equal(a.headers.get('location'), `/jobs/${a.body.id}`);
    });
  });

  test('each answer is the stored row, as GET /jobs/:id shows it', async () => {
    for (const a of answers.slice(0, 10)) {
      const got = await h.request<JobView>('GET', `/jobs/${a.body.id}`, undefined, { as: 'alice' });
      assert.deepEqual(a.body, got.body);
    }
    const rows = await h.prisma.job.findMany({ where: { id: { in: answers.map((a) => a.body.id) } }, select: { state: true, ownerKeyId: true } });
    assert.equal(rows.length, JOBS);
    assert.ok(rows.every((r) => r.state === 'queued' && r.ownerKeyId === h.keys.alice.id));
  });

  test('every job is queued once, under its row id', async () => {
    const queued = await Promise.all(answers.map((a) => h.queue.getJob(a.body.id)));
    assert.ok(queued.every((job, i) => job?.data.jobId === answers[i].body.id && job.name === 'train-standard'));
    assert.equal(await h.queue.getWaitingCount(), JOBS);
  });

  test('they were written by a few multi-row INSERTs, not one each', async () => {
    // Rows of one INSERT share its transaction id (xmin).
    const { rows } = await h.db.pool.query<{ inserts: number }>('SELECT count(DISTINCT xmin::text)::int AS inserts FROM "Job" WHERE "id" = ANY($1::uuid[])', [
      answers.map((a) => a.body.id),
    ]);
    assert.ok(rows[0].inserts <= JOBS / 4, `${rows[0].inserts} INSERTs for ${JOBS} jobs`);
  });
});

describe('Redis down', () => {
  const missing = RedisServer.missing();
  let redis: RedisServer;
  let h: Harness;
  before(async () => {
    if (missing) return;
    redis = await RedisServer.start(await freePort());
    h = await startApp('batching-redis-down', { env: { REDIS_URL: redis.url } });
  });
  after(async () => {
    // Up again for the harness's cleanup of its queue, then gone.
    await redis?.kill();
    await redis?.restart();
    await h?.close();
    await redis?.kill();
  });

  test('every concurrent caller gets 503, and every row is recorded as failed', { skip: missing ?? false }, async () => {
    await redis.kill();
    const answers = await submitAll<ErrorBody>(h, 20);
    const ids = answers.map((a) => {
      assert.equal(a.status, 503, JSON.stringify(a.body));
      const id = /^job (\S+) could not be queued \(.+\); it is recorded as failed$/.exec(a.body.message)?.[1];
      assert.ok(id, a.body.message);
      return h.trackJob(id);
    });
    assert.equal(new Set(ids).size, 20);
    const rows = await h.prisma.job.findMany({ where: { id: { in: ids } } });
    assert.equal(rows.length, 20);
    for (const row of rows) {
      assert.equal(row.state, 'failed');
      assert.match(row.error ?? '', /^could not be queued: /);
      assert.ok(row.finishedAt);
    }
  });
});
