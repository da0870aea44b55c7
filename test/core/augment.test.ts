/** crop-flip augmentation: what it computes, its determinism per (seed, epoch, batch), and bit-identical resumes. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  augmentBatch,
  augmentSpec,
  buildArchitecture,
  CIFAR10_PREPROCESSING,
  createModel,
  disposeModel,
  loadDataset,
  Trainer,
  TrainingPaused,
  type Dataset,
  type TrainConfig,
} from '@mwt/core';
import { setupBackend } from '../support/tf.js';

/** Image n of a batch of `count` 8x8x3 images: distinct values everywhere, so moves are visible. */
function ramp(count: number): Float32Array {
  return Float32Array.from({ length: count * 8 * 8 * 3 }, (_, i) => i + 1);
}

describe('crop-flip augmentation', () => {
  const spec = augmentSpec('crop-flip', CIFAR10_PREPROCESSING);
  const shape = [8, 8, 3] as const;

  it('pads with black pixels (normalized), crops back to the same size and flips', () => {
    assert.deepEqual(
      spec.fill.map((v) => v.toFixed(4)),
      CIFAR10_PREPROCESSING.mean.map((m, c) => (-m / CIFAR10_PREPROCESSING.std[c]).toFixed(4)),
    );
    const fill = spec.fill.map(Math.fround); // as stored in a Float32Array
    const images = ramp(64);
    const out = augmentBatch(images, shape, spec, { seed: 1, epoch: 0, batch: 0 });
    assert.equal(out.length, images.length);
    assert.notEqual(out, images);
    let padded = 0;
    let flipped = 0;
    for (let n = 0; n < 64; n++) {
      const image = out.subarray(n * 192, (n + 1) * 192);
      const source = images.subarray(n * 192, (n + 1) * 192);
      // Every value is a fill value or a pixel of the same image.
      for (let i = 0; i < 192; i++) assert.ok(image[i] === fill[i % 3] || (image[i] >= source[0] && image[i] <= source[191]), `image ${n} value ${i}`);
      if (image.some((v, i) => v === fill[i % 3])) padded += 1;
      // A flipped, unshifted row reads right to left: find images whose value order decreases along a row.
      const row = Array.from({ length: 8 }, (_, c) => image[(3 * 8 + c) * 3]).filter((v) => v !== fill[0]);
      if (row.length > 1 && row[0] > row[row.length - 1]) flipped += 1;
    }
    // 9x9 offsets and a fair coin over 64 images: most are shifted, about half flipped.
    assert.ok(padded > 40, `padded ${padded}`);
    assert.ok(flipped > 15 && flipped < 49, `flipped ${flipped}`);
    assert.equal(augmentBatch(images, shape, augmentSpec('none', CIFAR10_PREPROCESSING), { seed: 1, epoch: 0, batch: 0 }), images);
  });

  it('draws from (seed, epoch, batch) only', () => {
    const images = ramp(16);
    const draw = (seed: number, epoch: number, batch: number) => augmentBatch(images, shape, spec, { seed, epoch, batch });
    assert.deepEqual(draw(3, 1, 2), draw(3, 1, 2));
    assert.notDeepEqual(draw(3, 1, 2), draw(4, 1, 2));
    assert.notDeepEqual(draw(3, 1, 2), draw(3, 2, 2));
    assert.notDeepEqual(draw(3, 1, 2), draw(3, 1, 3));
  });
});

describe('an augmented training run', () => {
  let data: Dataset;
  before(async () => {
    await setupBackend();
    data = await loadDataset('mnist', { trainLimit: 96, testLimit: 40, seed: 3 });
  });
  const config: TrainConfig = {
    epochs: 2,
    batchSize: 32,
    lr: 0.05,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 0,
    alpha: 0.5,
    beta: 1.5,
    seed: 7,
    augment: augmentSpec('crop-flip', { scale: 1 / 255, mean: [0.1307], std: [0.3081] }),
  };
  const arch = () => buildArchitecture('simcnn', [28, 28, 1], 10, { modular: true, widthMultiplier: 0.0625 });

  it('differs from the plain run, and a paused, resumed run is bit-identical to an uninterrupted one', async () => {
    const straight = createModel(arch(), 1);
    const straightTrainer = new Trainer(straight, data, config);
    await straightTrainer.run();

    const plain = createModel(arch(), 1);
    const plainTrainer = new Trainer(plain, data, { ...config, augment: undefined });
    await plainTrainer.run();
    assert.notDeepEqual(plain.params.get('conv2/kernel')?.dataSync(), straight.params.get('conv2/kernel')?.dataSync());

    const paused = createModel(arch(), 1);
    const pausedTrainer = new Trainer(paused, data, config);
    let batches = 0;
    const error = await pausedTrainer.run({ onBatch: () => void batches++, shouldPause: () => batches === 4 }).then(
      () => assert.fail('training did not pause'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TrainingPaused);
    const resumed = createModel(arch(), 99);
    const resumedTrainer = new Trainer(resumed, data, config);
    resumedTrainer.restore(error.checkpoint);
    await resumedTrainer.run();
    for (const [name, v] of straight.params) assert.deepEqual(resumed.params.get(name)?.dataSync(), v.dataSync(), name);
    for (const t of [straightTrainer, plainTrainer, pausedTrainer, resumedTrainer]) t.dispose();
    for (const m of [straight, plain, paused, resumed]) disposeModel(m);
  });
});
