/**
 * The conv layers of a model at a training batch, each pass timed alone on the active tfjs backend
 * (bench/conv-layers.ts prints them; bench/run.ts reports the wide layers): the median call's ms,
 * GMAC/s of the nominal 3x3 window (padding included), and the useful work (taps that read padding
 * not counted: 44% of the nominal on 2x2 maps) as % of the measured fp32 peak (bench/peak.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { buildArchitecture, type ModelName } from '@mwt/core';
import { traceShapes } from '../packages/core/src/model/shapes.js';
import { median } from './stats.js';

export type ConvPass = 'forward' | 'dInput' | 'dFilter';

export interface ConvLayerTime {
  model: ModelName;
  layer: string;
  /** e.g. "4x4x256 -> 512" */
  shape: string;
  outChannels: number;
  batch: number;
  threads: number;
  pass: ConvPass;
  /** The median call. */
  ms: number;
  /** Multiply-adds of the nominal window per second, in billions. */
  gmacs: number;
  /** Useful flops per second as % of the peak at this thread count. */
  peakPct?: number;
}

export interface ConvLayerOptions {
  model: ModelName;
  inputShape: [number, number, number];
  batch: number;
  /** Timed calls per pass (after 3 untimed). */
  repeat: number;
  threads: number;
  /** fp32 GFLOP/s at `threads`. */
  peak?: number;
  /** By this process's CPU time instead of the wall clock. */
  cpuTime?: boolean;
}

/** Window taps along one axis that read an input pixel, summed over the output positions ('same' padding). */
function usefulTaps(size: number, outSize: number, k: number, stride: number): number {
  const pad = Math.max(0, (outSize - 1) * stride + k - size) >> 1;
  let taps = 0;
  for (let o = 0; o < outSize; o++) for (let t = 0; t < k; t++) if (o * stride + t - pad >= 0 && o * stride + t - pad < size) taps++;
  return taps;
}

/** Every pass of every conv layer (the first layer's input gradient is never needed: its input is data). */
export function timeConvLayers(options: ConvLayerOptions): ConvLayerTime[] {
  const { model, batch, repeat, threads, peak } = options;
  const now = () => (options.cpuTime ? (process.cpuUsage().user + process.cpuUsage().system) / 1000 : performance.now());
  // The median call: on a shared VM single calls of the same kernel vary by 30% or more, and a few
  // slow ones would move a mean.
  const msPerCall = (run: () => tf.Tensor): number => {
    for (let i = 0; i < 3; i++) run().dispose();
    const calls: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const started = now();
      run().dispose();
      calls.push(now() - started);
    }
    return median(calls);
  };
  const arch = buildArchitecture(model, options.inputShape, 10, { modular: true });
  const convs = traceShapes(arch).flatMap(({ block, input }) => (block.type === 'conv' ? [{ ...block, input }] : []));
  const times: ConvLayerTime[] = [];
  for (const [index, layer] of convs.entries()) {
    const [height, width, inC] = layer.input;
    const { kernelSize: k, filters: outC, stride } = layer;
    const x = tf.randomNormal<tf.Rank.R4>([batch, height, width, inC]);
    const filter = tf.randomNormal<tf.Rank.R4>([k, k, inC, outC]);
    const y = tf.conv2d(x, filter, stride, 'same');
    const dy = tf.randomNormal<tf.Rank.R4>(y.shape);
    const attrs = { strides: stride, pad: 'same', dataFormat: 'NHWC', dilations: 1, filterShape: [k, k, inC, outC] };
    const passes: Array<[ConvPass, () => tf.Tensor]> = [['forward', () => tf.conv2d(x, filter, stride, 'same')]];
    if (index > 0) passes.push(['dInput', () => tf.conv2dTranspose(dy, filter, [batch, height, width, inC], stride, 'same')]);
    passes.push(['dFilter', () => tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropFilter, { x, dy }, attrs)]);
    const megaMacs = (tf.util.sizeFromShape(y.shape) * k * k * inC) / 1e6;
    const [, outH, outW] = y.shape;
    const usefulMegaMacs = (batch * usefulTaps(height, outH, k, stride) * usefulTaps(width, outW, k, stride) * inC * outC) / 1e6;
    for (const [pass, run] of passes) {
      const ms = msPerCall(run);
      times.push({
        model,
        layer: layer.name,
        shape: `${height}x${width}x${inC} -> ${outC}`,
        outChannels: outC,
        batch,
        threads,
        pass,
        ms,
        gmacs: megaMacs / ms,
        ...(peak ? { peakPct: (200 * usefulMegaMacs) / ms / peak } : {}),
      });
    }
    tf.dispose([x, filter, y, dy]);
  }
  return times;
}

/** One line per layer: its passes side by side. */
export function formatConvLayers(times: ConvLayerTime[]): string[] {
  const layers = [...new Set(times.map((t) => t.layer))];
  return layers.map((layer) => {
    const passes = times.filter((t) => t.layer === layer);
    const cell = (pass: ConvPass) => {
      const time = passes.find((t) => t.pass === pass);
      const pct = time?.peakPct === undefined ? '   -' : `${time.peakPct.toFixed(0).padStart(3)}%`;
      return time ? `${pass} ${time.ms.toFixed(2).padStart(6)} ms ${time.gmacs.toFixed(0).padStart(4)} GMAC/s ${pct}` : `${pass} (not needed)`.padEnd(35);
    };
    return `${layer.padEnd(8)} ${passes[0].shape.padEnd(16)} ${cell('forward')}   ${cell('dInput')}   ${cell('dFilter')}`;
  });
}
