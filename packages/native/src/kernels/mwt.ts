/** The native implementations of MwT's fused kernels (their contracts: @mwt/core's kernel-names.ts). */
import * as tf from '@tensorflow/tfjs';
import {
  MWT_ADD_RELU,
  MWT_BATCH_NORM_TRAIN,
  MWT_BATCH_NORM_TRAIN_GRAD,
  MWT_KERNEL_ATTRS,
  MWT_MASK_GATE,
  MWT_MASK_GATE_GRAD,
  MWT_MASK_JACCARD,
  MWT_OPTIONAL_KERNEL_ATTRS,
  MWT_PAIR_SIMILARITY,
  MWT_PAIR_SIMILARITY_GRAD,
  MWT_RELU_GRAD,
  MWT_RUNNING_STATS_IN_PLACE,
  MWT_SGD_UPDATE,
  MWT_SGD_UPDATE_IN_PLACE,
  type MwtBatchNormAttrs,
  type MwtKernelAttrs,
  type MwtKernelName,
  type MwtOptionalKernelAttrs,
  type MwtOptionalKernelName,
  type MwtPairSimilarityAttrs,
  type MwtRunningStatsInPlaceAttrs,
  type MwtSgdUpdateAttrs,
  type MwtSgdUpdateInPlaceAttrs,
} from '@mwt/core/kernel-names';
import { BinaryOp, nativeKernels } from '../addon.js';
import { nativeOnlyKernel, type NativeKernel, type NativeKernelArgs } from '../kernel.js';
import { binary } from './math.js';

/** [batch, pixels, channels, relu] of a [B, H, W, C] activation, or undefined if not float32 NHWC. */
function batchNormShape(z: tf.TensorInfo, attrs: MwtBatchNormAttrs): Int32Array | undefined {
  if (z.shape.length !== 4) return undefined;
  const [batch, height, width, channels] = z.shape;
  return Int32Array.from([batch, height * width, channels, attrs.relu ? 1 : 0]);
}

function floats(args: NativeKernelArgs, name: string): Float32Array {
  const t = args.inputs[name];
  const values = t ? args.backend.floats(t) : undefined;
  if (!values) throw new Error(`${name} must be a float32 tensor`);
  return values;
}

function optionalFloats(args: NativeKernelArgs, name: string): Float32Array | null {
  return args.inputs[name] ? floats(args, name) : null;
}

const batchNormTrain: NativeKernel<MwtBatchNormAttrs> = (args) => {
  const { attrs } = args;
  const z = args.inputs.z;
  const shape = z ? batchNormShape(z, attrs) : undefined;
  if (!z || !shape) return undefined;
  const channels = shape[2];
  const out = args.backend.allocate(tf.util.sizeFromShape(z.shape));
  const mean = args.backend.allocate(channels);
  const variance = args.backend.allocate(channels);
  nativeKernels().batchNormTrain(floats(args, 'z'), floats(args, 'gamma'), floats(args, 'beta'), optionalFloats(args, 'mask'), out, mean, variance, shape, attrs.epsilon);
  return [args.backend.output(z.shape, out), args.backend.output([channels], mean), args.backend.output([channels], variance)];
};

const batchNormTrainGrad: NativeKernel<MwtBatchNormAttrs> = (args) => {
  const { attrs } = args;
  const z = args.inputs.z;
  const shape = z ? batchNormShape(z, attrs) : undefined;
  if (!z || !shape) return undefined;
  const [batch, , channels] = shape;
  const mask = optionalFloats(args, 'mask');
  const dz = args.backend.allocate(tf.util.sizeFromShape(z.shape));
  const dGamma = args.backend.allocate(channels);
  const dBeta = args.backend.allocate(channels);
  const dMask = mask ? args.backend.allocate(batch * channels) : null;
  nativeKernels().batchNormTrainGrad(
    floats(args, 'dOut'),
    floats(args, 'z'),
    floats(args, 'gamma'),
    floats(args, 'beta'),
    mask,
    floats(args, 'mean'),
    floats(args, 'variance'),
    dz,
    dGamma,
    dBeta,
    dMask,
    shape,
    attrs.epsilon,
  );
  const outputs = [args.backend.output(z.shape, dz), args.backend.output([channels], dGamma), args.backend.output([channels], dBeta)];
  if (dMask) outputs.push(args.backend.output([batch, channels], dMask));
  return outputs;
};

