// The webgpu backend (tfjs-backend-webgpu on Dawn): its gradients of conv, BatchNorm (+ mask + ReLU)
// and the MwT mask kernels equal the cpu backend's, and a modular training step equals the native
// backend's. Runs on whatever adapter Dawn finds: lavapipe (software Vulkan) in CI, the real GPU in
// scripts/gpu-check.sh. Skips, saying why, where Dawn finds no adapter.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { addonPath, NATIVE_BACKEND, registerNativeBackend } from '@mwt/native';
import { createModel, disposeModel, pairWeights, Sgd, trainStepAsync, type Architecture } from '@mwt/core';
import { registerWebgpuBackend, WEBGPU_BACKEND } from '../../packages/core/src/backend/webgpu/backend.js';
import { formatAdapter } from '../../packages/core/src/backend/webgpu/adapter.js';
import { batchNormTrain } from '../../packages/core/src/ops/batch-norm.js';
import { MWT_BATCH_NORM_TRAIN, MWT_MASK_GATE, MWT_MASK_GATE_GRAD, MWT_MASK_JACCARD, MWT_PAIR_SIMILARITY, MWT_PAIR_SIMILARITY_GRAD } from '../../packages/core/src/kernel-names.js';
import { conv2d } from '../../packages/core/src/ops/conv2d.js';
import { globalAvgPool } from '../../packages/core/src/ops/global-avg-pool.js';
import { maskGate } from '../../packages/core/src/ops/mask-gate.js';
import { MWT_GLOBAL_AVG_POOL, MWT_GLOBAL_AVG_POOL_GRAD } from '../../packages/core/src/kernel-names.js';
import { maskJaccardMetrics, pairSimilaritySums } from '../../packages/core/src/ops/mask-pairs.js';

process.env.MWT_QUIET ??= '1';
const adapter = await registerWebgpuBackend(true).then(
  (info) => info.adapter,
  (err: unknown) => (err instanceof Error ? err.message : String(err)),
);
const skip = typeof adapter === 'string' ? `no WebGPU adapter (${adapter}); scripts/ensure-lavapipe.sh installs Mesa's lavapipe` : false;
const nativeBuilt = existsSync(addonPath);

before(() => {
  if (typeof adapter !== 'string') {
    console.log(`# webgpu adapter: ${formatAdapter(adapter)}`);
    console.log(`# fused WGSL kernels (BatchNorm, SGD): ${tf.getKernel(MWT_BATCH_NORM_TRAIN, WEBGPU_BACKEND) ? 'registered' : 'not registered (device limits): tfjs ops'}`);
    console.log(`# Conv2DBackpropFilter: ${process.env.MWT_WEBGPU_FUSED === '0' ? "tfjs' own shader (MWT_WEBGPU_FUSED=0)" : 'the GEMM kernel'}`);
  }
  if (nativeBuilt) registerNativeBackend();
});

/** Deterministic values in [-1, 1): the same inputs on every backend. */
function values(n: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}
const input = (shape: number[], seed: number) =>
  tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

