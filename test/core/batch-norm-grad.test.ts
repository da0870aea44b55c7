// Checks the fused training BatchNorm (+ mask, + ReLU) of ops/batch-norm.ts: its gradients against
// tfjs autodiff of the plain formulation and against central finite differences, on wasm, cpu and
// the native backend (where it is built: its fused kernels then replace the whole formulation).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { addonPath, NATIVE_BACKEND, registerNativeBackend } from '@mwt/native';
import { initBackend } from '../../packages/core/src/backend/select.js';
import { BN_EPSILON } from '../../packages/core/src/model/params.js';
import { batchNormTrain } from '../../packages/core/src/ops/batch-norm.js';

type Inputs = [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor2D];
const SHAPE: [number, number, number, number] = [3, 4, 5, 6];

function makeInputs(seed: number): Inputs {
  const [b, , , c] = SHAPE;
  return tf.tidy(() => [
    tf.add(tf.randomNormal(SHAPE, 0, 2, 'float32', seed), 0.5) as tf.Tensor4D,
    tf.randomUniform([c], 0.5, 1.5, 'float32', seed + 1) as tf.Tensor1D,
    tf.randomNormal([c], 0, 1, 'float32', seed + 2) as tf.Tensor1D,
    tf.randomUniform([b, c], 0, 1, 'float32', seed + 3) as tf.Tensor2D,
  ]);
}

/** The formulation forward.ts used before: moments, batchNorm4d, mask, ReLU, all differentiated by tfjs. */
function plain([z, gamma, beta, mask]: Inputs, masked: boolean, relu: boolean): tf.Tensor4D {
  const { mean, variance } = tf.moments(z, [0, 1, 2]);
  let y = tf.batchNorm4d(z, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, BN_EPSILON);
  if (masked) y = tf.mul(y, tf.reshape(mask, [SHAPE[0], 1, 1, SHAPE[3]]));
  return relu ? tf.relu(y) : y;
}

function fused([z, gamma, beta, mask]: Inputs, masked: boolean, relu: boolean): tf.Tensor4D {
  return batchNormTrain(z, gamma, beta, masked ? mask : undefined, relu).out;
}

/** Value and gradients (w.r.t. all four inputs) of sum(f(inputs) * weights). */
function evaluate(f: typeof plain, inputs: Inputs, weights: tf.Tensor, masked: boolean, relu: boolean): Float32Array[] {
  return tf.tidy(() => {
    const loss = (...xs: tf.Tensor[]) => tf.sum(tf.mul(f(xs as Inputs, masked, relu), weights)) as tf.Scalar;
    const { value, grads } = tf.valueAndGrads(loss)(masked ? inputs : inputs.slice(0, 3));
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number, what: string): void {
  let scale = 1e-3;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const nativeBuilt = existsSync(addonPath);

before(async () => {
  process.env.MWT_QUIET = '1';
  await initBackend('wasm');
  if (nativeBuilt) registerNativeBackend();
});

describe('fused training BatchNorm', () => {
  for (const backend of ['wasm', 'cpu', NATIVE_BACKEND])
    for (const masked of [true, false])
      for (const relu of [true, false]) {
        const skip = backend === NATIVE_BACKEND && !nativeBuilt ? 'native kernels not built' : false;
        test(`${backend}: masked=${masked} relu=${relu} matches autodiff of the plain formulation`, { skip }, async () => {
          assert.ok(await tf.setBackend(backend));
          const before = tf.memory().numTensors;
          const inputs = makeInputs(7);
          const weights = tf.randomNormal(SHAPE, 0, 1, 'float32', 11);
          const expected = evaluate(plain, inputs, weights, masked, relu);
          const actual = evaluate(fused, inputs, weights, masked, relu);
          ['value', 'dz', 'dgamma', 'dbeta', 'dmask'].forEach((name, i) => {
            if (name === 'dmask' && !masked) return;
            assertClose(actual[i], expected[i], 1e-4, name);
          });
          const stats = tf.tidy(() => {
            const r = batchNormTrain(inputs[0], inputs[1], inputs[2], undefined, relu);
            const ref = tf.moments(inputs[0], [0, 1, 2]);
            return [r.mean, ref.mean, r.variance, ref.variance].map((t) => t.dataSync() as Float32Array);
          });
          assertClose(stats[0], stats[1], 1e-5, 'mean');
          assertClose(stats[2], stats[3], 1e-5, 'variance');
          tf.dispose([...inputs, weights]);
          assert.equal(tf.memory().numTensors, before, 'tensors leaked');
        });
      }

  test('wasm: analytic gradients match central finite differences', async () => {
    assert.ok(await tf.setBackend('wasm'));
    // No ReLU here: its kink would make finite differences meaningless at some points.
    const inputs = makeInputs(3);
    const weights = tf.randomNormal(SHAPE, 0, 1, 'float32', 5);
    const analytic = evaluate(fused, inputs, weights, true, false);
    const eps = 1e-2;
    inputs.forEach((input, which) => {
      const values = input.dataSync() as Float32Array;
      // A few coordinates per input keep the test fast.
      for (const index of [0, Math.floor(values.length / 2), values.length - 1]) {
        const at = (delta: number) => {
          const shifted = values.slice();
          shifted[index] += delta;
          const moved = inputs.map((t, i) => (i === which ? tf.tensor(shifted, t.shape) : t)) as Inputs;
          const loss = tf.tidy(() => tf.sum(tf.mul(fused(moved, true, false), weights)).dataSync()[0]);
          moved[which].dispose();
          return loss;
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        const exact = analytic[which + 1][index];
        assert.ok(Math.abs(numeric - exact) <= 2e-2 * Math.max(1, Math.abs(exact)), `input ${which}[${index}]: numeric ${numeric} vs analytic ${exact}`);
      }
    });
    tf.dispose([...inputs, weights]);
  });
});
