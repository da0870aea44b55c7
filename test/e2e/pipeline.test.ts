import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadDataset, loadLayersModel, readJsonFile, subsetClasses, type ArtifactMetadata } from '@mwt/core';
import { unpackTar } from '@mwt/shared';
import { AUTH_ENV, testApiKey } from '../support/api-client.js';
import { setupBackend } from '../support/tf.js';
import { freePort, GaveUp, removeServiceKeys, serviceEnv, startProcess, waitFor, type ServiceProcess } from '../support/processes.js';

interface JobView {
  id: string;
  state: string;
  progress: number;
  phase: string | null;
  error: string | null;
  result: Record<string, string | number | null> | null;
}

let api: ServiceProcess;
let worker: ServiceProcess;
let base: string;

const auth = { authorization: `Bearer ${testApiKey()}` };
const json = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> => {
  const response = await fetch(`${base}${path}`, { ...init, headers: { 'content-type': 'application/json', ...auth, ...init?.headers } });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
};

before(async () => {
  await setupBackend();
  const port = await freePort();
  const env = { ...serviceEnv(port), ...AUTH_ENV };
  base = `http://127.0.0.1:${port}`;
  api = startProcess('apps/api/src/main.ts', env);
  worker = startProcess('apps/worker/src/main.ts', env);
  await waitFor('the API', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 60_000);
  await waitFor('the worker', async () => (worker.output().includes('worker ready') ? true : undefined), 60_000);
});

after(async () => {
  await worker?.stop();
  await api?.stop();
  await removeServiceKeys();
});

describe('a pipeline job end to end: HTTP -> Redis -> worker -> Postgres -> HTTP', () => {
  const params = { dataset: 'mnist', model: 'simcnn-small', epochs: 2, batchSize: 32, trainLimit: 400, testLimit: 200, seed: 5, targetClasses: [0, 1], reuseEpochs: 2 };
  let job: JobView;

  it('runs to completion with progress', async () => {
    const created = await json<{ id: string; state: string }>('/jobs', { method: 'POST', body: JSON.stringify({ type: 'pipeline', params }) });
    assert.equal(created.status, 201);
    assert.equal(created.body.state, 'queued');
    const seen = new Set<string>();
    job = await waitFor(
      'the pipeline job',
      async () => {
        const { body } = await json<JobView>(`/jobs/${created.body.id}`);
        if (body.phase) seen.add(body.phase);
        if (body.state === 'failed') throw new GaveUp(`job failed: ${body.error}`);
        return body.state === 'completed' ? body : undefined;
      },
      420_000,
      200,
    ).catch((error: Error) => assert.fail(`${error.message}\n--- worker output ---\n${worker.output()}`));
    assert.equal(job.progress, 100);
    assert.ok(seen.size >= 2, `saw phases ${[...seen].join(', ')}`);
    for (const key of ['standardRunId', 'modularRunId', 'modularizationId', 'moduleId']) assert.equal(typeof job.result?.[key], 'string', key);
  });

  it('stores one metric row per epoch with every series', async () => {
    const { body } = await json<{ metrics: { epoch: number; lr: number; kernelRate: number | null; cohesionLoss: number | null; testAccuracy: number }[] }>(
      `/runs/${job.result?.modularRunId}/metrics`,
    );
    const rows = body.metrics;
    assert.deepEqual(
      rows.map((r) => r.epoch),
      [1, 2],
    );
    // The modular model at the paper's lr, the BN-free standard SimCNN at CNNSplitter's (standardLr).
    assert.equal(rows[0].lr, 0.05);
    const standard = await json<{ metrics: { lr: number }[] }>(`/runs/${job.result?.standardRunId}/metrics`);
    assert.equal(standard.body.metrics[0].lr, 0.01);
    for (const row of rows) {
      assert.equal(typeof row.kernelRate, 'number');
      assert.equal(typeof row.cohesionLoss, 'number');
    }
  });

  it('serves a module that plain tfjs loads and that classifies with the reported accuracy', async () => {
    const modules = await json<{ items: { id: string; kind: string; classes: number[] }[] }>(`/runs/${job.result?.modularRunId}/modules`);
    assert.equal(modules.status, 200);
    const list = modules.body.items;
    assert.equal(list.filter((m) => m.kind === 'class').length, 10);
    const reused = list.find((m) => m.id === job.result?.moduleId);
    assert.ok(reused, 'the reused module is listed');
    assert.deepEqual(reused.classes, [0, 1]);

    const download = await fetch(`${base}/modules/${reused.id}/download`, { headers: auth });
    assert.equal(download.status, 200);
    const bytes = new Uint8Array(await download.arrayBuffer());
    assert.equal(Number(download.headers.get('content-length')), bytes.byteLength);
    const digest = createHash('sha256').update(bytes).digest('hex');
    assert.equal(download.headers.get('etag'), `"${digest}"`);

    const files = await unpackTar(bytes);
    const metadata = readJsonFile<ArtifactMetadata>(files, 'metadata.json');
    assert.deepEqual(metadata.outputClasses, [0, 1]);
    const model = await loadLayersModel(files);
    const data = await loadDataset('mnist', { seed: params.seed, trainLimit: params.trainLimit, testLimit: params.testLimit });
    const test = subsetClasses(data.test, [0, 1], true);
    const x = tf.tensor4d(test.images, [test.count, 28, 28, 1]);
    const predicted = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor, 1).dataSync());
    let correct = 0;
    predicted.forEach((p, i) => (correct += p === test.labels[i] ? 1 : 0));
    const accuracy = correct / test.count;
    assert.ok(Math.abs(accuracy - Number(job.result?.moduleAccuracy)) <= 1 / test.count + 1e-9, `measured ${accuracy}, reported ${job.result?.moduleAccuracy}`);
    x.dispose();
    model.dispose();
  });
});

describe('cancellation of a running job', () => {
  it('stops a training job at the next batch and marks it cancelled', async () => {
    const created = await json<{ id: string }>('/jobs', {
      method: 'POST',
      body: JSON.stringify({ type: 'train-modular', params: { epochs: 50, trainLimit: 2000, testLimit: 100, batchSize: 16 } }),
    });
    assert.equal(created.status, 201);
    await waitFor(
      'the job to train',
      async () => {
        const { body } = await json<JobView>(`/jobs/${created.body.id}`);
        return body.state === 'running' && body.progress > 0 ? true : undefined;
      },
      120_000,
    );
    const cancel = await fetch(`${base}/jobs/${created.body.id}`, { method: 'DELETE', headers: auth });
    assert.equal(cancel.status, 202);
    const cancelled = await waitFor(
      'the job to be cancelled',
      async () => {
        const { body } = await json<JobView>(`/jobs/${created.body.id}`);
        return body.state === 'cancelled' ? body : undefined;
      },
      60_000,
    );
    assert.ok(cancelled.progress < 100);
    const again = await fetch(`${base}/jobs/${created.body.id}`, { method: 'DELETE', headers: auth });
    assert.equal(again.status, 409);
  });
});
