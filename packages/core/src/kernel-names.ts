/**
 * MwT's own fused kernels: their names, inputs and attributes, as tfjs-core's kernel_names.ts states
 * tfjs' kernels. The ops (ops/*.ts, train/sgd.ts) call them through ops/fused-kernels.ts where the
 * active backend registers them (native: @mwt/native's kernels/mwt.ts; webgpu: backend/webgpu/
 * mwt-kernels.ts), and use their portable formulation elsewhere. Inputs are typed over the tensor
 * type: tf.Tensor where an op runs the kernel, tf.TensorInfo (the default) where a backend implements it.
 * Nothing here imports a backend, so that a backend package may depend on it.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { isBoolean, isNumber, isNumberArray, type AttrGuards } from './kernel-attrs.js';

/** BatchNorm over the batch (+ per-sample channel mask, + ReLU) -> [out, mean, variance]. */
export const MWT_BATCH_NORM_TRAIN = 'MwtBatchNormTrain';
export type MwtBatchNormTrainInputs<T = TensorInfo> = { z: T; gamma: T; beta: T; mask?: T };
export type MwtBatchNormAttrs = { relu: boolean; epsilon: number };

/** Its gradient -> [dz, dGamma, dBeta, dMask (with a mask)]. */
export const MWT_BATCH_NORM_TRAIN_GRAD = 'MwtBatchNormTrainGrad';
export type MwtBatchNormTrainGradInputs<T = TensorInfo> = MwtBatchNormTrainInputs<T> & { dOut: T; mean: T; variance: T };

/** SGD with momentum and weight decay -> [param', velocity']. */
export const MWT_SGD_UPDATE = 'MwtSgdUpdate';
export type MwtSgdUpdateInputs<T = TensorInfo> = { param: T; velocity: T; grad: T };
export type MwtSgdUpdateAttrs = { lr: number; momentum: number; weightDecay: number; nesterov: boolean };

/** [sum of S * positive, sum of S * negative], S the cosine similarity of the mask's rows -> [sums] (see ops/mask-pairs.ts). */
export const MWT_PAIR_SIMILARITY = 'MwtPairSimilarity';
export type MwtPairInputs<T = TensorInfo> = { mask: T; positive: T; negative: T };
export type MwtPairSimilarityAttrs = { epsilon: number };

/** Its gradient -> [dMask]. */
export const MWT_PAIR_SIMILARITY_GRAD = 'MwtPairSimilarityGrad';
export type MwtPairSimilarityGradInputs<T = TensorInfo> = MwtPairInputs<T> & { dSums: T };

/** [kernel rate, sum of J * positive, sum of J * negative], J the Jaccard index of the masks -> [metrics]. */
export const MWT_MASK_JACCARD = 'MwtMaskJaccard';

/** The mask generator after its pooling -> [mask] (see ops/mask-gate.ts). */
export const MWT_MASK_GATE = 'MwtMaskGate';
export type MwtMaskGateInputs<T = TensorInfo> = { pooled: T; w1: T; w2: T; b2: T };

/** Its gradient -> [dPooled, dW1, dW2, dB2]. */
export const MWT_MASK_GATE_GRAD = 'MwtMaskGateGrad';
export type MwtMaskGateGradInputs<T = TensorInfo> = { dMask: T; mask: T; pooled: T; w1: T; w2: T };

/** For the kernels without attributes. */
export type NoAttrs = Record<never, never>;

/** The inputs of each fused kernel, by name. */
export interface MwtKernelInputs<T = TensorInfo> {
  [MWT_BATCH_NORM_TRAIN]: MwtBatchNormTrainInputs<T>;
  [MWT_BATCH_NORM_TRAIN_GRAD]: MwtBatchNormTrainGradInputs<T>;
  [MWT_SGD_UPDATE]: MwtSgdUpdateInputs<T>;
  [MWT_PAIR_SIMILARITY]: MwtPairInputs<T>;
  [MWT_PAIR_SIMILARITY_GRAD]: MwtPairSimilarityGradInputs<T>;
  [MWT_MASK_JACCARD]: MwtPairInputs<T>;
  [MWT_MASK_GATE]: MwtMaskGateInputs<T>;
  [MWT_MASK_GATE_GRAD]: MwtMaskGateGradInputs<T>;
}

/** The attributes of each fused kernel, by name. */
export interface MwtKernelAttrs {
  [MWT_BATCH_NORM_TRAIN]: MwtBatchNormAttrs;
  [MWT_BATCH_NORM_TRAIN_GRAD]: MwtBatchNormAttrs;
  [MWT_SGD_UPDATE]: MwtSgdUpdateAttrs;
  [MWT_PAIR_SIMILARITY]: MwtPairSimilarityAttrs;
  [MWT_PAIR_SIMILARITY_GRAD]: MwtPairSimilarityAttrs;
  [MWT_MASK_JACCARD]: NoAttrs;
  [MWT_MASK_GATE]: NoAttrs;
  [MWT_MASK_GATE_GRAD]: NoAttrs;
}

export type MwtKernelName = keyof MwtKernelAttrs;

const BATCH_NORM_ATTRS: AttrGuards<MwtBatchNormAttrs> = { relu: isBoolean, epsilon: isNumber };
const PAIR_SIMILARITY_ATTRS: AttrGuards<MwtPairSimilarityAttrs> = { epsilon: isNumber };

