/**
 * POST /jobs refuses a training job whose estimated peak memory is above the worker budget
 * (MWT_WORKER_MEMORY_MB, 1 GB here), naming batchSize, for every job type that trains.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertModularization, insertRun, startApp, type Harness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startApp('memory-budget', { env: { MWT_WORKER_MEMORY_MB: '1024' } });
});
after(async () => {
  await h.close();
});

const OVER = /^body\/params\/batchSize: job needs an estimated \d+\.\d GB, above the worker budget of 1\.0 GB \(MWT_WORKER_MEMORY_MB\)/;

for (const type of ['train-modular', 'train-standard', 'pipeline']) {
  test(`${type}: resnet18 at batch 1024 -> 400 naming batchSize and the budget`, async () => {
    const res = await h.request('POST', '/jobs', { type, params: { dataset: 'mnist', model: 'resnet18', batchSize: 1024, epochs: 1 } });
    assert.equal(res.status, 400);
    assert.match(res.body.message, OVER);
  });
}

test('reuse: fine-tuning modules of a resnet18 run at batch 1024 -> 400 naming batchSize', async () => {
  const { jobId, runId } = await insertRun(h);
  await h.prisma.run.update({ where: { id: runId }, data: { model: 'resnet18' } });
  const { modularization } = await insertModularization(h, jobId, runId, [0, 1]);
  const res = await h.request('POST', '/jobs', { type: 'reuse', params: { modularizationId: modularization.id, targetClasses: [0, 1], batchSize: 1024 } });
  assert.equal(res.status, 400);
  assert.match(res.body.message, OVER);
});

test('a small job under the budget is accepted', async () => {
  const res = await h.request<{ id: string }>('POST', '/jobs', {
    type: 'train-modular',
    params: { dataset: 'mnist', model: 'simcnn-small', batchSize: 32, epochs: 1, trainLimit: 100 },
  });
  assert.equal(res.status, 201);
  h.trackJob(res.body.id);
});
