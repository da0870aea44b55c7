/**
 * MwT's own fused kernels, registered by backends that implement them (the native backend). Ops
 * look them up on the active backend and use their portable formulation where they are absent.
 *
 *   MwtBatchNormTrain      { z, gamma, beta, mask? } { relu, epsilon } -> [out, mean, variance]
 *   MwtBatchNormTrainGrad  { dOut, z, gamma, beta, mask?, mean, variance } { relu, epsilon } -> [dz, dGamma, dBeta, dMask?]
 *   MwtSgdUpdate           { param, velocity, grad } { lr, momentum, weightDecay, nesterov } -> [param', velocity']
 *   MwtPairSimilarity      { mask, positive, negative } { epsilon } -> [sums]            (see ops/mask-pairs.ts)
 *   MwtPairSimilarityGrad  { dSums, mask, positive, negative } { epsilon } -> [dMask]
 *   MwtMaskJaccard         { mask, positive, negative } -> [metrics]
 *   MwtMaskGate            { pooled, w1, w2, b2 } -> [mask]                              (see ops/mask-gate.ts)
 *   MwtMaskGateGrad        { dMask, mask, pooled, w1, w2 } -> [dPooled, dW1, dW2, dB2]
 */
import * as tf from '@tensorflow/tfjs';

export const MWT_BATCH_NORM_TRAIN = 'MwtBatchNormTrain';
export const MWT_BATCH_NORM_TRAIN_GRAD = 'MwtBatchNormTrainGrad';
export const MWT_SGD_UPDATE = 'MwtSgdUpdate';
export const MWT_PAIR_SIMILARITY = 'MwtPairSimilarity';
export const MWT_PAIR_SIMILARITY_GRAD = 'MwtPairSimilarityGrad';
export const MWT_MASK_JACCARD = 'MwtMaskJaccard';
export const MWT_MASK_GATE = 'MwtMaskGate';
export const MWT_MASK_GATE_GRAD = 'MwtMaskGateGrad';

export function hasFusedKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/** Runs a fused kernel on the active backend, with its inputs recorded for gradients as usual. */
export function runFusedKernel(kernelName: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor[] {
  return tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor[];
}
