import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildArchitecture, createModel, disposeModel, loadDataset, Trainer, TrainingStopped, type Dataset, type TrainConfig } from '@mwt/core';
import { setupBackend } from '../support/tf';

let data: Dataset;
before(async () => {
  await setupBackend();
  data = await loadDataset('mnist', { trainLimit: 96, testLimit: 40, seed: 3 });
});

const config: TrainConfig = { epochs: 2, batchSize: 32, lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4, alpha: 0.5, beta: 1.5, seed: 7 };
const arch = () => buildArchitecture('simcnn', [28, 28, 1], 10, { modular: true, widthMultiplier: 0.0625 });

describe('trainer', () => {
  it('leaks no tensor across training epochs and reports every MwT series', async () => {
    const model = createModel(arch(), 1);
    const trainer = new Trainer(model, data, config);
    const counts: number[] = [];
    const history = await trainer.run({ onEpoch: () => void counts.push(tf.memory().numTensors) });
    assert.equal(counts[0], counts[1], `tensors grew from ${counts[0]} to ${counts[1]} over an epoch`);
    assert.equal(history.length, 2);
    for (const m of history) {
      for (const key of ['loss', 'ceLoss', 'cohesionLoss', 'couplingLoss', 'kernelRate', 'batchCohesion', 'batchCoupling', 'trainAccuracy', 'testAccuracy'] as const) {
        assert.ok(Number.isFinite(m[key]), `${key} = ${m[key]}`);
      }
      assert.ok(Math.abs(m.loss - (m.ceLoss + 0.5 * (m.cohesionLoss ?? 0) + 1.5 * (m.couplingLoss ?? 0))) < 1e-4);
    }
    // Cosine annealing over 2 epochs: lr, then lr/2.
    assert.deepEqual(history.map((m) => m.lr), [0.05, 0.025]);
    trainer.dispose();
    disposeModel(model);
  });

  it('resumes from a checkpoint exactly where an uninterrupted run would be', async () => {
    const straight = createModel(arch(), 1);
    const straightTrainer = new Trainer(straight, data, config);
    let checkpoint: Uint8Array | undefined;
    await straightTrainer.run({ onEpoch: (m, t) => void (m.epoch === 1 && (checkpoint = t.checkpoint())) });
    assert.ok(checkpoint);

    // A "new worker": different initial weights, restored from the epoch-1 checkpoint.
    const resumed = createModel(arch(), 99);
    const resumedTrainer = new Trainer(resumed, data, config);
    resumedTrainer.restore(checkpoint);
    assert.equal(resumedTrainer.epochsDone, 1);
    const history = await resumedTrainer.run();
    assert.equal(history.length, 2);
    assert.deepEqual(history[1], { ...straightTrainer.history[1], durationMs: history[1].durationMs });
    for (const [name, v] of straight.params) {
      assert.deepEqual(resumed.params.get(name)?.dataSync(), v.dataSync(), name);
    }
    for (const t of [straightTrainer, resumedTrainer]) t.dispose();
    disposeModel(straight);
    disposeModel(resumed);
  });

  it('stops at the next batch when asked, and rejects a checkpoint of another seed', async () => {
    const model = createModel(arch(), 1);
    const trainer = new Trainer(model, data, config);
    let batches = 0;
    await assert.rejects(
      trainer.run({ onBatch: () => void batches++, shouldStop: () => batches >= 2 }),
      (error: unknown) => error instanceof TrainingStopped && error.epochsDone === 0,
    );
    assert.equal(batches, 2);
    const other = new Trainer(model, data, { ...config, seed: 8 });
    assert.throws(() => other.restore(trainer.checkpoint()), /seed/);
    for (const t of [trainer, other]) t.dispose();
    disposeModel(model);
  });

  it('rejects absurd configurations with the field name', () => {
    const model = createModel(arch(), 1);
    assert.throws(() => new Trainer(model, data, { ...config, epochs: 0 }), /epochs/);
    assert.throws(() => new Trainer(model, data, { ...config, lr: -1 }), /lr/);
    assert.throws(() => new Trainer(model, data, { ...config, batchSize: 2.5 }), /batchSize/);
    disposeModel(model);
  });
});