const sgdUpdate: NativeKernel<MwtSgdUpdateAttrs> = (args) => {
  const { lr, momentum, weightDecay, nesterov } = args.attrs;
  const param = args.inputs.param;
  if (!param) return undefined;
  const values = floats(args, 'param');
  const newParam = args.backend.allocate(values.length);
  const newVelocity = args.backend.allocate(values.length);
  nativeKernels().sgdUpdate(values, floats(args, 'velocity'), floats(args, 'grad'), newParam, newVelocity, lr, momentum, weightDecay, nesterov);
  return [args.backend.output(param.shape, newParam), args.backend.output(param.shape, newVelocity)];
};

/**
 * Every parameter and its velocity updated in their own arrays: per step, two fewer arrays written
 * per parameter (and read again by the next forward pass) than MwtSgdUpdate's new ones, and one call.
 */
const sgdUpdateInPlace: NativeKernel<MwtSgdUpdateInPlaceAttrs> = (args) => {
  const { count, lr, momentum, weightDecay, nesterov } = args.attrs;
  for (let i = 0; i < count; i++) {
    const param = floats(args, `param${i}`);
    const velocity = floats(args, `velocity${i}`);
    nativeKernels().sgdUpdate(param, velocity, floats(args, `grad${i}`), param, velocity, lr, momentum, weightDecay, nesterov);
  }
  return [];
};

/**
 * BatchNorm's running statistics, in place: a few hundred values per layer, so in JS, with each
 * product and sum rounded to float32 as the tfjs ops it replaces round them (one call instead of
 * seven kernels per layer).
 */
const runningStatsInPlace: NativeKernel<MwtRunningStatsInPlaceAttrs> = (args) => {
  const { count, momentum, corrections } = args.attrs;
  const f = Math.fround;
  const keep = f(1 - momentum);
  const take = f(momentum);
  for (let i = 0; i < count; i++) {
    const runningMean = floats(args, `runningMean${i}`);
    const runningVariance = floats(args, `runningVariance${i}`);
    const mean = floats(args, `mean${i}`);
    const variance = floats(args, `variance${i}`);
    const correction = f(corrections[i]);
    for (let c = 0; c < runningMean.length; c++) {
      runningMean[c] = f(runningMean[c] * keep) + f(mean[c] * take);
      runningVariance[c] = f(runningVariance[c] * keep) + f(f(variance[c] * correction) * take);
    }
  }
  return [];
};

/** [batch, kernels] of a pair kernel's mask, or undefined where it is not a float32 matrix. */
function pairShape(args: NativeKernelArgs): Int32Array | undefined {
  const mask = args.inputs.mask;
  if (!mask || mask.shape.length !== 2) return undefined;
  return Int32Array.from(mask.shape);
}

const pairSimilarity: NativeKernel<MwtPairSimilarityAttrs> = (args) => {
  const shape = pairShape(args);
  if (!shape) return undefined;
  const sums = args.backend.allocate(2);
  const { epsilon } = args.attrs;
  nativeKernels().pairSimilaritySums(floats(args, 'mask'), floats(args, 'positive'), floats(args, 'negative'), sums, shape, epsilon);
  return [args.backend.output([2], sums)];
};

const pairSimilarityGrad: NativeKernel<MwtPairSimilarityAttrs> = (args) => {
  const shape = pairShape(args);
  if (!shape) return undefined;
  const dMask = args.backend.allocate(shape[0] * shape[1]);
  const { epsilon } = args.attrs;
  nativeKernels().pairSimilaritySumsGrad(floats(args, 'dSums'), floats(args, 'mask'), floats(args, 'positive'), floats(args, 'negative'), dMask, shape, epsilon);
  return [args.backend.output([shape[0], shape[1]], dMask)];
};

