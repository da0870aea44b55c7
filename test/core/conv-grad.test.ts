// Checks the conv2d gradients: wasm (expressed as forward convs), the cpu backend and the native
// backend (where built) against an exact float64 reference, and wasm against cpu.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { addonPath, NATIVE_BACKEND, registerNativeBackend } from '@mwt/native';
import { initBackend } from '../../packages/core/src/backend/select.js';
import { conv2d, type ConvPadding } from '../../packages/core/src/ops/conv2d.js';

type Shape4 = [number, number, number, number];

interface Case {
  x: Shape4;
  f: Shape4;
  stride: number;
  pad: ConvPadding;
}

interface Result {
  y: Float64Array;
  dx: Float64Array;
  df: Float64Array;
}

/** Deterministic values in [-1, 1), rounded to float32 so both sides see the same inputs. */
function randomValues(n: number, seed: number): Float64Array {
  let state = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = Math.fround((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1);
  }
  return out;
}

/** TF's output size and leading pad along one axis, written independently of the op. */
function geometry(size: number, k: number, s: number, pad: ConvPadding): { out: number; before: number } {
  if (pad === 'valid') return { out: Math.floor((size - k) / s) + 1, before: 0 };
  const out = Math.ceil(size / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
}

function outShape(c: Case): Shape4 {
  return [c.x[0], geometry(c.x[1], c.f[0], c.stride, c.pad).out, geometry(c.x[2], c.f[1], c.stride, c.pad).out, c.f[3]];
}

/** Float64 conv forward and the exact gradients of sum(conv(x, f) * dy). */
function reference(c: Case, x: Float64Array, f: Float64Array, dy: Float64Array): Result {
  const [B, H, W, Ci] = c.x;
  const [KH, KW, , Co] = c.f;
  const [, Ho, Wo] = outShape(c);
  const top = geometry(H, KH, c.stride, c.pad).before;
  const left = geometry(W, KW, c.stride, c.pad).before;
  const y = new Float64Array(B * Ho * Wo * Co);
  const dx = new Float64Array(x.length);
  const df = new Float64Array(f.length);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < Ho; i++)
      for (let j = 0; j < Wo; j++)
        for (let p = 0; p < KH; p++)
          for (let q = 0; q < KW; q++) {
            const r = i * c.stride + p - top;
            const col = j * c.stride + q - left;
            if (r < 0 || r >= H || col < 0 || col >= W) continue;
            for (let ci = 0; ci < Ci; ci++)
              for (let co = 0; co < Co; co++) {
                const xi = ((b * H + r) * W + col) * Ci + ci;
                const fi = ((p * KW + q) * Ci + ci) * Co + co;
                const yi = ((b * Ho + i) * Wo + j) * Co + co;
                y[yi] += x[xi] * f[fi];
                dx[xi] += dy[yi] * f[fi];
                df[fi] += dy[yi] * x[xi];
              }
          }
  return { y, dx, df };
}

async function runOn(backend: string, c: Case, x: Float64Array, f: Float64Array, dy: Float64Array): Promise<Result> {
  assert.ok(await tf.setBackend(backend));
  const before = tf.memory().numTensors;
  const xt = tf.tensor4d(Float32Array.from(x), c.x);
  const ft = tf.tensor4d(Float32Array.from(f), c.f);
  const dyt = tf.tensor4d(Float32Array.from(dy), outShape(c));
  const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dyt));
  const [gx, gf] = tf.grads(loss)([xt, ft]);
  const y = conv2d(xt, ft, c.stride, c.pad);
  const result = { y: Float64Array.from(await y.data()), dx: Float64Array.from(await gx.data()), df: Float64Array.from(await gf.data()) };
  tf.dispose([xt, ft, dyt, gx, gf, y]);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return result;
}

function assertClose(actual: Float64Array, expected: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    // float32 accumulation over <=300 products of |v|<1 stays far below this.
    assert.ok(err <= 1e-4 * Math.max(Math.abs(expected[i]), scale, 1e-3), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const cases: Case[] = [];
for (const x of [
  [2, 5, 5, 3],
  [2, 6, 6, 3],
] as Shape4[])
  for (const f of [
    [3, 3, 3, 4],
    [1, 1, 3, 4],
  ] as Shape4[])
    for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as ConvPadding[]) cases.push({ x, f, stride, pad });
// Non-square inputs and an even kernel catch row/column mix-ups and asymmetric 'same' padding.
cases.push({ x: [1, 7, 4, 2], f: [3, 3, 2, 3], stride: 2, pad: 'same' });
cases.push({ x: [2, 6, 5, 3], f: [2, 2, 3, 2], stride: 2, pad: 'same' });
cases.push({ x: [2, 7, 6, 2], f: [2, 3, 2, 2], stride: 1, pad: 'valid' });

const nativeBuilt = existsSync(addonPath);

before(async () => {
  process.env.MWT_QUIET = '1';
  await initBackend('wasm');
  if (nativeBuilt) registerNativeBackend();
});

describe('conv2d gradients', () => {
  cases.forEach((c, n) => {
    test(`x=${c.x} f=${c.f} stride=${c.stride} ${c.pad}`, async () => {
      const x = randomValues(
        c.x.reduce((a, b) => a * b),
        3 * n + 1,
      );
      const f = randomValues(
        c.f.reduce((a, b) => a * b),
        3 * n + 2,
      );
      const dy = randomValues(
        outShape(c).reduce((a, b) => a * b),
        3 * n + 3,
      );
      const ref = reference(c, x, f, dy);
      const wasm = await runOn('wasm', c, x, f, dy);
      const cpu = await runOn('cpu', c, x, f, dy);
      // The native backend's own kernels, where built (its conv2d skips no gradient here).
      const native = nativeBuilt ? await runOn(NATIVE_BACKEND, c, x, f, dy) : undefined;
      for (const key of ['y', 'dx', 'df'] as const) {
        assertClose(cpu[key], ref[key], `cpu ${key} vs float64`);
        assertClose(wasm[key], ref[key], `wasm ${key} vs float64`);
        assertClose(wasm[key], cpu[key], `wasm ${key} vs cpu native`);
        if (native) assertClose(native[key], ref[key], `native ${key} vs float64`);
      }
    });
  });

  test('a training-style variableGrads step leaves no tensors behind on wasm', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 6, 6, 3]) as tf.Tensor4D;
    const init = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const f = tf.variable(init);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.relu(conv2d(x, f, 2, 'same'))), [f]);
    assert.deepEqual(grads[f.name].shape, [3, 3, 3, 4]);
    tf.dispose([x, init, f, value, grads[f.name]]);
    assert.equal(tf.memory().numTensors, before);
  });
});
