// The native backend (C++ kernels of @mwt/native behind tfjs): every kernel it overrides must
// compute what the cpu backend computes, gradients included, and a training step what the wasm
// backend computes (the pure-JS cpu backend would take minutes for one).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { addonPath, NATIVE_BACKEND, nativeKernels, registerNativeBackend } from '@mwt/native';
import { buildArchitecture, createModel, disposeModel, gatherBatch, loadDataset, pairWeights, Sgd, trainStep } from '@mwt/core';
import { initBackend } from '../../packages/core/src/backend/select.js';
import { addRelu } from '../../packages/core/src/ops/add-relu.js';
import { globalAvgPool } from '../../packages/core/src/ops/global-avg-pool.js';
import { maskGate } from '../../packages/core/src/ops/mask-gate.js';
import { maskJaccardMetrics, pairSimilaritySums } from '../../packages/core/src/ops/mask-pairs.js';

const built = existsSync(addonPath);
const skip = built ? false : `native kernels not built (${addonPath}); run npm run build:native`;

before(async () => {
  process.env.MWT_QUIET = '1';
  await initBackend('wasm');
  if (built) registerNativeBackend();
});

/** Runs `compute` on the cpu and the native backend with the same (seeded) inputs; returns both results' values. */
async function onBoth(compute: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; native: Float32Array[] }> {
  const results: Float32Array[][] = [];
  for (const backend of ['cpu', NATIVE_BACKEND]) {
    assert.ok(await tf.setBackend(backend));
    const before = tf.memory().numTensors;
    const values = tf.tidy(() => {
      const out = compute();
      return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync()));
    });
    assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
    results.push(values);
  }
  return { cpu: results[0], native: results[1] };
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1e-3;
  for (const v of expected) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i])) {
      assert.ok(Number.isNaN(actual[i]), `${what}[${i}]: ${actual[i]} vs NaN`);
      continue;
    }
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

async function assertSame(what: string, compute: () => tf.Tensor | tf.Tensor[], tolerance?: number): Promise<void> {
  const { cpu, native } = await onBoth(compute);
  cpu.forEach((expected, i) => assertClose(native[i], expected, `${what} output ${i}`, tolerance));
}

const normal = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

