/**
 * The native conv kernels on the layer shapes of a model at a training batch, each timed alone:
 *   npx tsx bench/conv-layers.ts [--model simcnn-small] [--input 28x28x1] [--batch 128] [--repeat 20]
 * (MWT_NATIVE_DNNL=0 times the addon's own kernels where it was built with oneDNN.)
 * Prints the median call's ms and GMAC/s (multiply-adds of the nominal 3x3 window, padding
 * included) for the forward pass and both gradients, and their sum over one training step (the first layer's input gradient
 * is never needed: its input is data); then each layer's useful work (taps that read padding not
 * counted: 44% of the nominal on 2x2 maps) as % of the measured fp32 peak (bench/peak.ts).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { buildArchitecture, initBackend, isModelName } from '@mwt/core';
import { traceShapes } from '../packages/core/src/model/shapes.js';
import { measurePeak } from './peak.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'simcnn-small' },
    input: { type: 'string', default: '28x28x1' },
    batch: { type: 'string', default: '128' },
    repeat: { type: 'string', default: '20' },
  },
});
const batch = Number(values.batch);
const repeat = Number(values.repeat);
if (!isModelName(values.model)) throw new Error(`--model: unknown model ${values.model}`);
const inputShape = values.input.split('x').map(Number) as [number, number, number];

const backend = await initBackend('native');
const arch = buildArchitecture(values.model, inputShape, 10, { modular: true });

// MWT_BENCH_CPU_TIME=1 times by this process's CPU time instead of the wall clock: on a busy machine
// and at 1 thread, what the kernel costs without the time it waited for a core.
const cpuTime = process.env.MWT_BENCH_CPU_TIME === '1';
const now = () => (cpuTime ? (process.cpuUsage().user + process.cpuUsage().system) / 1000 : performance.now());

// The median call: on a shared VM single calls of the same kernel vary by 30% or more, and a few
// slow ones would move a mean.
function msPerCall(run: () => tf.Tensor): number {
  for (let i = 0; i < 3; i++) run().dispose();
  const calls: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const started = now();
    run().dispose();
    calls.push(now() - started);
  }
  return median(calls);
}

console.log(`${values.model} conv layers, batch ${batch}, ${backend.name} (${backend.threads} threads), median of ${repeat} calls each, ${cpuTime ? 'CPU' : 'wall'} time`);
const peak = measurePeak([backend.threads ?? 1])?.get(backend.threads ?? 1);
console.log(`fp32 peak (FMA loop, ${backend.threads} thr): ${peak?.toFixed(0) ?? 'n/a'} GFLOP/s`);

/** Window taps along one axis that read an input pixel, summed over the output positions ('same' padding). */
function usefulTaps(size: number, outSize: number, k: number, stride: number): number {
  const pad = Math.max(0, (outSize - 1) * stride + k - size) >> 1;
  let taps = 0;
  for (let o = 0; o < outSize; o++) for (let t = 0; t < k; t++) if (o * stride + t - pad >= 0 && o * stride + t - pad < size) taps++;
  return taps;
}

let stepMs = 0;
const convs = traceShapes(arch).flatMap(({ block, input }) => (block.type === 'conv' ? [{ ...block, input }] : []));
for (const [index, layer] of convs.entries()) {
  const [height, width, inC] = layer.input;
  const { kernelSize: k, filters: outC, stride } = layer;
  const x = tf.randomNormal([batch, height, width, inC]) as tf.Tensor4D;
  const filter = tf.randomNormal([k, k, inC, outC]) as tf.Tensor4D;
  const y = tf.conv2d(x, filter, stride, 'same');
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const forward = msPerCall(() => tf.conv2d(x, filter, stride, 'same'));
  const dInput = index === 0 ? 0 : msPerCall(() => tf.conv2dTranspose(dy, filter, [batch, height, width, inC], stride, 'same'));
  const attrs = { strides: stride, pad: 'same', dataFormat: 'NHWC', dilations: 1, filterShape: [k, k, inC, outC] };
  const dFilter = msPerCall(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor);
  const megaMacs = (tf.util.sizeFromShape(y.shape) * k * k * inC) / 1e6;
  const [, outH, outW] = y.shape;
  const usefulMegaMacs = (batch * usefulTaps(height, outH, k, stride) * usefulTaps(width, outW, k, stride) * inC * outC) / 1e6;
  const pct = (ms: number) => (peak && ms > 0 ? `${((200 * usefulMegaMacs) / ms / peak).toFixed(0).padStart(3)}%` : '   -');
  const rate = (ms: number) => (ms > 0 ? `${(megaMacs / ms).toFixed(0).padStart(4)} GMAC/s ${pct(ms)}` : '    (not needed)    ');
  console.log(
    `${layer.name.padEnd(8)} ${`${height}x${width}x${inC} -> ${outC}`.padEnd(16)} forward ${forward.toFixed(2).padStart(6)} ms ${rate(forward)}   ` +
      `dInput ${dInput.toFixed(2).padStart(6)} ms ${rate(dInput)}   dFilter ${dFilter.toFixed(2).padStart(6)} ms ${rate(dFilter)}`,
  );
  stepMs += forward + dInput + dFilter;
  tf.dispose([x, filter, y, dy]);
}
console.log(`all conv work of one training step: ${stepMs.toFixed(1)} ms`);
