import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { batchMaskMetrics, mwtLosses, pairWeights } from '@mwt/core';
import { setupBackend } from '../support/tf.js';

before(setupBackend);

/** Hand computation over plain arrays: cosine similarity of two rows. */
function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((s, x, i) => s + x * b[i], 0);
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return dot / (norm(a) * norm(b));
}

describe('MwT losses', () => {
  const layer1 = [
    [1, 0, 0.5],
    [1, 0, 0.5],
    [0, 1, 0],
    [0.5, 0.5, 0],
  ];
  const layer2 = [
    [0.2, 0.8],
    [0.9, 0.1],
    [0.3, 0.3],
    [0, 1],
  ];
  const labels = [0, 0, 1, 1];

  it('equal the hand-computed cohesion and coupling', () => {
    // Pairs i<j: same label (0,1), (2,3); different (0,2), (0,3), (1,2), (1,3).
    const expected = (m: number[][]) => {
      const cohesion = 1 - (cosine(m[0], m[1]) + cosine(m[2], m[3])) / 2;
      const coupling = (cosine(m[0], m[2]) + cosine(m[0], m[3]) + cosine(m[1], m[2]) + cosine(m[1], m[3])) / 4;
      return { cohesion, coupling };
    };
    const e1 = expected(layer1);
    const e2 = expected(layer2);
    const masks = [tf.tensor2d(layer1), tf.tensor2d(layer2)];
    const { cohesion, coupling } = mwtLosses(masks, pairWeights(labels));
    assert.ok(Math.abs(cohesion.dataSync()[0] - (e1.cohesion + e2.cohesion) / 2) < 1e-6);
    assert.ok(Math.abs(coupling.dataSync()[0] - (e1.coupling + e2.coupling) / 2) < 1e-6);
    tf.dispose([...masks, cohesion, coupling]);
  });

  it('stay finite, with finite gradients, when a batch has no same-label or no different-label pair', () => {
    const before = tf.memory().numTensors;
    for (const batchLabels of [
      [0, 1, 2, 3],
      [5, 5, 5, 5],
    ]) {
      const pairs = pairWeights(batchLabels);
      // An all-zero row (every kernel off) must not produce 0/0 either.
      const raw = tf.tensor2d([
        [0, 0, 0],
        [1, 0.5, 0],
        [0, 1, 1],
        [0.3, 0.3, 0.3],
      ]);
      const grad = tf.grad((m: tf.Tensor) => {
        const { cohesion, coupling } = mwtLosses([m as tf.Tensor2D], pairs);
        return tf.add(cohesion, coupling);
      })(raw);
      const { cohesion, coupling } = mwtLosses([raw], pairs);
      for (const value of [...cohesion.dataSync(), ...coupling.dataSync(), ...grad.dataSync()]) assert.ok(Number.isFinite(value));
      // No same-label pair: cohesion term is 0; no different-label pair: coupling is 0.
      if (pairs.positiveCount === 0) assert.equal(cohesion.dataSync()[0], 0);
      if (pairs.negativeCount === 0) assert.equal(coupling.dataSync()[0], 0);
      tf.dispose([raw, grad, cohesion, coupling]);
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('batch metrics: kernel rate and Jaccard over binarized masks', () => {
    const mask = tf.tensor2d([
      [1, 0, 0.5],
      [1, 0, 0],
      [0, 1, 0],
      [0, 0.5, 0],
    ]);
    const live = batchMaskMetrics([mask], pairWeights(labels));
    // on: {0,2}, {0}, {1}, {1}; same-label Jaccard: 1/2 and 1; different: 0 everywhere.
    assert.ok(Math.abs(live.kernelRate.dataSync()[0] - 5 / 12) < 1e-6);
    assert.ok(Math.abs(live.cohesion.dataSync()[0] - 0.75) < 1e-6);
    assert.equal(live.coupling.dataSync()[0], 0);
    tf.dispose([mask, live.kernelRate, live.cohesion, live.coupling]);
  });
});
