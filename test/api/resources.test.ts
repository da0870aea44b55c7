/** Runs, metrics, modularizations, modules and downloads, on rows inserted as a worker would. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Static } from 'typebox';
import type { ModularizationView, ModuleList, ModuleView, RunMetrics, RunView } from '../../apps/api/src/schemas/resources.js';
import { insertArtifact, insertModularization, insertRun, startApp, type Harness } from './helpers.js';

let h: Harness;
let jobId: string;
let runId: string;
before(async () => {
  h = await startApp('resources');
  ({ jobId, runId } = await insertRun(h));
});
after(() => h.close());

describe('runs', () => {
  test('GET /runs/:id', async () => {
    const model = await insertArtifact(h, Buffer.from('weights'), 'model.bin');
    await h.prisma.run.update({
      where: { id: runId },
      data: { backend: 'wasm', trainAccuracy: 0.97, testAccuracy: 0.96, wallMs: 1234, params: 27_000, flops: 2_100_000n, modelArtifactId: model.id },
    });
    const res = await h.request<RunView>('GET', `/runs/${runId}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.id, runId);
    assert.equal(res.body.jobId, jobId);
    assert.equal(res.body.kind, 'modular');
    assert.equal(res.body.status, 'completed');
    assert.equal(res.body.flops, 2_100_000);
    assert.deepEqual(res.body.config, { epochs: 2 });
    assert.deepEqual(res.body.links, {
      self: `/runs/${runId}`,
      job: `/jobs/${jobId}`,
      metrics: `/runs/${runId}/metrics`,
      modules: `/runs/${runId}/modules`,
      model: `/artifacts/${model.id}/download`,
    });
  });

  test('GET /runs/:id/metrics returns every series, ordered by epoch', async () => {
    for (const epoch of [2, 1, 3]) {
      await h.prisma.epochMetric.create({
        data: {
          runId,
          epoch,
          lr: 0.05,
          trainAccuracy: 0.8 + epoch / 100,
          testAccuracy: 0.79 + epoch / 100,
          loss: 1 / epoch,
          ceLoss: 0.5 / epoch,
          cohesionLoss: 0.2,
          couplingLoss: 0.1,
          kernelRate: 0.4,
          batchCohesion: 0.9,
          batchCoupling: 0.05,
          durationMs: 1000 + epoch,
        },
      });
    }
    const res = await h.request<Static<typeof RunMetrics>>('GET', `/runs/${runId}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.body.runId, runId);
    assert.deepEqual(
      res.body.metrics.map((m) => m.epoch),
      [1, 2, 3],
    );
    const { createdAt, ...first } = res.body.metrics[0];
    assert.ok(!Number.isNaN(Date.parse(createdAt)));
    assert.deepEqual(first, {
      epoch: 1,
      lr: 0.05,
      trainAccuracy: 0.81,
      testAccuracy: 0.8,
      loss: 1,
      ceLoss: 0.5,
      cohesionLoss: 0.2,
      couplingLoss: 0.1,
      kernelRate: 0.4,
      batchCohesion: 0.9,
      batchCoupling: 0.05,
      durationMs: 1001,
    });
  });

  test('a run without metrics or modules answers empty lists', async () => {
    const other = await insertRun(h, { kind: 'standard' });
    assert.deepEqual((await h.request('GET', `/runs/${other.runId}/metrics`)).body, { runId: other.runId, metrics: [] });
    assert.deepEqual((await h.request('GET', `/runs/${other.runId}/modules`)).body, { items: [] });
  });
});

describe('modularizations, modules, downloads', () => {
  const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
  let modularizationId: string;
  let moduleIds: string[];
  let artifactId: string;

  before(async () => {
    const { modularization, modules } = await insertModularization(h, jobId, runId, [0, 1, 2]);
    modularizationId = modularization.id;
    moduleIds = modules.map((m) => m.id);
    artifactId = (await insertArtifact(h, bytes, 'module-0 ä.bin')).id;
    await h.prisma.module.update({ where: { id: moduleIds[0] }, data: { artifactId, accuracy: 0.99, flops: 1_000n } });
  });

  test('GET /runs/:id/modules lists the modules of its modularizations', async () => {
    const res = await h.request<Static<typeof ModuleList>>('GET', `/runs/${runId}/modules`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.items.map((m) => m.id).sort(), [...moduleIds].sort());
    assert.ok(
      res.body.items.every((m) => !('mask' in m)),
      'masks are not sent',
    );
  });

  test('GET /modules/:id', async () => {
    const res = await h.request<ModuleView>('GET', `/modules/${moduleIds[0]}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.kind, 'class');
    assert.deepEqual(res.body.classes, [0]);
    assert.equal(res.body.kernelRetention, 0.5);
    assert.equal(res.body.accuracy, 0.99);
    assert.equal(res.body.flops, 1000);
    assert.equal(res.body.links.download, `/modules/${moduleIds[0]}/download`);
    assert.equal(res.body.links.modularization, `/modularizations/${modularizationId}`);
  });

  test('GET /modularizations/:id', async () => {
    const res = await h.request<ModularizationView>('GET', `/modularizations/${modularizationId}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.runId, runId);
    assert.equal(res.body.threshold, 0.9);
    assert.deepEqual(res.body.layers, [{ name: 'conv1', kernels: 4 }]);
    assert.deepEqual([...res.body.modules].sort(), [...moduleIds].sort());
    assert.equal(res.body.links.download, null);
  });

  const sha = createHash('sha256').update(bytes).digest('hex');
  const downloads: [string, () => string][] = [
    ['/modules/:id/download', () => `/modules/${moduleIds[0]}/download`],
    ['/artifacts/:id/download', () => `/artifacts/${artifactId}/download`],
  ];
  for (const [route, path] of downloads) {
    test(`GET ${route}: bytes, Content-Length, ETag, Content-Disposition`, async () => {
      const res = await h.fetch(path());
      assert.equal(res.status, 200);
      const body = Buffer.from(await res.arrayBuffer());
      assert.ok(body.equals(bytes));
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      assert.equal(res.headers.get('content-length'), String(bytes.length));
      assert.equal(res.headers.get('etag'), `"${sha}"`);
      assert.equal(createHash('sha256').update(body).digest('hex'), sha);
      assert.equal(res.headers.get('content-disposition'), `attachment; filename="module-0 _.bin"; filename*=UTF-8''module-0%20%C3%A4.bin`);

      const cached = await h.fetch(path(), { headers: { 'if-none-match': `"${sha}"` } });
      assert.equal(cached.status, 304);
      assert.equal((await cached.arrayBuffer()).byteLength, 0);
    });
  }

  test('a module without an artifact -> 404', async () => {
    const res = await h.request('GET', `/modules/${moduleIds[1]}/download`);
    assert.equal(res.status, 404);
    assert.equal(res.body.message, `module ${moduleIds[1]} has no artifact`);
  });

  test('the job lists what it produced', async () => {
    const res = await h.request<{ runs: string[]; modularizations: string[]; modules: string[] }>('GET', `/jobs/${jobId}`);
    assert.deepEqual(res.body.runs, [runId]);
    assert.deepEqual(res.body.modularizations, [modularizationId]);
    assert.deepEqual([...res.body.modules].sort(), [...moduleIds].sort());
  });
});
