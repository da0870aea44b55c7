import * as tf from '@tensorflow/tfjs';
import { forward } from '../model/forward.js';
import { isModular } from '../model/architecture.js';
import { BN_MOMENTUM, trainableVariables, type ParamStore } from '../model/params.js';
import type { Model } from '../model/model.js';
import { batchMaskMetrics, crossEntropy, mwtLosses, pairWeights, pairWeightTensors } from './losses.js';
import type { Sgd } from './sgd.js';
import { hasFusedKernel } from '../ops/fused-kernels.js';
import { MWT_RUNNING_STATS_IN_PLACE } from '../kernel-names.js';
import { numberedInputs, ownData, runInPlaceKernel } from '../ops/in-place-kernels.js';

/** The batch's scalars of one step, read back from the device in one sync. */
export interface StepResult {
  loss: number;
  ce: number;
  cohesion: number;
  coupling: number;
  correct: number;
  kernelRate: number;
  batchCohesion: number;
  batchCoupling: number;
}

export interface StepInput {
  images: Float32Array;
  labels: Int32Array;
  lr: number;
  dropoutSeed: number;
  /** Loss weights; the MwT terms only enter the loss when `modular`. */
  alpha: number;
  beta: number;
  modular: boolean;
  /** Called between layers, forward and backward: throws to abandon the step (see ForwardOptions). */
  interrupt?: () => void;
}

/**
 * One SGD step (forward, backward, update, BN running statistics). Its own function, rather than a
 * private method of the Trainer, so that the benchmark times exactly what training runs.
 * `paramNameOf` maps tfjs variable names to our parameter names (the keys of `grads`).
 * Reads the step's scalars back synchronously: CPU backends only (see trainStepAsync).
 */
export function trainStep(model: Model, optimizer: Sgd, paramNameOf: Map<string, string>, input: StepInput): StepResult {
  const scalars = launchTrainStep(model, optimizer, paramNameOf, input);
  const values = scalars.dataSync();
  scalars.dispose();
  return stepResult(values);
}

/**
 * The same step with an asynchronous read of its scalars: what training runs on every backend. A GPU
 * backend (webgpu) cannot read synchronously in Node, and an asynchronous read lets the event loop
 * run while the device finishes the step.
 */
export async function trainStepAsync(model: Model, optimizer: Sgd, paramNameOf: Map<string, string>, input: StepInput): Promise<StepResult> {
  const scalars = launchTrainStep(model, optimizer, paramNameOf, input);
  try {
    return stepResult(await scalars.data());
  } finally {
    scalars.dispose();
  }
}

function stepResult(values: ArrayLike<number>): StepResult {
  const [loss, ce, cohesion, coupling, correct, kernelRate, batchCohesion, batchCoupling] = Array.from(values);
  return { loss, ce, cohesion, coupling, correct, kernelRate, batchCohesion, batchCoupling };
}

/** Queues the step's kernels; returns its reported scalars, still on the device. */
function launchTrainStep(model: Model, optimizer: Sgd, paramNameOf: Map<string, string>, input: StepInput): tf.Tensor1D {
  const { arch, params } = model;
  const { labels, alpha, beta, modular } = input;
  const pairs = pairWeights(labels);
  const [h, w, c] = arch.inputShape;
  return tf.tidy(() => {
    const x = tf.tensor4d(input.images, [labels.length, h, w, c]);
    const y = tf.tensor1d(labels, 'int32');
    // Uploaded once for the losses and the metrics of every layer; alive until this tidy ends, after
    // the backward pass, so the losses' gradients need not save them.
    const weights = isModular(arch) ? pairWeightTensors(pairs) : undefined;
    // What the report needs from the forward pass, kept past the gradients' tidy: the metrics need no
    // gradient, so they are computed after it, off the tape (on it, each stacked input is cloned).
    const forReport: { kept?: { logits: tf.Tensor2D; masks: tf.Tensor2D[]; ce: tf.Scalar; cohesion: tf.Scalar; coupling: tf.Scalar } } = {};
    let batchStats: ReturnType<typeof forward>['batchStats'] | undefined;
    const { value: loss, grads } = tf.variableGrads(() => {
      const out = forward(arch, params, x, { training: true, dropoutSeed: input.dropoutSeed, interrupt: input.interrupt });
      const ce = crossEntropy(out.logits, y);
      const { cohesion, coupling } = mwtLosses(out.masks, pairs, weights);
      forReport.kept = { logits: out.logits, masks: out.masks, ce, cohesion, coupling };
      tf.keep(out.logits);
      for (const t of [...out.masks, ce, cohesion, coupling]) tf.keep(t);
      batchStats = out.batchStats;
      for (const stats of batchStats.values()) {
        tf.keep(stats.mean);
        tf.keep(stats.variance);
      }
      return (modular ? tf.addN([ce, tf.mul(cohesion, alpha), tf.mul(coupling, beta)]) : ce) as tf.Scalar;
    }, trainableVariables(params));
    if (!forReport.kept) throw new Error('trainStep: the forward pass did not run');
    const { logits, masks, ce, cohesion, coupling } = forReport.kept;
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
    const live = batchMaskMetrics(masks, pairs, weights);
    const reported = tf.stack([loss, ce, cohesion, coupling, correct, live.kernelRate, live.cohesion, live.coupling]) as tf.Tensor1D;
    tf.dispose([logits, ...masks, ce, cohesion, coupling]);
    const named = new Map<string, tf.Tensor>();
    for (const [variableName, grad] of Object.entries(grads)) named.set(paramNameOf.get(variableName) ?? variableName, grad);
    optimizer.step(named, input.lr);
    if (batchStats) {
      updateRunningStats(params, batchStats);
      for (const stats of batchStats.values()) tf.dispose([stats.mean, stats.variance]);
    }
    return reported;
  });
}

/** running = (1 - m) * running + m * batch, with the unbiased batch variance (PyTorch's convention). */
function updateRunningStats(params: ParamStore, stats: ReturnType<typeof forward>['batchStats']): void {
  const inPlace = hasFusedKernel(MWT_RUNNING_STATS_IN_PLACE);
  const items: tf.Tensor[][] = [];
  const corrections: number[] = [];
  for (const [prefix, { mean, variance, count }] of stats) {
    const runningMean = params.get(`${prefix}/bn/mean`);
    const runningVariance = params.get(`${prefix}/bn/variance`);
    if (!runningMean || !runningVariance) throw new Error(`missing BatchNorm statistics for ${prefix}`);
    if (inPlace) {
      ownData(runningMean);
      ownData(runningVariance);
      items.push([runningMean, runningVariance, mean, variance]);
      corrections.push(count / Math.max(1, count - 1));
      continue;
    }
    const unbiased = tf.mul(variance, count / Math.max(1, count - 1));
    runningMean.assign(tf.add(tf.mul(runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
    runningVariance.assign(tf.add(tf.mul(runningVariance, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
  }
  // All layers in one call where the backend updates in place (webgpu: one compute pass).
  if (items.length > 0) {
    const inputs = numberedInputs(['runningMean', 'runningVariance', 'mean', 'variance'], items);
    runInPlaceKernel(MWT_RUNNING_STATS_IN_PLACE, inputs, { count: items.length, momentum: BN_MOMENTUM, corrections });
  }
}
