import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildArchitecture, checkpointPosition, createModel, disposeModel, loadDataset, Trainer, TrainingPaused, TrainingStopped, type Dataset, type TrainConfig } from '@mwt/core';
import { setupBackend } from '../support/tf.js';

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
    assert.deepEqual(
      history.map((m) => m.lr),
      [0.05, 0.025],
    );
    trainer.dispose();
    disposeModel(model);
  });

  it('resumes from a checkpoint exactly where an uninterrupted run would be', async () => {
    const straight = createModel(arch(), 1);
    const straightTrainer = new Trainer(straight, data, config);
    let checkpoint: Uint8Array | undefined;
    await straightTrainer.run({ onEpoch: async (m, t) => void (m.epoch === 1 && (checkpoint = await t.checkpoint())) });
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

  it('pauses between two batches of an epoch and resumes bit for bit where an uninterrupted run would be', async () => {
    // 96 samples in batches of 32: three batches an epoch; pause before the third batch of epoch 1.
    const straight = createModel(arch(), 1);
    const straightTrainer = new Trainer(straight, data, config);
    await straightTrainer.run();

    const paused = createModel(arch(), 1);
    const pausedTrainer = new Trainer(paused, data, config);
    let batches = 0;
    const error = await pausedTrainer.run({ onBatch: () => void batches++, shouldPause: () => batches === 2 }).then(
      () => assert.fail('training did not pause'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TrainingPaused);
    assert.deepEqual([error.epochsDone, error.batchesDone], [0, 2]);
    assert.deepEqual(checkpointPosition(error.checkpoint), { epochsDone: 0, batchesDone: 2, totalBatches: 3 });

    // A "new worker": different initial weights, restored from the mid-epoch checkpoint.
    const resumed = createModel(arch(), 99);
    const resumedTrainer = new Trainer(resumed, data, config);
    resumedTrainer.restore(error.checkpoint);
    const seen: string[] = [];
    const history = await resumedTrainer.run({ onBatch: (p) => void seen.push(`${p.epoch}.${p.batch}`) });
    assert.deepEqual(seen, ['1.3', '2.1', '2.2', '2.3'], 'the resumed run trains only the batches the paused one had not');
    const withoutTimes = (h: typeof history) => h.map(({ durationMs: _, ...m }) => m);
    assert.deepEqual(withoutTimes(history), withoutTimes(straightTrainer.history));
    for (const [name, v] of straight.params) {
      assert.deepEqual(resumed.params.get(name)?.dataSync(), v.dataSync(), name);
    }
    for (const t of [straightTrainer, pausedTrainer, resumedTrainer]) t.dispose();
    for (const m of [straight, paused, resumed]) disposeModel(m);
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
    const saved = await trainer.checkpoint();
    assert.throws(() => other.restore(saved), /seed/);
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