/** What a backend checks its attributes against (kernel-attrs.ts: requireAttrs). */
export const MWT_KERNEL_ATTRS: { readonly [K in MwtKernelName]: AttrGuards<MwtKernelAttrs[K]> } = {
  [MWT_BATCH_NORM_TRAIN]: BATCH_NORM_ATTRS,
  [MWT_BATCH_NORM_TRAIN_GRAD]: BATCH_NORM_ATTRS,
  [MWT_SGD_UPDATE]: { lr: isNumber, momentum: isNumber, weightDecay: isNumber, nesterov: isBoolean },
  [MWT_PAIR_SIMILARITY]: PAIR_SIMILARITY_ATTRS,
  [MWT_PAIR_SIMILARITY_GRAD]: PAIR_SIMILARITY_ATTRS,
  [MWT_MASK_JACCARD]: {},
  [MWT_MASK_GATE]: {},
  [MWT_MASK_GATE_GRAD]: {},
};

/*
 * Kernels a backend registers only where they pay: one kernel for many variables where a kernel per
 * variable costs more host time than the work itself (webgpu, native), or one pass over an activation
 * for what tfjs' ops do in two or three (native). Ops use their portable formulation where they are
 * absent.
 */

/**
 * { x: [B, H, W, C] } -> [the mean over H and W: [B, C]], in one pass over x (tfjs' mean over the
 * inner axes of NHWC transposes x first: a copy of the whole activation).
 */
export const MWT_GLOBAL_AVG_POOL = 'MwtGlobalAvgPool';
export type MwtGlobalAvgPoolInputs<T = TensorInfo> = { x: T };

/** { dy: [B, C] } -> [dx: [B, height, width, C] = dy / (height * width), broadcast]. */
export const MWT_GLOBAL_AVG_POOL_GRAD = 'MwtGlobalAvgPoolGrad';
export type MwtGlobalAvgPoolGradInputs<T = TensorInfo> = { dy: T };
export type MwtGlobalAvgPoolGradAttrs = { height: number; width: number };

/**
 * { param0, velocity0, grad0, param1, ... } -> []: each parameter and velocity as MwtSgdUpdate
 * computes them, written into the variables' own data (which the caller must hold alone:
 * ops/in-place-kernels.ts ownData).
 */
export const MWT_SGD_UPDATE_IN_PLACE = 'MwtSgdUpdateInPlace';
export type MwtSgdUpdateInPlaceAttrs = MwtSgdUpdateAttrs & { count: number };

/**
 * { runningMean0, runningVariance0, mean0, variance0, ... } -> []: running = (1 - momentum) *
 * running + momentum * batch, the variance times corrections[i] (n / (n - 1), the unbiased
 * estimate) first, written in place as above.
 */
export const MWT_RUNNING_STATS_IN_PLACE = 'MwtRunningStatsInPlace';
export type MwtRunningStatsInPlaceAttrs = { count: number; momentum: number; corrections: number[] };

/**
 * { a, b } -> [relu(a + b)]: a residual sum and the ReLU after it, or a bias and the ReLU after it.
 * b has a's shape, or one value per channel ([C], a's last axis). Exactly tf.relu(tf.add(a, b)).
 */
export const MWT_ADD_RELU = 'MwtAddRelu';
export type MwtAddReluInputs<T = TensorInfo> = { a: T; b: T };

/** { dy, y } -> [dy * step(y)]: the ReLU's gradient from its output y (y > 0 exactly where its input is). */
export const MWT_RELU_GRAD = 'MwtReluGrad';
export type MwtReluGradInputs<T = TensorInfo> = { dy: T; y: T };

/** The attributes of each optional kernel, by name. */
export interface MwtOptionalKernelAttrs {
  [MWT_ADD_RELU]: NoAttrs;
  [MWT_RELU_GRAD]: NoAttrs;
  [MWT_GLOBAL_AVG_POOL]: Record<string, never>;
  [MWT_GLOBAL_AVG_POOL_GRAD]: MwtGlobalAvgPoolGradAttrs;
  [MWT_SGD_UPDATE_IN_PLACE]: MwtSgdUpdateInPlaceAttrs;
  [MWT_RUNNING_STATS_IN_PLACE]: MwtRunningStatsInPlaceAttrs;
}

export type MwtOptionalKernelName = keyof MwtOptionalKernelAttrs;

export const MWT_OPTIONAL_KERNEL_ATTRS: { readonly [K in MwtOptionalKernelName]: AttrGuards<MwtOptionalKernelAttrs[K]> } = {
  [MWT_ADD_RELU]: {},
  [MWT_RELU_GRAD]: {},
  [MWT_GLOBAL_AVG_POOL]: {},
  [MWT_GLOBAL_AVG_POOL_GRAD]: { height: isNumber, width: isNumber },
  [MWT_SGD_UPDATE_IN_PLACE]: { count: isNumber, lr: isNumber, momentum: isNumber, weightDecay: isNumber, nesterov: isBoolean },
  [MWT_RUNNING_STATS_IN_PLACE]: { count: isNumber, momentum: isNumber, corrections: isNumberArray },
};