/** Runs `compute` on one backend; reads its outputs asynchronously (webgpu has no synchronous read in Node). */
async function on(backend: string, compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend), `tf.setBackend('${backend}')`);
  const before = tf.memory().numTensors;
  const outputs = tf.tidy(compute);
  const read = await Promise.all(outputs.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(outputs);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return read;
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tolerance: number): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1e-3;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (scale ${scale})`);
  }
}

/** webgpu against the cpu backend (plain JS, the reference), every output and gradient. */
async function assertMatchesCpu(what: string, compute: () => tf.Tensor[], tolerance = 1e-4): Promise<void> {
  const expected = await on('cpu', compute);
  const actual = await on(WEBGPU_BACKEND, compute);
  expected.forEach((e, i) => assertClose(actual[i], e, `${what} output ${i}`, tolerance));
}

describe('webgpu backend', { skip }, () => {
  for (const [x, f, stride] of [
    [[2, 7, 7, 3], [3, 3, 3, 8], 1],
    [[2, 8, 8, 4], [3, 3, 4, 6], 2],
    [[2, 6, 6, 8], [1, 1, 8, 16], 2],
  ] as const) {
    test(`conv2d and both gradients: x=${x} f=${f} stride ${stride}`, async () => {
      await assertMatchesCpu('conv2d', () => {
        const [xs, fs, upstream] = [input([...x], 1), input([...f], 2), input([x[0], Math.ceil(x[1] / stride), Math.ceil(x[2] / stride), f[3]], 3)];
        const conv = (a: tf.Tensor, b: tf.Tensor) => conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same');
        return [conv(xs, fs), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), upstream)))([xs, fs])];
      });
    });
  }

  // The zoo's layer shapes (3x3 'same' convs down to 1x1 maps, the residual blocks' stride-2 3x3 and
  // 1x1 projection), the other paddings tfjs passes in (valid, explicit, a 7x7 stride-2 stem) and the
  // split GEMM. The filter gradient is our GEMM kernel (conv2d-backprop-filter.ts), checked against the cpu's.
  type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  const zooShapes: Array<[number[], number[], number, Pad]> = [
    [[2, 8, 8, 64], [3, 3, 64, 64], 1, 'same'],
    [[2, 4, 4, 128], [3, 3, 128, 128], 1, 'same'],
    [[2, 2, 2, 256], [3, 3, 256, 256], 1, 'same'],
    [[2, 1, 1, 512], [3, 3, 512, 512], 1, 'same'],
    [[2, 8, 8, 64], [3, 3, 64, 128], 2, 'same'],
    [[2, 7, 7, 64], [1, 1, 64, 128], 2, 'same'],
    [[3, 4, 4, 96], [1, 1, 96, 32], 1, 'valid'],
    [[2, 9, 9, 5], [3, 3, 5, 7], 2, 'valid'],
    [
      [2, 6, 5, 4],
      [3, 2, 4, 6],
      1,
      [
        [0, 0],
        [2, 0],
        [1, 1],
        [0, 0],
      ],
    ],
    [[2, 16, 16, 3], [7, 7, 3, 16], 2, 'same'],
    // Few output tiles against >= 1024 rows of N: the GEMM is split along the batch (3 and 4 slices).
    [[6, 16, 16, 4], [3, 3, 4, 8], 1, 'same'],
    [[8, 16, 16, 8], [1, 1, 8, 16], 1, 'valid'],
  ];
  for (const [x, f, stride, pad] of zooShapes) {
    test(`conv2d filter and input gradients: x=${x} f=${f} stride ${stride} pad ${JSON.stringify(pad)}`, async () => {
      await assertMatchesCpu('conv2d gradients', () => {
        const [xs, fs] = [input(x, 1), input(f, 2)];
        const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
        const upstream = input(conv(xs, fs).shape, 3);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), upstream)))([xs, fs]);
      });
    });
  }

  // The last case spans several rows per reduction slice of the fused kernels (batch-norm-programs.ts).
  for (const [[batch, height, width, channels], masked] of [
    [[3, 5, 5, 6], true],
    [[3, 5, 5, 6], false],
    [[2, 20, 20, 64], true],
  ] as const) {
    test(`BatchNorm in training mode${masked ? ' with the MwT mask' : ''} and ReLU, z=${[batch, height, width, channels]}: output, statistics and every gradient`, async () => {
      await assertMatchesCpu(
        'batchNormTrain',
        () => {
          const z = tf.mul(tf.add(input([batch, height, width, channels], 1), 0.3), 2) as tf.Tensor4D;
          const gamma = tf.add(input([channels], 2), 1) as tf.Tensor1D;
          const beta = input([channels], 3) as tf.Tensor1D;
          // Mask values in [0, 1] with some kernels switched off, as the gate produces them.
          const mask = tf.relu(input([batch, channels], 4)) as tf.Tensor2D;
          const upstream = input([batch, height, width, channels], 5);
          const loss = (...args: tf.Tensor[]) =>
            tf.sum(
              tf.mul(batchNormTrain(args[0] as tf.Tensor4D, args[1] as tf.Tensor1D, args[2] as tf.Tensor1D, masked ? (args[3] as tf.Tensor2D) : undefined, true).out, upstream),
            );
          const { out, mean, variance } = batchNormTrain(z, gamma, beta, masked ? mask : undefined, true);
          return [out, mean, variance, ...tf.grads(loss)(masked ? [z, gamma, beta, mask] : [z, gamma, beta])];
        },
        2e-4,
      );
    });
  }

  // The gate and the pair statistics are WGSL kernels on webgpu (mask-gate-kernels.ts, mask-pair-kernels.ts),
  // checked here against the cpu backend's composition of tfjs ops (the portable formulation).
  test('the MwT mask gate, pair statistics and Jaccard metrics are webgpu kernels here', { skip: process.env.MWT_WEBGPU_FUSED === '0' ? 'MWT_WEBGPU_FUSED=0' : false }, () => {
    for (const name of [MWT_MASK_GATE, MWT_MASK_GATE_GRAD, MWT_GLOBAL_AVG_POOL, MWT_GLOBAL_AVG_POOL_GRAD, MWT_PAIR_SIMILARITY, MWT_PAIR_SIMILARITY_GRAD, MWT_MASK_JACCARD]) {
      assert.ok(tf.getKernel(name, WEBGPU_BACKEND), `${name} registered on webgpu`);
    }
  });

  for (const [batch, inputs, hidden, kernels] of [
    [9, 10, 7, 20],
    [16, 64, 16, 128],
  ]) {
    test(`the MwT mask gate and its gradients, kernels switched off included: batch ${batch}, ${inputs} -> ${hidden} -> ${kernels}`, async () => {
      await assertMatchesCpu('maskGate', () => {
        const [pooled, w1, w2, upstream] = [input([batch, inputs], 1), input([inputs, hidden], 2), input([hidden, kernels], 3), input([batch, kernels], 4)];
        const b2 = tf.linspace(-1.5, 1.5, kernels);
        const gate = (p: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => maskGate(p as tf.Tensor2D, { w1: a as tf.Tensor2D, w2: b as tf.Tensor2D, b2: c as tf.Tensor1D });
        return [
          gate(pooled, w1, w2, b2),
          ...tf.grads((p: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(gate(p, a, b, c), upstream)))([pooled, w1, w2, b2]),
        ];
      });
    });
  }

  test('the gate’s global average pooling and its gradient', async () => {
    await assertMatchesCpu('globalAvgPool', () => {
      const [x, upstream] = [input([3, 5, 4, 6], 1), input([3, 6], 2)];
      const pooled = (t: tf.Tensor) => globalAvgPool(t as tf.Tensor4D);
      return [pooled(x), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pooled(t), upstream)))(x)];
    });
  });

  const labelSets: Array<[string, number[], number]> = [
    ['8 samples, 40 kernels', [0, 1, 0, 2, 1, 1, 0, 3], 40],
    ['16 samples, 64 kernels, two rows all off', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], 64],
    // The size of a vgg16 step's widest layer: many 16 x 16 tiles of the pair matrix, a ragged last one.
    ['128 samples, 512 kernels, two rows all off', Array.from({ length: 128 }, (_, i) => (i * 7) % 10), 512],
    ['37 samples, 21 kernels, two rows all off', Array.from({ length: 37 }, (_, i) => i % 4), 21],
  ];
  for (const [what, labels, kernels] of labelSets) {
    test(`MwT pair statistics: similarity sums, their gradient, Jaccard metrics (${what})`, async () => {
      const pairs = pairWeights(labels);
      const batch = labels.length;
      await assertMatchesCpu('pair statistics', () => {
        // Rows with kernels on (a diagonal of 0.5), except in the second case rows 3 and 12, all off:
        // their similarity gradient is finite through epsilon, and two empty rows count as identical.
        const on = tf.add(tf.relu(input([batch, kernels], 1)), tf.mul(tf.oneHot(tf.range(0, batch, 1, 'int32'), kernels), 0.5));
        const rowsOff = tf.tensor2d(
          Array.from({ length: batch }, (_, i) => (batch > 8 && (i === 3 || i === 12) ? 0 : 1)),
          [batch, 1],
        );
        const mask = tf.mul(on, rowsOff) as tf.Tensor2D;
        const positive = tf.tensor2d(pairs.positive, [pairs.size, pairs.size]);
        const negative = tf.tensor2d(pairs.negative, [pairs.size, pairs.size]);
        const upstream = tf.tensor1d([0.7, -1.3]);
        const sums = (m: tf.Tensor) => pairSimilaritySums(m as tf.Tensor2D, positive, negative);
        return [sums(mask), maskJaccardMetrics(mask, positive, negative), tf.grad((m: tf.Tensor) => tf.sum(tf.mul(sums(m), upstream)))(mask)];
      });
    });
  }

  for (const nesterov of [true, false]) {
    test(`the SGD update (momentum${nesterov ? ', Nesterov' : ''}, weight decay): parameters and velocities`, async () => {
      await assertMatchesCpu('sgd', () => {
        const params = new Map([
          ['w', tf.variable(input([7, 5], 1))],
          ['b', tf.variable(input([5], 2))],
        ]);
        const sgd = new Sgd(params, { momentum: 0.9, nesterov, weightDecay: 5e-4 });
        const grads = (seed: number) =>
          new Map([
            ['w', input([7, 5], seed)],
            ['b', input([5], seed + 1)],
          ]);
        sgd.step(grads(3), 0.05);
        sgd.step(grads(5), 0.05);
        const out = [...params.values(), ...sgd.velocities.values()].map((v) => tf.clone(v));
        sgd.dispose();
        tf.dispose([...params.values()]);
        return out;
      });
    });
  }

  test('in-place updates: a value read between steps is not served stale, and a tensor that shared a variable’s data keeps its value', async () => {
    assert.ok(await tf.setBackend(WEBGPU_BACKEND));
    const initial = [0.5, -1, 2];
    const w = tf.variable(tf.tensor1d(initial));
    const snapshot = tf.clone(w); // shares w's data until the update makes w's its own
    const sgd = new Sgd(new Map([['w', w]]), { momentum: 0.9, nesterov: false, weightDecay: 0 });
    const grad = tf.tensor1d([1, 2, 3]);
    const expected = [...initial];
    const velocity = [0, 0, 0];
    for (let step = 0; step < 2; step++) {
      sgd.step(new Map([['w', grad]]), 0.1);
      [1, 2, 3].forEach((g, i) => {
        velocity[i] = 0.9 * velocity[i] + g;
        expected[i] -= 0.1 * velocity[i];
      });
      assertClose(Float32Array.from(await w.data()), Float32Array.from(expected), `w after step ${step + 1}`, 1e-6);
    }
    assertClose(Float32Array.from(await snapshot.data()), Float32Array.from(initial), 'the clone taken before the updates', 0);
    sgd.dispose();
    tf.dispose([w, snapshot, grad]);
  });

  test('a modular training step equals the native backend’s, and leaks nothing', { skip: nativeBuilt ? false : `native kernels not built (${addonPath})` }, async () => {
    // A small network with every block kind of the zoo's models: plain and masked convs, a pool, a
    // masked residual block with a projection shortcut, global average pooling, a dense layer.
    const arch: Architecture = {
      model: 'webgpu-test',
      inputShape: [8, 8, 3],
      outputs: 4,
      blocks: [
        { type: 'conv', name: 'conv1', filters: 8, kernelSize: 3, stride: 1, masked: false },
        { type: 'conv', name: 'conv2', filters: 8, kernelSize: 3, stride: 1, masked: true },
        { type: 'maxPool', name: 'pool1', size: 2 },
        { type: 'residual', name: 'res1', filters: 12, innerFilters: 12, stride: 2, masked: true, projection: true },
        { type: 'globalAvgPool', name: 'gap' },
        { type: 'dense', name: 'fc1', units: 4, relu: false, dropout: 0 },
      ],
    };
    const batch = 8;
    const images = values(batch * 8 * 8 * 3, 7);
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 4);
    const run = async (backend: string) => {
      assert.ok(await tf.setBackend(backend));
      const model = createModel(arch, 3);
      const read = () => Promise.all([...model.params.values()].map(async (v) => Float32Array.from(await v.data())));
      const initial = await read();
      const optimizer = new Sgd(model.params, { momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
      const names = new Map([...model.params].map(([name, v]) => [v.name, name]));
      const step = () => trainStepAsync(model, optimizer, names, { images, labels, lr: 0.05, dropoutSeed: 1, alpha: 0.5, beta: 1.5, modular: true });
      const first = await step();
      const updates = (await read()).map((after, i) => after.map((value, j) => value - initial[i][j]));
      const tensors = tf.memory().numTensors;
      await step();
      assert.equal(tf.memory().numTensors, tensors, `${backend}: a step leaked tensors`);
      optimizer.dispose();
      disposeModel(model);
      return { first, updates };
    };
    const native = await run(NATIVE_BACKEND);
    const webgpu = await run(WEBGPU_BACKEND);
    for (const key of ['loss', 'ce', 'cohesion', 'coupling', 'kernelRate', 'batchCohesion', 'batchCoupling', 'correct'] as const) {
      const expected = native.first[key];
      assert.ok(Math.abs(webgpu.first[key] - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `${key}: ${webgpu.first[key]} vs ${expected}`);
    }
    native.updates.forEach((expected, i) => assertClose(webgpu.updates[i], expected, `update of parameter ${i}`, 1e-3));
  });
});
