/** GET /models and GET /datasets: the catalog, public, computed from the architecture descriptions and the files on this host. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DatasetInfo, ModelInfo } from '../../apps/api/src/schemas/catalog.js';
import { startApp, type Harness } from './helpers.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mwt-catalog-'));
const previousDataDir = process.env.MWT_DATA_DIR;
let h: Harness;
before(async () => {
  process.env.MWT_DATA_DIR = dataDir;
  h = await startApp('catalog');
});
after(async () => {
  await h.close();
  if (previousDataDir === undefined) delete process.env.MWT_DATA_DIR;
  else process.env.MWT_DATA_DIR = previousDataDir;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /models', () => {
  test("lists every model with the reference's masked layers and kernels, needing no key", async () => {
    const res = await h.request<{ models: ModelInfo[] }>('GET', '/models', undefined, { as: null });
    assert.equal(res.status, 200);
    const byName = new Map(res.body.models.map((m) => [m.name, m]));
    assert.equal(byName.size, 8);
    const counts = Object.fromEntries(
      ['vgg16', 'simcnn', 'resnet18', 'rescnn'].map((n) => [n, [byName.get(n as ModelInfo['name'])?.maskedLayers, byName.get(n as ModelInfo['name'])?.maskedKernels]]),
    );
    assert.deepEqual(counts, { vgg16: [12, 4160], simcnn: [12, 4160], resnet18: [19, 4736], rescnn: [11, 4224] });
    const small = byName.get('resnet18-small');
    assert.equal(small?.kind, 'small');
    assert.equal(small?.maskedKernels, 4736 / 8);
    const vgg = byName.get('vgg16');
    assert.equal(vgg?.kind, 'paper');
    assert.equal(vgg?.dataset, 'cifar10');
    assert.ok(vgg && vgg.modular.params > vgg.withoutMasks.params && vgg.withoutMasks.params === vgg.standard.params);
    // SimCNN's standard baseline is CNNSplitter's BN-free network: no BN parameters, a bias per conv instead.
    const simcnn = byName.get('simcnn');
    assert.ok(simcnn && simcnn.standard.params < simcnn.withoutMasks.params);
    assert.match(simcnn.standard.description, /no BatchNorm/);
    assert.equal(simcnn.standard.lr, 0.01);
    assert.equal(vgg?.standard.lr, 0.05);
    assert.ok(simcnn.datasets.includes('fashion-mnist'));
  });

  test('computes parameters and FLOPs for the dataset asked for, and rejects an unknown one', async () => {
    const cifar = await h.request<{ models: ModelInfo[] }>('GET', '/models?dataset=cifar10', undefined, { as: null });
    const mnist = await h.request<{ models: ModelInfo[] }>('GET', '/models?dataset=fashion-mnist', undefined, { as: null });
    const flops = (body: { models: ModelInfo[] }) => body.models.find((m) => m.name === 'simcnn')?.modular.flops ?? 0;
    assert.equal(mnist.body.models[0].dataset, 'fashion-mnist');
    assert.ok(flops(mnist.body) < flops(cifar.body), 'a 28x28x1 input costs less than a 32x32x3 one');
    const bad = await h.request('GET', '/models?dataset=imagenet', undefined, { as: null });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /dataset/);
  });
});

describe('GET /datasets', () => {
  test('says which datasets this host has, and for the others which files are missing and where it looked', async () => {
    mkdirSync(join(dataDir, 'mnist'));
    for (const name of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte']) writeFileSync(join(dataDir, 'mnist', name), '');
    const res = await h.request<{ dataDir: string; datasets: DatasetInfo[] }>('GET', '/datasets', undefined, { as: null });
    assert.equal(res.status, 200);
    assert.equal(res.body.dataDir, dataDir);
    const byName = new Map(res.body.datasets.map((d) => [d.name, d]));
    const mnist = byName.get('mnist');
    assert.ok(mnist?.available && mnist.bundled && mnist.files === undefined);
    assert.deepEqual([mnist.trainSize, mnist.testSize], [8000, 2000]);
    const cifar = byName.get('cifar10');
    assert.equal(cifar?.defaultAugment, 'crop-flip');
    assert.equal(cifar?.classNames[0], 'airplane');
    assert.equal(cifar?.available, false);
    assert.equal(cifar?.files?.missing.length, 6);
    assert.deepEqual(cifar?.files?.searchedDirs, [join(dataDir, 'cifar-10-batches-bin'), dataDir]);
    const full = byName.get('mnist-full');
    assert.equal(full?.available, false);
    assert.deepEqual(full?.files?.missing, ['t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz']);
    const fashion = byName.get('fashion-mnist');
    assert.equal(fashion?.defaultAugment, 'none');
    assert.deepEqual([fashion?.trainSize, fashion?.testSize, fashion?.classNames.length], [60000, 10000, 10]);
    assert.ok(fashion?.files?.searchedDirs.includes('/usr/share/datasets/fashion-mnist'));
    assert.match(fashion?.input ?? '', /0\.\.255/);
  });

  test('both routes are in the OpenAPI document with named schemas', async () => {
    const res = await h.request<{ paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>('GET', '/docs/json', undefined, { as: null });
    assert.ok(res.body.paths['/models'] && res.body.paths['/datasets']);
    for (const name of ['Model', 'ModelList', 'Dataset', 'DatasetList']) assert.ok(res.body.components.schemas[name], `components.schemas.${name}`);
  });
});