describe('native backend', { skip }, () => {
  type Conv = { x: [number, number, number, number]; f: [number, number, number, number]; stride: number; pad: 'same' | 'valid'; dilation?: number };
  const convs: Conv[] = [
    { x: [2, 9, 9, 3], f: [3, 3, 3, 8], stride: 1, pad: 'same' },
    { x: [2, 9, 9, 3], f: [3, 3, 3, 8], stride: 2, pad: 'same' },
    { x: [2, 8, 7, 5], f: [3, 3, 5, 20], stride: 2, pad: 'valid' },
    { x: [3, 6, 6, 16], f: [1, 1, 16, 36], stride: 2, pad: 'same' },
    { x: [1, 7, 5, 70], f: [2, 3, 70, 66], stride: 1, pad: 'same' },
    { x: [2, 9, 9, 4], f: [3, 3, 4, 4], stride: 1, pad: 'same', dilation: 2 },
    // Images smaller than the window: some taps only ever read padding (skipped), pixel blocks span images.
    // oneDNN gets the smaller conv of the taps used where they are contiguous in the filter (the centre
    // tap; rows 1-3 of 5), our kernels where they are not (the middle column of 2x1 maps).
    { x: [5, 1, 1, 12], f: [3, 3, 12, 20], stride: 1, pad: 'same' },
    { x: [3, 2, 3, 6], f: [5, 5, 6, 9], stride: 1, pad: 'same' },
    { x: [3, 2, 1, 8], f: [3, 3, 8, 10], stride: 1, pad: 'same' },
    // Enough work to be split across threads, with pixel blocks that cross rows within each part.
    { x: [6, 5, 5, 24], f: [3, 3, 24, 40], stride: 1, pad: 'same' },
    // The wide layers of the full-width models (oneDNN's where the addon has it): 3x3 on small maps,
    // a strided 1x1 projection shortcut.
    { x: [3, 4, 4, 256], f: [3, 3, 256, 96], stride: 1, pad: 'same' },
    { x: [2, 4, 4, 128], f: [1, 1, 128, 256], stride: 2, pad: 'same' },
    // Maps of 4x4 and less between wide layers: one GEMM per tap over the pixels it joins (with
    // oneDNN), here on 2x2 maps, on a stride-2 conv down to 4x4, and on 1x1 maps (the centre tap).
    { x: [3, 2, 2, 128], f: [3, 3, 128, 136], stride: 1, pad: 'same' },
    { x: [2, 8, 7, 128], f: [3, 3, 128, 128], stride: 2, pad: 'same' },
    { x: [4, 1, 1, 96], f: [3, 3, 96, 64], stride: 1, pad: 'same' },
    // Each thread takes a band of the result's columns through every tap (above, 136 output channels
    // cut at a cache line into 64 and 72 on two threads): 512-channel layers with a centre tap
    // joining every pixel, and without one (stride 2 down to 2x2).
    { x: [2, 2, 2, 512], f: [3, 3, 512, 512], stride: 1, pad: 'same' },
    { x: [1, 4, 3, 512], f: [3, 3, 512, 512], stride: 2, pad: 'same' },
  ];
  for (const c of convs) {
    test(`conv2d and both gradients: x=${c.x} f=${c.f} stride ${c.stride} ${c.pad}${c.dilation ? ` dilation ${c.dilation}` : ''}`, async () => {
      await assertSame('conv2d', () => {
        const x = normal(c.x, 1) as tf.Tensor4D;
        const f = normal(c.f, 2) as tf.Tensor4D;
        const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation ?? 1);
        const y = conv(x, f);
        // tfjs has no gradient for dilated convolutions.
        if (c.dilation) return [y];
        const weights = normal(y.shape, 3);
        const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), weights)))([x, f]);
        return [y, dx, df];
      });
    });
  }

  test('the wide layers run on oneDNN: its direct JIT kernels (not brgemm, 3x slower there) down to 8x8 maps, a GEMM per tap below', (t) => {
    if (!nativeKernels().convUsesDnnl()) {
      t.skip('built without oneDNN');
      return;
    }
    const implementation = (size: number, inC: number, outC: number) =>
      nativeKernels().convImplementation(Int32Array.from([32, size, size, inC, size, size, outC, 3, 3, 1, 1, 1, 1, 1, 1]));
    for (const [size, channels] of [
      [8, 256],
      [16, 128],
    ]) {
      assert.match(implementation(size, channels, channels), /^jit/, `${size}x${size}x${channels}`);
    }
    for (const size of [4, 2, 1]) assert.equal(implementation(size, 512, 512), 'gemm per tap', `${size}x${size}x512`);
    // Narrow layers on small maps stay with oneDNN's convolutions: a 3x3 window on 1x1 maps only reads
    // padding in 8 of its 9 taps, so oneDNN gets the 1x1 conv of the centre tap. On 2x1 maps the taps used
    // (a column) are not contiguous in the filter: our kernel.
    assert.match(implementation(1, 12, 20), /^jit/);
    assert.equal(nativeKernels().convImplementation(Int32Array.from([4, 2, 1, 12, 2, 1, 20, 3, 3, 1, 1, 1, 1, 1, 1])), 'native');
  });

  test('kernels flush denormal floats to zero on every thread, as TensorFlow does, and JavaScript keeps its own', async () => {
    assert.ok(await tf.setBackend(NATIVE_BACKEND));
    const tiny = 1e-39; // a float32 denormal (normal floats start at 1.18e-38)
    const small = tf.tidy(() => tf.mul(tf.tensor1d([tiny, 1, -tiny, 2e-38]), tf.ones([4])).dataSync());
    assert.deepEqual([...small], [0, 1, -0, Math.fround(2e-38)]);
    // Large enough for the pool's helpers to take part, and for oneDNN's threads.
    const large = tf.tidy(() => tf.mul(tf.fill([400_000], tiny), tf.ones([400_000])).dataSync());
    assert.equal(
      large.findIndex((v) => v !== 0),
      -1,
      'elementwise',
    );
    const conv = tf.tidy(() => tf.conv2d(tf.fill<tf.Rank.R4>([32, 16, 16, 16], tiny), tf.ones<tf.Rank.R4>([3, 3, 16, 16]), 1, 'same').dataSync());
    assert.equal(
      conv.findIndex((v) => v !== 0),
      -1,
      'convolution',
    );
    // Only inside the kernels: JavaScript's float32 rounding still gives a denormal.
    assert.ok(Math.fround(small[3] / 1000) > 0);
  });

  test('the gradient kernels overwrite their outputs: an output full of NaN gives what a zeroed one does', () => {
    const kernels = nativeKernels();
    const random = (length: number, seed: number) => Float32Array.from({ length }, (_, i) => Math.sin((i + 1) * seed));
    // [batch, inH, inW, inC, outH, outW, outC, kH, kW, strides, dilations, padTop, padLeft]: a 3x3
    // window on 1x1 maps (our own kernel) and on 4x4 maps (oneDNN's, where the addon has it).
    for (const size of [1, 4]) {
      const geometry = Int32Array.from([2, size, size, 8, size, size, 6, 3, 3, 1, 1, 1, 1, 1, 1]);
      const [inputs, outputs, filters] = [2 * size * size * 8, 2 * size * size * 6, 9 * 8 * 6];
      const x = random(inputs, 1.3);
      const dy = random(outputs, 2.7);
      const filter = random(filters, 0.9);
      const run = (fill: number) => {
        const dx = new Float32Array(inputs).fill(fill);
        const dFilter = new Float32Array(filters).fill(fill);
        kernels.conv2dBackpropInput(dy, filter, dx, geometry);
        kernels.conv2dBackpropFilter(x, dy, dFilter, geometry);
        return { dx, dFilter };
      };
      assert.deepEqual(run(Number.NaN), run(0), `${size}x${size} maps`);
    }
    const pool = Int32Array.from([2, 4, 4, 3, 2, 2, 3, 2, 2, 2, 2, 1, 1, 0, 0]);
    const [x, dy] = [random(2 * 4 * 4 * 3, 1.1), random(2 * 2 * 2 * 3, 0.7)];
    const maxPoolGrad = (fill: number) => {
      const dx = new Float32Array(x.length).fill(fill);
      kernels.maxPoolGrad(dy, x, dx, pool);
      return dx;
    };
    assert.deepEqual(maxPoolGrad(Number.NaN), maxPoolGrad(0));
  });

  test('matMul: transposes, batches, batch broadcasting, fused bias and ReLU', async () => {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      await assertSame(`matMul ${ta} ${tb}`, () => tf.matMul(normal(ta ? [7, 5] : [5, 7], 1), normal(tb ? [70, 7] : [7, 70], 2), ta, tb));
    }
    await assertSame('batched', () => tf.matMul(normal([3, 5, 7], 1), normal([3, 7, 33], 2)));
    await assertSame('broadcast batch', () => tf.matMul(normal([1, 5, 7], 1), normal([3, 7, 4], 2)));
    await assertSame('fused', () => tf.fused.matMul({ a: normal([6, 9], 1), b: normal([9, 17], 2), bias: normal([17], 3), activation: 'relu' }));
  });

  test('elementwise ops with broadcasting, NaN included', async () => {
    const pairs: [number[], number[]][] = [
      [
        [4, 5],
        [4, 5],
      ],
      [[4, 5], []],
      [[], [3, 2]],
      [
        [4, 1, 1, 3],
        [4, 5, 6, 3],
      ],
      [
        [1, 3],
        [4, 1],
      ],
      [
        [2, 1, 3, 1, 2],
        [2, 4, 1, 5, 2],
      ],
    ];
    for (const [aShape, bShape] of pairs) {
      await assertSame(`binary ${aShape} ${bShape}`, () => {
        const a = normal(aShape, 1);
        const b = tf.add(tf.abs(normal(bShape, 2)), 0.5);
        return [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), tf.maximum(a, b), tf.minimum(a, b)];
      });
    }
    await assertSame('unary', () => {
      const x = tf.concat([normal([50], 4), tf.tensor1d([0, NaN, -0.5, 3])]);
      const positive = tf.add(tf.abs(x), 0.1);
      return [tf.relu(x), tf.step(x, 0.2), tf.neg(x), tf.square(x), tf.sqrt(positive), tf.rsqrt(positive), tf.exp(x), tf.tanh(x)];
    });
  });

  test('reductions over runs of axes, tile-as-broadcast, cast', async () => {
    await assertSame('reductions', () => {
      const x = normal([3, 4, 5, 6], 1);
      const m = normal([40, 7], 2);
      return [tf.sum(x, [1, 2]), tf.mean(x, [1, 2], true), tf.max(x, [1, 2]), tf.sum(m, 0), tf.mean(m, 1), tf.max(m), tf.sum(x), tf.sum(x, [0, 2])];
    });
    await assertSame('tile', () => [tf.broadcastTo(normal([3, 1, 1, 4], 1), [3, 5, 2, 4]), tf.tile(normal([2, 3], 2), [2, 1])]);
    await assertSame('cast', () => [tf.cast(tf.greater(normal([5, 5], 1), 0), 'float32'), tf.matMul(tf.cast(tf.greater(normal([5, 5], 2), 0), 'float32'), normal([5, 2], 3))]);
    await assertSame('int32 falls back to the cpu kernels', () => tf.cast(tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.scalar(4, 'int32')), 'float32'));
  });

  test('max pooling and its gradient, overlapping windows and ties included', async () => {
    for (const [size, stride, pad] of [
      [2, 2, 'valid'],
      [3, 1, 'same'],
      [3, 2, 'same'],
    ] as const) {
      await assertSame(`maxPool ${size} ${stride} ${pad}`, () => {
        // ReLU makes many ties at 0, where the first maximum must win as in tfjs.
        const x = tf.relu(normal([2, 7, 6, 5], 1)) as tf.Tensor4D;
        const pool = (t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, size, stride, pad);
        const y = pool(x);
        return [y, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool(t), normal(y.shape, 2))))(x)];
      });
    }
  });

  test('inference batchNorm (FusedBatchNorm) with per-channel statistics, with and without scale and offset', async () => {
    await assertSame('batchNorm', () => {
      const x = normal([3, 5, 4, 19], 1);
      const mean = normal([19], 2);
      const variance = tf.abs(normal([19], 3));
      const offset = normal([19], 4) as tf.Tensor1D;
      const scale = normal([19], 5) as tf.Tensor1D;
      return [
        tf.batchNorm(x, mean, variance, offset, scale, 1e-5),
        tf.batchNorm(x, mean, variance, undefined, undefined, 1e-3),
        tf.batchNorm(normal([7, 19], 6), mean, variance, offset, scale),
      ];
    });
  });

  test('globalAvgPool equals tf.mean over H and W, gradient included', async () => {
    await assertSame('gap', () => {
      const x = normal([3, 5, 4, 6], 1) as tf.Tensor4D;
      const weights = normal([3, 6], 2);
      const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(globalAvgPool(t as tf.Tensor4D), weights)))(x);
      const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, [1, 2]), weights)))(x);
      return [globalAvgPool(x), tf.mean(x, [1, 2]), ours, theirs];
    });
  });

  test('MwT pair statistics: similarity sums and their gradient, Jaccard metrics; empty and one-kernel rows, >64 kernels', async () => {
    // Labels with same-label and different-label pairs; 70 kernels span two 64-bit words of the bitsets.
    const pairs = pairWeights([0, 1, 0, 2, 1, 1, 0, 3, 2]);
    const oneHot = (kernel: number, value: number) => tf.mul(tf.oneHot([kernel], 70), value);
    await assertSame('pair statistics', () => {
      // Two all-off rows (Jaccard 1 with each other), rows with one kernel on (unions of 1), random rows.
      const rows = [tf.zeros([2, 70]), oneHot(3, 0.7), oneHot(3, 0.2), oneHot(66, 1), tf.relu(normal([4, 70], 1))];
      const mask = tf.concat(rows) as tf.Tensor2D;
      const positive = tf.tensor2d(pairs.positive, [pairs.size, pairs.size]);
      const negative = tf.tensor2d(pairs.negative, [pairs.size, pairs.size]);
      return [pairSimilaritySums(mask, positive, negative), maskJaccardMetrics(mask, positive, negative)];
    });
    // The gradient on rows that are not all off: at an all-off row it is ~1e6 times larger (1 / sqrt(epsilon)),
    // which would hide every other row's error under the relative tolerance.
    await assertSame('pair similarity gradient', () => {
      const mask = tf.add(tf.relu(normal([9, 70], 1)), tf.mul(tf.oneHot(tf.range(0, 9, 1, 'int32'), 70), 0.5)) as tf.Tensor2D;
      const positive = tf.tensor2d(pairs.positive, [pairs.size, pairs.size]);
      const negative = tf.tensor2d(pairs.negative, [pairs.size, pairs.size]);
      const upstream = normal([2], 2);
      return tf.grad((m: tf.Tensor) => tf.sum(tf.mul(pairSimilaritySums(m as tf.Tensor2D, positive, negative), upstream)))(mask);
    });
  });

  test('the MwT mask gate and the gradients of all its inputs, hidden units and kernels switched off included', async () => {
    await assertSame('mask gate', () => {
      const pooled = normal([13, 10], 1) as tf.Tensor2D;
      // b2 from -2 to 2: some kernels' logits stay negative (mask 0, no gradient), some saturate.
      const weights = { w1: normal([10, 7], 2) as tf.Tensor2D, w2: normal([7, 20], 3) as tf.Tensor2D, b2: tf.linspace(-2, 2, 20) };
      const upstream = normal([13, 20], 4);
      const gate = (p: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) =>
        maskGate(p as tf.Tensor2D, { w1: w1 as tf.Tensor2D, w2: w2 as tf.Tensor2D, b2: b2 as tf.Tensor1D });
      const grads = tf.grads((p: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor) => tf.sum(tf.mul(gate(p, w1, w2, b2), upstream)))([
        pooled,
        weights.w1,
        weights.w2,
        weights.b2,
      ]);
      return [maskGate(pooled, weights), ...grads];
    });
  });

  test('addRelu: one pass each way (MwtAddRelu, MwtReluGrad), and bit for bit what tf.relu(tf.add) and its gradient give', async () => {
    // 21 channels: the kernels' 16-wide vectors and their scalar tail; zeros, -0 and NaN at the kink.
    const withKink = (shape: number[], seed: number) =>
      tf
        .concat([tf.tensor1d([0, -0, NaN, 1, -1, 0, NaN]), tf.reshape(normal(shape, seed), [-1])])
        .slice(0, tf.util.sizeFromShape(shape))
        .reshape(shape);
    const cases: [number[], number[]][] = [
      [
        [3, 4, 5, 21],
        [3, 4, 5, 21],
      ],
      [[3, 4, 5, 21], [21]],
    ];
    for (const [aShape, bShape] of cases) {
      const { cpu, native } = await onBoth(() => {
        const a = withKink(aShape, 1);
        const b = withKink(bShape, 2);
        const upstream = withKink(aShape, 3);
        const [dA, dB] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(addRelu(x, y), upstream)))([a, b]);
        return [addRelu(a, b), dA, dB];
      });
      cpu.forEach((expected, i) => assertClose(native[i], expected, `addRelu ${aShape.join('x')} + ${bShape.join('x')} output ${i}`, 0));
    }
    assert.ok(await tf.setBackend(NATIVE_BACKEND));
    const profile = await tf.profile(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(addRelu(x, y)))([normal([2, 3, 3, 4], 1), normal([4], 2)]));
    const kernels = profile.kernelNames;
    assert.ok(kernels.includes('MwtAddRelu') && kernels.includes('MwtReluGrad'), kernels.join(' '));
    assert.ok(!kernels.includes(tf.Relu) && !kernels.includes(tf.Step), kernels.join(' '));
  });

  test('SGD updates a parameter in place, never a tensor that shares its data', async () => {
    assert.ok(await tf.setBackend(NATIVE_BACKEND));
    const initial = tf.tensor1d([1, 2, 3]);
    const param = tf.variable(initial);
    const params = new Map([['w', param]]);
    const optimizer = new Sgd(params, { momentum: 0.5, nesterov: false, weightDecay: 0 });
    // The first step gives the variable data of its own (it shares `initial`'s), the second writes into it.
    optimizer.step(new Map([['w', tf.tensor1d([1, 1, 1])]]), 0.1);
    const own = param.dataSync();
    optimizer.step(new Map([['w', tf.tensor1d([1, 1, 1])]]), 0.1);
    // v = 1, then 1.5: p = [1, 2, 3] - 0.1 - 0.15.
    assertClose(Float32Array.from(param.dataSync()), Float32Array.from([0.75, 1.75, 2.75]), 'parameter', 1e-6);
    assert.deepEqual([...initial.dataSync()], [1, 2, 3], 'the tensor the variable was made from changed');
    assert.ok(param.dataSync() === own, 'the second update made a new array instead of writing in place');
    optimizer.dispose();
    tf.dispose([initial, param]);
  });

  test('a modular training step equals the wasm backend’s, and leaks nothing', async () => {
    const dataset = await loadDataset('mnist', { seed: 0, trainLimit: 64, testLimit: 10 });
    // simcnn-small, with its BN-free first conv: one of conv2's 25,088 pre-activations lies 2.5e-7 (in
    // normalized units) above the ReLU kink. A one-pass float32 batch mean put it below (no gradient
    // through it: conv2's beta update 6.5e-3 off); the portable BatchNorm's two-pass mean agrees with
    // the native kernel's double sums.
    const arch = buildArchitecture('simcnn-small', dataset.inputShape, dataset.numClasses, { modular: true });
    const { images, labels } = gatherBatch(
      dataset.train,
      Array.from({ length: 32 }, (_, i) => i),
      arch.inputShape,
    );
    const run = async (backend: string) => {
      assert.ok(await tf.setBackend(backend));
      const model = createModel(arch, 3);
      const initial = [...model.params.values()].map((v) => Float32Array.from(v.dataSync()));
      const optimizer = new Sgd(model.params, { momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
      const names = new Map([...model.params].map(([name, v]) => [v.name, name]));
      const input = { images, labels, lr: 0.05, dropoutSeed: 1, alpha: 0.5, beta: 1.5, modular: true };
      const first = trainStep(model, optimizer, names, input);
      // What one step changed: later steps would compare float rounding amplified by training.
      const updates = [...model.params.values()].map((v, i) => Float32Array.from(v.dataSync(), (value, j) => value - initial[i][j]));
      const tensors = tf.memory().numTensors;
      trainStep(model, optimizer, names, input);
      trainStep(model, optimizer, names, input);
      assert.equal(tf.memory().numTensors, tensors, `${backend}: a step leaked tensors`);
      optimizer.dispose();
      disposeModel(model);
      return { first, updates };
    };
    const wasm = await run('wasm');
    const native = await run(NATIVE_BACKEND);
    for (const key of ['loss', 'ce', 'cohesion', 'coupling', 'kernelRate', 'batchCohesion', 'batchCoupling', 'correct'] as const) {
      const expected = wasm.first[key];
      assert.ok(Math.abs(native.first[key] - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `${key}: ${native.first[key]} vs ${expected}`);
    }
    wasm.updates.forEach((expected, i) => assertClose(native.updates[i], expected, `update of parameter ${i}`, 1e-3));
  });

  test('is deterministic: threads add partial sums in a fixed order, so two runs agree bit for bit', async () => {
    assert.ok(await tf.setBackend(NATIVE_BACKEND));
    const dataset = await loadDataset('mnist', { seed: 0, trainLimit: 128, testLimit: 10 });
    const arch = buildArchitecture('simcnn-small', dataset.inputShape, dataset.numClasses, { modular: true });
    const { images, labels } = gatherBatch(
      dataset.train,
      Array.from({ length: 128 }, (_, i) => i),
      arch.inputShape,
    );
    const run = () => {
      const model = createModel(arch, 5);
      const optimizer = new Sgd(model.params, { momentum: 0.9, nesterov: true, weightDecay: 0 });
      const names = new Map([...model.params].map(([name, v]) => [v.name, name]));
      for (let i = 0; i < 2; i++) trainStep(model, optimizer, names, { images, labels, lr: 0.05, dropoutSeed: 1, alpha: 0.5, beta: 1.5, modular: true });
      const params = [...model.params.values()].map((v) => Float32Array.from(v.dataSync()));
      optimizer.dispose();
      disposeModel(model);
      return params;
    };
    const first = run();
    const second = run();
    first.forEach((values, i) => assert.deepEqual(second[i], values, `parameter ${i}`));
  });

  test('recycled output arrays never reach a caller: dataSync results and a caller’s own arrays stay intact', async () => {
    assert.ok(await tf.setBackend(NATIVE_BACKEND));
    const own = Float32Array.from({ length: 4096 }, (_, i) => i);
    const wrapped = tf.tensor1d(own);
    const read = tf.tidy(() => tf.relu(tf.add(wrapped, 1)).dataSync());
    const expected = Float32Array.from(read);
    wrapped.dispose();
    // Outputs of the same length, over and over: a recycled array would be one of the two above.
    for (let i = 0; i < 20; i++) tf.tidy(() => tf.mul(tf.neg(tf.fill([4096], i)), 3).dataSync());
    assert.deepEqual(
      own,
      Float32Array.from({ length: 4096 }, (_, i) => i),
    );
    assert.deepEqual(read, expected);
  });

  test('a slice outlives its source: the source’s array is not recycled under it', async () => {
    assert.ok(await tf.setBackend(NATIVE_BACKEND));
    // tf.unstack slices a contiguous range: on the cpu backend's storage, a view of the source's array.
    const [first, second] = tf.tidy(() => tf.unstack(tf.mul(tf.tensor2d([1, 2, 3, 4], [2, 2]), 2)));
    // Outputs of the source's length: a recycled source array would be one of them.
    const others = Array.from({ length: 4 }, (_, i) => tf.mul(tf.fill([4], i + 10), 3));
    assert.deepEqual([...(await first.data()), ...(await second.data())], [2, 4, 6, 8]);
    tf.dispose([first, second, ...others]);
  });

  test('the addon rejects arrays that do not match the dimensions instead of reading past them', () => {
    const kernels = nativeKernels();
    const geometry = Int32Array.from([1, 4, 4, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1]);
    assert.throws(() => kernels.conv2d(new Float32Array(31), new Float32Array(54), new Float32Array(48), geometry), /x has 31 elements, expected 32/);
    assert.throws(() => kernels.matMul(new Float32Array(6), new Float32Array(6), null, new Float32Array(3), Int32Array.from([1, 1, 1, 2, 3, 2, 0, 0]), 0), /c has 3 elements/);
    assert.throws(
      () => kernels.binary(0, new Float32Array(2), Int32Array.from([2]), new Float32Array(3), Int32Array.from([3]), new Float32Array(3), Int32Array.from([3])),
      /broadcast/,
    );
  });
});
