/** Idempotency-Key on POST /jobs: one job per key and job, sequentially and under concurrent retries. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { JobView } from '../../apps/api/src/schemas/job.js';
import { freePort, waitFor } from '../support/processes.js';
import { RedisServer } from '../support/redis-server.js';
import { startApp, type Harness, type KeyName } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startApp('idempotency');
});
after(() => h.close());

const submit = (body: unknown, key: string | undefined, as: KeyName = 'alice') =>
  h.request<JobView>('POST', '/jobs', body, { as, headers: key === undefined ? {} : { 'idempotency-key': key } });

/** Rows and BullMQ jobs behind an Idempotency-Key of a harness key. */
async function stored(key: string, as: KeyName = 'alice') {
  const rows = await h.prisma.job.findMany({ where: { idempotencyKey: `${h.keys[as].id}:${key}` }, select: { id: true } });
  const queued = await Promise.all(rows.map((r) => h.queue.getJob(r.id)));
  return { rows: rows.length, queued: queued.filter(Boolean).length };
}

describe('sequential retries', () => {
  test('the same key and body: 201, then 200 with the same job, marked as a replay', async () => {
    const key = randomUUID();
    const body = { type: 'train-standard', params: { epochs: 2, seed: 11 } };
    const first = await submit(body, key);
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const second = await submit(body, key);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.headers.get('location'), `/jobs/${first.body.id}`);
    assert.deepEqual(second.body, first.body);
    assert.deepEqual(await stored(key), { rows: 1, queued: 1 });
  });

  test('the replay shows the job as it is now', async () => {
    const key = randomUUID();
    const first = await submit({ type: 'train-standard' }, key);
    await h.prisma.job.update({ where: { id: first.body.id }, data: { state: 'running', progress: 40 } });
    const again = await submit({ type: 'train-standard' }, key);
    assert.equal(again.status, 200);
    assert.equal(again.body.state, 'running');
    assert.equal(again.body.progress, 40);
  });

  test('the same job spelled differently (key order, explicit defaults) is the same request', async () => {
    const key = randomUUID();
    const first = await submit({ type: 'train-standard', params: { seed: 3, epochs: 5 } }, key);
    const reordered = await submit({ params: { epochs: 5, seed: 3 }, type: 'train-standard' }, key);
    const withDefaults = await submit({ type: 'train-standard', params: { seed: 3, epochs: 5, dataset: 'mnist', batchSize: 128 } }, key);
    assert.equal(first.status, 201);
    assert.deepEqual([reordered.status, reordered.body.id], [200, first.body.id]);
    assert.deepEqual([withDefaults.status, withDefaults.body.id], [200, first.body.id]);
  });

  test('the same key for a different job -> 409 naming the header; nothing is created', async () => {
    const key = randomUUID();
    assert.equal((await submit({ type: 'train-standard', params: { epochs: 2 } }, key)).status, 201);
    const other = await submit({ type: 'train-standard', params: { epochs: 3 } }, key);
    assert.equal(other.status, 409);
    assert.deepEqual(other.body, {
      statusCode: 409,
      error: 'Conflict',
      message: `Idempotency-Key "${key}" was already used for a different job; use a new key for a new job`,
    });
    assert.deepEqual(await stored(key), { rows: 1, queued: 1 });
  });

  test('keys are per API key: another key with the same header value gets its own job', async () => {
    const key = randomUUID();
    const alices = await submit({ type: 'train-standard' }, key, 'alice');
    const bobs = await submit({ type: 'train-standard' }, key, 'bob');
    assert.equal(alices.status, 201);
    assert.equal(bobs.status, 201);
    assert.notEqual(bobs.body.id, alices.body.id);
  });

  test('without the header, two identical requests are two jobs', async () => {
    const body = { type: 'train-standard', params: { seed: 99 } };
    const [a, b] = [await submit(body, undefined), await submit(body, undefined)];
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.id, b.body.id);
  });

  test('a failed request (400) uses up nothing: the key still creates the job once the body is valid', async () => {
    const key = randomUUID();
    assert.equal((await submit({ type: 'train-standard', params: { epochs: 0 } }, key)).status, 400);
    assert.equal((await submit({ type: 'train-standard' }, key)).status, 201);
  });

  const invalid: [string, string][] = [
    ['', 'headers/idempotency-key must NOT have fewer than 1 characters'],
    ['k'.repeat(201), 'headers/idempotency-key must NOT have more than 200 characters'],
    ['two words', 'headers/idempotency-key must match pattern "^[\\x21-\\x7e]+$"'],
  ];
  for (const [key, message] of invalid) {
    test(`Idempotency-Key ${JSON.stringify(key.slice(0, 20))} -> 400`, async () => {
      const res = await h.request('POST', '/jobs', { type: 'train-standard' }, { as: 'alice', headers: { 'idempotency-key': key } });
      assert.equal(res.status, 400);
      assert.equal(res.body.message, message);
    });
  }
});

describe('concurrent retries', () => {
  test('20 identical requests at once create one job; every answer names it', async () => {
    const key = randomUUID();
    const body = { type: 'train-modular', params: { epochs: 4, seed: 21 } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => submit(body, key)));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, ...Array(18).fill(200), 201].sort(), `statuses ${statuses.join(',')}`);
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
    assert.deepEqual(await stored(key), { rows: 1, queued: 1 });
  });

  test('racing different bodies with one key: one job, the others 409', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, seed) => submit({ type: 'train-standard', params: { seed } }, key)));
    const created = answers.filter((a) => a.status === 201);
    assert.equal(created.length, 1);
    assert.ok(
      answers.every((a) => a.status === 201 || a.status === 409),
      answers.map((a) => a.status).join(','),
    );
    assert.deepEqual(await stored(key), { rows: 1, queued: 1 });
  });
});

describe('a retry after a 503 (Redis down)', () => {
  const missing = RedisServer.missing();
  test('queues the job that the first request could not: it is not replayed as failed', { skip: missing ?? false }, async () => {
    // An API on a private Redis, so that it can be stopped (never the shared one).
    const redis = await RedisServer.start(await freePort());
    const down = await startApp('idempotency-outage', { env: { REDIS_URL: redis.url } });
    try {
      const key = randomUUID();
      const body = { type: 'train-standard', params: { epochs: 1, seed: 5 } };
      const headers = { 'idempotency-key': key };
      await redis.kill();
      const refused = await down.request('POST', '/jobs', body, { as: 'alice', headers });
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.headers.get('retry-after'), '5');
      const id = /^job (\S+) could not be queued/.exec(refused.body.message)?.[1];
      assert.ok(id, refused.body.message);
      down.trackJob(id);

      await redis.restart();
      const retried = await waitFor(
        'the retry to be taken',
        async () => {
          const res = await down.request<JobView>('POST', '/jobs', body, { as: 'alice', headers });
          return res.status === 503 ? undefined : res;
        },
        30_000,
      );
      assert.equal(retried.status, 201, JSON.stringify(retried.body));
      assert.deepEqual([retried.body.id, retried.body.state, retried.body.error], [id, 'queued', null]);
      assert.equal(await down.queue.getJobState(id), 'waiting', 'a worker will run it');
      // Further retries are replays of the queued job, and queue nothing more.
      const replay = await down.request<JobView>('POST', '/jobs', body, { as: 'alice', headers });
      assert.deepEqual([replay.status, replay.body.id, replay.headers.get('idempotent-replayed')], [200, id, 'true']);
      assert.equal((await down.queue.getJobs(['waiting'])).length, 1);
    } finally {
      await down.close();
      await redis.kill();
    }
  });
});
