import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  addHead,
  buildArchitecture,
  createModel,
  disposeModel,
  exportArtifact,
  forward,
  importArtifact,
  loadLayersModel,
  maskedConvNames,
  pruneModel,
  type ArtifactFiles,
  type Model,
  type ModelName,
} from '@mwt/core';
import { maxAbsDiff, randomImages, setupBackend } from '../support/tf.js';

before(setupBackend);

const metadata = {
  kind: 'model' as const,
  dataset: 'mnist' as const,
  preprocessing: { scale: 1 / 255, mean: [0.1307], std: [0.3081] },
  outputClasses: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  outputClassNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  hyperParameters: { epochs: 1 },
  metrics: { testAccuracy: 0.5 },
};

async function roundTrip(model: Model): Promise<{ files: ArtifactFiles; loaded: Model }> {
  const files = await exportArtifact(model, metadata);
  const { model: loaded } = await importArtifact(files);
  return { files, loaded };
}

function assertSameParams(a: Model, b: Model): void {
  assert.deepEqual([...a.params.keys()].sort(), [...b.params.keys()].sort());
  for (const [name, v] of a.params) {
    const w = b.params.get(name);
    assert.ok(w, name);
    assert.deepEqual(w.shape, v.shape, name);
    assert.equal(w.trainable, v.trainable, name);
    assert.deepEqual(Buffer.from(w.dataSync().buffer), Buffer.from(v.dataSync().buffer), `${name} is not bit-identical`);
  }
}

describe('artifacts', () => {
  const cases: [ModelName, boolean][] = [
    ['simcnn', true],
    ['resnet18', true],
    ['rescnn', true],
    ['rescnn', false],
  ];
  for (const [name, modular] of cases) {
    it(`${name} (${modular ? 'modular' : 'standard, BN-free'}): round-trips bit-identically and its plain LayersModel computes the same logits`, async () => {
      const arch = buildArchitecture(name, [28, 28, 1], 10, { modular, widthMultiplier: 0.0625 });
      const model = createModel(arch, 1);
      const { files, loaded } = await roundTrip(model);
      assertSameParams(model, loaded);
      // What a user does: tf.loadLayersModel on model.json + weights.bin, no custom layers.
      const layersModel = await loadLayersModel(files);
      const x = randomImages(4, [28, 28, 1], 2);
      const ours = tf.tidy(() => forward(arch, model.params, x, { training: false }).logits);
      const theirs = layersModel.predict(x) as tf.Tensor;
      assert.ok(maxAbsDiff(ours.dataSync(), theirs.dataSync()) < 1e-4);
      tf.dispose([x, ours, theirs]);
      layersModel.dispose();
      disposeModel(model);
      disposeModel(loaded);
    });
  }

  it('a pruned residual module with a head exports to plain layers and classifies identically', async () => {
    const arch = buildArchitecture('rescnn', [28, 28, 1], 10, { modular: true, widthMultiplier: 0.0625 });
    const full = createModel(arch, 4);
    const total = maskedConvNames(arch).length;
    let offset = 0;
    const layers = maskedConvNames(arch).map((n) => {
      const kernels = full.params.get(`${n}/kernel`)?.shape[3] ?? 0;
      const layer = { name: n, kernels, offset };
      offset += kernels;
      return layer;
    });
    const mask = Uint8Array.from({ length: offset }, (_, i) => (i % 3 === 0 ? 1 : 0));
    assert.ok(total > 0);
    const module = addHead(pruneModel(full, layers, mask), 2, 7);
    const { files, loaded } = await roundTrip(module);
    assertSameParams(module, loaded);
    const layersModel = await loadLayersModel(files);
    const x = randomImages(3, [28, 28, 1], 8);
    const ours = tf.tidy(() => forward(module.arch, module.params, x, { training: false }).logits);
    const theirs = layersModel.predict(x) as tf.Tensor;
    assert.deepEqual(theirs.shape, [3, 2]);
    assert.ok(maxAbsDiff(ours.dataSync(), theirs.dataSync()) < 1e-4);
    tf.dispose([x, ours, theirs]);
    layersModel.dispose();
    for (const m of [full, module, loaded]) disposeModel(m);
  });
});
