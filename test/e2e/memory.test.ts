/**
 * A worker's memory budget (MWT_WORKER_MEMORY_MB), as real processes: a worker whose resident
 * memory passes its budget during training fails the job once, with a message naming the budget,
 * and BullMQ does not retry it (a retry would only take the next worker's memory too). The API is
 * given a generous budget here so that the job reaches the worker at all.
 * And a DELETE takes effect within a training step of several seconds (resnet18 at batch 64): the
 * trainer checks for cancellation between layers, forward and backward.
 */
import assert from 'node:assert/strict';
import { availableParallelism, loadavg } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { Queue } from 'bullmq';
import type { QueuedJob } from '@mwt/shared';
import type { Call, JobView } from '../support/api-client.js';
import { failedInQueue, startWorker, waitFor } from '../support/processes.js';
import { startTestApi, type TestApi } from '../support/test-api.js';

let service: TestApi | undefined;
let env: Record<string, string>;
let http: Call;
let queue: Queue<QueuedJob>;
const jobIds: string[] = [];

before(async () => {
  service = await startTestApi({ MWT_WORKER_MEMORY_MB: '65536' });
  ({ env, http, queue } = service);
});

after(async () => {
  await service?.stop(jobIds);
});

describe('a worker that goes over its memory budget', () => {
  it('fails the job once, naming the budget, without retries', async () => {
    const created = await http<{ id: string }>('POST', '/jobs', {
      type: 'train-modular',
      params: { dataset: 'mnist', model: 'simcnn-small', epochs: 1, trainLimit: 64, testLimit: 20, batchSize: 32 },
    });
    assert.equal(created.status, 201);
    const jobId = created.body.id;
    jobIds.push(jobId);
    // 64 MB (the smallest budget allowed): node with tfjs loaded is well above it after one batch.
    const worker = await startWorker({ ...env, MWT_WORKER_MEMORY_MB: '64' });
    try {
      const job = await waitFor(
        'the job to fail',
        async () => {
          const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
          return body.state === 'failed' ? body : undefined;
        },
        120_000,
      ).catch((error: Error) => assert.fail(`${error.message}\n${worker.output()}`));
      assert.match(job.error ?? '', /^the worker's memory reached \d+ MB after batch 1 of epoch 1, above its budget of 64 MB \(MWT_WORKER_MEMORY_MB\); not retried/);
      assert.equal(job.attempts, 1);
      const bull = await failedInQueue(queue, jobId);
      assert.equal(bull.attemptsMade, 1, 'BullMQ did not retry it');
    } finally {
      await worker.stop();
    }
  });
});

/** The target (issue 10) and a margin for a loaded 2-core machine, where one block's backward can take twice as long. */
const CANCEL_TARGET_MS = 2_000;
const LOAD_MARGIN_MS = 1_000;

/**
 * How many times slower than on idle cores the worker runs now: the bound stretches with it, since a
 * machine with ten runnable processes per core runs each block's backward ten times slower. A cancel
 * that waited for the step to end (10.7 s on idle cores before the fix) stretches as much, so the
 * test still tells the two apart.
 */
function cpuSlowdown(): number {
  return Math.max(1, loadavg()[0] / availableParallelism());
}

describe('cancelling a job in the middle of a long training step', () => {
  it(`takes effect within ${CANCEL_TARGET_MS} ms (+${LOAD_MARGIN_MS} ms, both stretched by the machine's load)`, async () => {
    // One step of full-width resnet18 at batch 64 takes several seconds here (~1.5 GB estimated).
    const params = { dataset: 'mnist', model: 'resnet18', epochs: 1, trainLimit: 128, testLimit: 20, batchSize: 64 };
    const created = await http<{ id: string }>('POST', '/jobs', { type: 'train-modular', params });
    assert.equal(created.status, 201);
    const jobId = created.body.id;
    jobIds.push(jobId);
    const worker = await startWorker(env);
    try {
      // 'training' is reported just before the first step; the first batch takes seconds more.
      await waitFor(
        'the first step',
        async () => {
          const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
          return body.state === 'running' && body.message === 'training' ? true : undefined;
        },
        120_000,
        50,
      ).catch((error: Error) => assert.fail(`${error.message}\n${worker.output()}`));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const before = await http<JobView>('GET', `/jobs/${jobId}`);
      assert.equal(before.body.message, 'training', 'still in the first step when DELETE is sent');
      const sent = performance.now();
      const deleted = await http('DELETE', `/jobs/${jobId}`);
      assert.ok(deleted.status === 202 || deleted.status === 200 || deleted.status === 204, `DELETE answered ${deleted.status}`);
      await waitFor(
        'the job to be cancelled',
        async () => {
          const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
          return body.state === 'cancelled' ? true : undefined;
        },
        60_000,
        25,
      );
      const latencyMs = Math.round(performance.now() - sent);
      const slowdown = cpuSlowdown();
      const boundMs = Math.round((CANCEL_TARGET_MS + LOAD_MARGIN_MS) * slowdown);
      console.log(`cancel latency during a step: ${latencyMs} ms (bound ${boundMs} ms at ${slowdown.toFixed(1)} runnable processes per core)`);
      assert.ok(latencyMs < boundMs, `cancelled ${latencyMs} ms after DELETE, bound ${boundMs} ms at ${slowdown.toFixed(1)} runnable processes per core`);
    } finally {
      await worker.stop();
    }
  });
});
