// A pipeline job end to end on a worker with MWT_BACKEND=webgpu: training (standard and modular),
// modularization and reuse all on tfjs-backend-webgpu over Dawn. In CI that is Mesa's lavapipe
// (software Vulkan, slow: the job is tiny); where Dawn finds no adapter the test says so and skips.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH_ENV, testApiKey } from '../support/api-client.js';
import { freePort, GaveUp, removeServiceKeys, serviceEnv, startProcess, waitFor, type ServiceProcess } from '../support/processes.js';
import { openAdapter } from '../../packages/core/src/backend/webgpu/adapter.js';

interface JobView {
  id: string;
  state: string;
  progress: number;
  error: string | null;
  result: Record<string, string | number | null> | null;
}

const adapterError = await openAdapter(true).then(
  () => undefined,
  (err: unknown) => (err instanceof Error ? err.message : String(err)),
);
const skip = adapterError === undefined ? false : `no WebGPU adapter (${adapterError}); scripts/ensure-lavapipe.sh installs Mesa's lavapipe`;

let api: ServiceProcess | undefined;
let worker: ServiceProcess | undefined;
let base: string;
const auth = { authorization: `Bearer ${testApiKey()}` };

describe('a pipeline job on a webgpu worker', { skip }, () => {
  before(async () => {
    const port = await freePort();
    const env = { ...serviceEnv(port), ...AUTH_ENV };
    base = `http://127.0.0.1:${port}`;
    api = startProcess('apps/api/src/main.ts', env);
    // MWT_QUIET off: the worker's backend line (with the adapter) is part of what is checked.
    worker = startProcess('apps/worker/src/main.ts', { ...env, MWT_BACKEND: 'webgpu', MWT_QUIET: '0' });
    await waitFor('the API', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 60_000);
    await waitFor('the worker', async () => (worker?.output().includes('worker ready') ? true : undefined), 120_000);
  });

  after(async () => {
    await worker?.stop();
    await api?.stop();
    await removeServiceKeys();
  });

  it('trains, modularizes and reuses on webgpu, and the worker logs the adapter it uses', async () => {
    assert.match(worker?.output() ?? '', /tfjs backend: webgpu \(@tensorflow\/tfjs-backend-webgpu, adapter .+ \(driver: .+\)/);
    const params = { dataset: 'mnist', model: 'simcnn-small', epochs: 1, batchSize: 32, trainLimit: 64, testLimit: 32, seed: 3, targetClasses: [0, 1], reuseEpochs: 1 };
    const response = await fetch(`${base}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ type: 'pipeline', params }) });
    assert.equal(response.status, 201);
    const { id } = (await response.json()) as { id: string };
    const job = await waitFor(
      'the pipeline job on webgpu',
      async () => {
        const body = (await (await fetch(`${base}/jobs/${id}`, { headers: auth })).json()) as JobView;
        if (body.state === 'failed') throw new GaveUp(`job failed: ${body.error}`);
        return body.state === 'completed' ? body : undefined;
      },
      420_000,
      500,
    ).catch((error: Error) => assert.fail(`${error.message}\n--- worker output ---\n${worker?.output()}`));
    assert.equal(job.progress, 100);
    for (const key of ['standardRunId', 'modularRunId', 'modularizationId', 'moduleId']) assert.equal(typeof job.result?.[key], 'string', key);
    const accuracy = Number(job.result?.moduleAccuracy);
    assert.ok(accuracy >= 0 && accuracy <= 1, `module accuracy ${accuracy}`);
  });
});