const maskJaccard: NativeKernel = (args) => {
  const shape = pairShape(args);
  if (!shape) return undefined;
  const metrics = args.backend.allocate(3);
  nativeKernels().maskJaccardMetrics(floats(args, 'mask'), floats(args, 'positive'), floats(args, 'negative'), metrics, shape);
  return [args.backend.output([3], metrics)];
};

/** [batch, inputs, hidden, kernels] of the mask gate, or undefined where the inputs are not matrices. */
function gateShape(args: NativeKernelArgs): Int32Array | undefined {
  const { pooled, w1, w2 } = args.inputs;
  if (!pooled || !w1 || !w2 || pooled.shape.length !== 2 || w1.shape.length !== 2 || w2.shape.length !== 2) return undefined;
  return Int32Array.from([pooled.shape[0], pooled.shape[1], w1.shape[1], w2.shape[1]]);
}

const maskGate: NativeKernel = (args) => {
  const shape = gateShape(args);
  if (!shape) return undefined;
  const [batch, , , kernels] = shape;
  const mask = args.backend.allocate(batch * kernels);
  nativeKernels().maskGate(floats(args, 'pooled'), floats(args, 'w1'), floats(args, 'w2'), floats(args, 'b2'), mask, shape);
  return [args.backend.output([batch, kernels], mask)];
};

const maskGateGrad: NativeKernel = (args) => {
  const shape = gateShape(args);
  if (!shape) return undefined;
  const [batch, inputs, hidden, kernels] = shape;
  const { backend } = args;
  const [dPooled, dW1, dW2, dB2] = [batch * inputs, inputs * hidden, hidden * kernels, kernels].map((size) => backend.allocate(size));
  nativeKernels().maskGateGrad(floats(args, 'dMask'), floats(args, 'mask'), floats(args, 'pooled'), floats(args, 'w1'), floats(args, 'w2'), dPooled, dW1, dW2, dB2, shape);
  return [backend.output([batch, inputs], dPooled), backend.output([inputs, hidden], dW1), backend.output([hidden, kernels], dW2), backend.output([kernels], dB2)];
};

/** The config of a fused kernel, its attributes checked against its contract. */
function mwtKernel<K extends MwtKernelName>(kernelName: K, kernel: NativeKernel<MwtKernelAttrs[K]>): tf.KernelConfig {
  return nativeOnlyKernel(kernelName, MWT_KERNEL_ATTRS[kernelName], kernel);
}

function optionalKernel<K extends MwtOptionalKernelName>(kernelName: K, kernel: NativeKernel<MwtOptionalKernelAttrs[K]>): tf.KernelConfig {
  return nativeOnlyKernel(kernelName, MWT_OPTIONAL_KERNEL_ATTRS[kernelName], kernel);
}

export const MWT_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  mwtKernel(MWT_BATCH_NORM_TRAIN, batchNormTrain),
  mwtKernel(MWT_BATCH_NORM_TRAIN_GRAD, batchNormTrainGrad),
  mwtKernel(MWT_SGD_UPDATE, sgdUpdate),
  mwtKernel(MWT_PAIR_SIMILARITY, pairSimilarity),
  mwtKernel(MWT_PAIR_SIMILARITY_GRAD, pairSimilarityGrad),
  mwtKernel(MWT_MASK_JACCARD, maskJaccard),
  mwtKernel(MWT_MASK_GATE, maskGate),
  mwtKernel(MWT_MASK_GATE_GRAD, maskGateGrad),
  optionalKernel(MWT_ADD_RELU, binary(BinaryOp.AddRelu)),
  optionalKernel(MWT_RELU_GRAD, binary(BinaryOp.ReluGrad, 'dy', 'y')),
  optionalKernel(MWT_SGD_UPDATE_IN_PLACE, sgdUpdateInPlace),
  optionalKernel(MWT_RUNNING_STATS_IN_PLACE, runningStatsInPlace),
];
