/** Cross-field checks against the database: referenced runs and modularizations, class ids. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobView } from '../../apps/api/src/schemas/job.js';
import { insertModularization, insertRun, startApp, unknownId, type Harness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startApp('references');
});
after(() => h.close());

async function expectError(body: unknown, status: number, message: string) {
  const res = await h.request('POST', '/jobs', body);
  assert.equal(res.status, status, res.body.message);
  assert.equal(res.body.message, message);
}

describe('modularize', () => {
  test('unknown run -> 404', async () => {
    const id = unknownId();
    await expectError({ type: 'modularize', params: { runId: id } }, 404, `params.runId: run ${id} not found`);
  });

  test('standard run -> 400', async () => {
    const { runId } = await insertRun(h, { kind: 'standard' });
    await expectError({ type: 'modularize', params: { runId } }, 400, `params.runId: run ${runId} is a standard run, not a modular run`);
  });

  test('run not completed -> 409', async () => {
    const { runId } = await insertRun(h, { status: 'running' });
    await expectError({ type: 'modularize', params: { runId } }, 409, `params.runId: run ${runId} is running, not completed`);
  });

  test('completed modular run -> 201 with the default threshold', async () => {
    const { runId } = await insertRun(h);
    const res = await h.request<JobView>('POST', '/jobs', { type: 'modularize', params: { runId } });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.params, { runId, threshold: 0.9 });
  });
});

describe('reuse', () => {
  let modularizationId: string;
  before(async () => {
    const { jobId, runId } = await insertRun(h);
    modularizationId = (await insertModularization(h, jobId, runId, [0, 1, 2, 3])).modularization.id;
  });
  const reuse = (params: Record<string, unknown>) => ({ type: 'reuse', params: { modularizationId, targetClasses: [0, 1], ...params } });

  test('unknown modularization -> 404', async () => {
    const id = unknownId();
    await expectError(reuse({ modularizationId: id }), 404, `params.modularizationId: modularization ${id} not found`);
  });

  test('class outside the dataset -> 400 naming the element', async () => {
    await expectError(reuse({ targetClasses: [1, 2, 12] }), 400, 'params.targetClasses[2]: class 12 does not exist in mnist (10 classes)');
  });

  test('class without a module -> 409', async () => {
    await expectError(reuse({ targetClasses: [1, 5] }), 409, `params.targetClasses[1]: modularization ${modularizationId} has no module for class 5`);
  });

  test('unknown standard run -> 404', async () => {
    const id = unknownId();
    await expectError(reuse({ standardRunId: id }), 404, `params.standardRunId: run ${id} not found`);
  });

  test('standardRunId of a modular run -> 400', async () => {
    const { runId } = await insertRun(h, { kind: 'modular' });
    await expectError(reuse({ standardRunId: runId }), 400, `params.standardRunId: run ${runId} is a modular run, not a standard run`);
  });

  test('standard run not completed -> 409', async () => {
    const { runId } = await insertRun(h, { kind: 'standard', status: 'queued' });
    await expectError(reuse({ standardRunId: runId }), 409, `params.standardRunId: run ${runId} is queued, not completed`);
  });

  test('standard run on another dataset -> 400', async () => {
    const { runId } = await insertRun(h, { kind: 'standard', dataset: 'cifar10' });
    await expectError(reuse({ standardRunId: runId }), 400, `params.standardRunId: run ${runId} was trained on cifar10, the modules on mnist`);
  });

  test('valid references -> 201 with defaults', async () => {
    const { runId } = await insertRun(h, { kind: 'standard' });
    const res = await h.request<JobView>('POST', '/jobs', reuse({ targetClasses: [3, 0], standardRunId: runId }));
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.params, { modularizationId, targetClasses: [3, 0], standardRunId: runId, epochs: 10, lr: 0.05, batchSize: 128, seed: 0 });
    assert.equal(await (await h.queue.getJob(res.body.id))?.getState(), 'waiting');
  });
});
