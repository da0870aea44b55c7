import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { disposeModel, loadDataset, paramSpecs, buildArchitecture, standardBaselineLr, trainModel, visibleTaps, type Dataset } from '@mwt/core';
import { setupBackend } from '../support/tf.js';

let data: Dataset;
before(async () => {
  await setupBackend();
  data = await loadDataset('mnist', { trainLimit: 1024, testLimit: 200, seed: 5 });
});

describe("the reference's BN-free standard baselines", () => {
  it('counts the kernel taps that see a map: all of them on big maps, the centre one on 1x1', () => {
    assert.equal(visibleTaps(3, 1), 1);
    assert.ok(Math.abs(visibleTaps(3, 2) - 2) < 1e-12);
    assert.ok(Math.abs(visibleTaps(3, 28) - 82 / 28) < 1e-12);
    // The standard SimCNN on 28x28: its last convs run on 1x1 maps, so their fan-in is Cin alone.
    const specs = paramSpecs(buildArchitecture('simcnn-small', [28, 28, 1], 10, { modular: false }));
    const last = specs.find((s) => s.name === 'conv13/kernel');
    assert.equal(last?.fanIn, last?.shape[2]);
    // The modular models keep He's fan-in everywhere (their results are validated with it).
    assert.ok(paramSpecs(buildArchitecture('simcnn-small', [28, 28, 1], 10, { modular: true })).every((s) => s.fanIn === undefined));
  });

  it('a standard simcnn-small (no BatchNorm) learns on 1,024 digits within six epochs', async () => {
    const config = { epochs: 6, batchSize: 32, lr: standardBaselineLr('simcnn-small'), momentum: 0.9, nesterov: true, weightDecay: 0, alpha: 0, beta: 0, seed: 1 };
    const { model, history } = await trainModel('simcnn-small', data, config, { modular: false });
    disposeModel(model);
    const losses = history.map((m) => m.loss.toFixed(3)).join(', ');
    // Before He init over the visible taps the loss stayed at 2.30 (ln 10) and accuracy at chance.
    assert.ok(history[history.length - 1].loss < 0.8 * history[0].loss, `loss per epoch: ${losses}`);
    assert.ok(history[history.length - 1].testAccuracy > 0.4, `test accuracy ${history[history.length - 1].testAccuracy}, loss per epoch: ${losses}`);
  });
});
