/** Submitting, reading, listing and cancelling jobs, with the BullMQ side checked in Redis. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cancelChannel } from '@mwt/shared';
import type { JobList, JobView } from '../../apps/api/src/schemas/job.js';
import type { Static } from 'typebox';
import { startApp, type Harness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startApp('jobs');
});
after(() => h.close());

const submit = (body: unknown) => h.request<JobView>('POST', '/jobs', body);

describe('POST /jobs -> GET /jobs/:id', () => {
  test('applies every default, stores the job and queues it under the same id', async () => {
    const res = await submit({ type: 'train-modular', params: { epochs: 3, trainLimit: 500 } });
    assert.equal(res.status, 201);
    const job = res.body;
    assert.equal(res.headers.get('location'), `/jobs/${job.id}`);
    assert.equal(job.type, 'train-modular');
    assert.equal(job.state, 'queued');
    assert.deepEqual(job.params, {
      dataset: 'mnist',
      model: 'simcnn-small',
      epochs: 3,
      batchSize: 128,
      lr: 0.05,
      momentum: 0.9,
      weightDecay: 0,
      seed: 0,
      trainLimit: 500,
      alpha: 0.5,
      beta: 1.5,
    });
    assert.deepEqual(job.links, { self: `/jobs/${job.id}`, events: `/jobs/${job.id}/events`, runs: [], modularizations: [], modules: [] });

    const got = await h.request<JobView>('GET', `/jobs/${job.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, job);
    assert.equal(got.body.progress, 0);
    assert.equal(got.body.durationMs, null);

    const row = await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    assert.equal(row.type, 'train_modular');
    assert.deepEqual(row.payload, job.params);

    const queued = await h.queue.getJob(job.id);
    assert.ok(queued, 'job is in BullMQ');
    assert.equal(queued.name, 'train-modular');
    assert.deepEqual(queued.data, { jobId: job.id });
    assert.equal(await queued.getState(), 'waiting');
  });

  test('params may be omitted where everything has a default', async () => {
    const res = await submit({ type: 'pipeline' });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.params, {
      dataset: 'mnist',
      model: 'simcnn-small',
      epochs: 5,
      batchSize: 128,
      lr: 0.05,
      momentum: 0.9,
      weightDecay: 0,
      seed: 0,
      alpha: 0.5,
      beta: 1.5,
      threshold: 0.9,
      targetClasses: [0, 1],
      reuseEpochs: 10,
      reuseLr: 0.05,
      standardLr: 0.01,
    });
    const standard = await submit({ type: 'train-standard' });
    assert.equal(standard.status, 201);
    assert.equal('alpha' in standard.body.params, false);
    // The standard model's lr follows the model: CNNSplitter's 0.01 for its BN-free SimCNN, else lr.
    const fields = (body: { params: object }): Record<string, unknown> => ({ ...body.params });
    assert.equal(fields(standard.body).lr, 0.01);
    const vgg = await submit({ type: 'pipeline', params: { model: 'vgg16-small', lr: 0.1 } });
    assert.equal(fields(vgg.body).standardLr, 0.1);
    const chosen = await submit({ type: 'train-standard', params: { lr: 0.2 } });
    assert.equal(fields(chosen.body).lr, 0.2);
  });

  test('shows runs, modularizations, modules and timing once a worker has written them', async () => {
    const { body: job } = await submit({ type: 'train-standard', params: { epochs: 1 } });
    const started = new Date(Date.now() - 5_000);
    const finished = new Date(started.getTime() + 4_321);
    await h.prisma.job.update({
      where: { id: job.id },
      data: { state: 'completed', progress: 100, phase: 'done', epoch: 1, totalEpochs: 1, startedAt: started, finishedAt: finished, result: { testAccuracy: 0.9 } },
    });
    const run = await h.prisma.run.create({
      data: { jobId: job.id, kind: 'standard', dataset: 'mnist', model: 'simcnn-small', config: {}, status: 'completed' },
    });
    const got = await h.request<JobView>('GET', `/jobs/${job.id}`);
    assert.equal(got.body.state, 'completed');
    assert.equal(got.body.progress, 100);
    assert.equal(got.body.durationMs, 4_321);
    assert.equal(got.body.startedAt, started.toISOString());
    assert.deepEqual(got.body.result, { testAccuracy: 0.9 });
    assert.deepEqual(got.body.runs, [run.id]);
    assert.deepEqual(got.body.links.runs, [`/runs/${run.id}`]);
  });

  test('a failing enqueue marks the row failed and answers 503', async () => {
    const addBulk = h.queue.addBulk;
    h.queue.addBulk = async () => {
      throw new Error('redis is down');
    };
    try {
      const res = await h.request('POST', '/jobs', { type: 'train-standard' });
      assert.equal(res.status, 503);
      const id = /^job (\S+) could not be queued \(redis is down\); it is recorded as failed$/.exec(res.body.message)?.[1];
      assert.ok(id, res.body.message);
      h.trackJob(id);
      const row = await h.prisma.job.findUniqueOrThrow({ where: { id } });
      assert.equal(row.state, 'failed');
      assert.equal(row.error, 'could not be queued: redis is down');
      assert.ok(row.finishedAt);
    } finally {
      h.queue.addBulk = addBulk;
    }
  });
});

describe('GET /jobs', () => {
  test('filters by type and state and pages newest first without gaps or repeats', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit({ type: 'train-standard', params: { seed: i } })).body.id);
    await h.prisma.job.update({ where: { id: ids[1] }, data: { state: 'failed' } });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/jobs?type=train-standard&state=queued&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await h.request<Static<typeof JobList>>('GET', query);
      assert.equal(res.status, 200);
      assert.ok(res.body.items.length <= 2);
      for (const job of res.body.items) {
        assert.equal(job.type, 'train-standard');
        assert.equal(job.state, 'queued');
      }
      seen.push(...res.body.items.map((j) => j.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 1000);

    assert.equal(new Set(seen).size, seen.length, 'no job on two pages');
    const ours = seen.filter((id) => ids.includes(id));
    assert.deepEqual(ours, [ids[4], ids[3], ids[2], ids[0]], 'newest first, the failed one filtered out');

    const failed = await h.request<Static<typeof JobList>>('GET', '/jobs?state=failed&limit=100');
    assert.ok(failed.body.items.some((j) => j.id === ids[1]));
    const all = await h.request<Static<typeof JobList>>('GET', '/jobs');
    assert.ok(all.body.items.length <= 20, 'default limit 20');
  });
});

describe('DELETE /jobs/:id', () => {
  test('a queued job is removed from BullMQ and cancelled', async () => {
    const { body: job } = await submit({ type: 'train-modular' });
    const res = await h.request<JobView>('DELETE', `/jobs/${job.id}`);
    assert.equal(res.status, 202);
    assert.equal(res.body.state, 'cancelled');
    assert.ok(res.body.finishedAt);
    assert.equal(await h.queue.getJob(job.id), undefined);
    const again = await h.request('DELETE', `/jobs/${job.id}`);
    assert.equal(again.status, 409);
    assert.equal(again.body.message, `job ${job.id} is already cancelled; only queued or running jobs can be cancelled`);
  });

  test('a running job is flagged and its id published on the cancel channel', async () => {
    const { body: job } = await submit({ type: 'train-modular' });
    await h.prisma.job.update({ where: { id: job.id }, data: { state: 'running', startedAt: new Date() } });
    const sub = h.redis.duplicate();
    const heard = new Promise<string>((resolve) => sub.on('message', (_channel, message: string) => resolve(message)));
    await sub.subscribe(cancelChannel({ queuePrefix: h.queue.opts.prefix ?? '', queueName: h.queue.name }));
    try {
      const res = await h.request<JobView>('DELETE', `/jobs/${job.id}`);
      assert.equal(res.status, 202);
      assert.equal(res.body.state, 'running', 'the worker marks it cancelled when it stops');
      assert.equal(res.body.cancelRequested, true);
      assert.equal(await heard, job.id);
    } finally {
      await sub.quit();
    }
  });

  for (const state of ['completed', 'failed'] as const) {
    test(`a ${state} job -> 409`, async () => {
      const { body: job } = await submit({ type: 'train-standard' });
      await h.prisma.job.update({ where: { id: job.id }, data: { state } });
      const res = await h.request('DELETE', `/jobs/${job.id}`);
      assert.equal(res.status, 409);
      assert.deepEqual(res.body, {
        statusCode: 409,
        error: 'Conflict',
        message: `job ${job.id} is already ${state}; only queued or running jobs can be cancelled`,
      });
    });
  }
});
