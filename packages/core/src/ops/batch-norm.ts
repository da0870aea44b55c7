import * as tf from '@tensorflow/tfjs';
import { BN_EPSILON } from '../model/params.js';
import { MWT_BATCH_NORM_TRAIN, MWT_BATCH_NORM_TRAIN_GRAD, type MwtBatchNormTrainInputs } from '../kernel-names.js';
import { hasFusedKernel, runFusedKernel } from './fused-kernels.js';
import { saveExceptVariables } from './saved-tensors.js';

/**
 * Training-mode BatchNorm fused with the MwT mask and the ReLU that follow it:
 *   out = act(BN(z)) * m,  act = ReLU or identity,  m: [B, C] per-sample mask (or none).
 * (ReLU before the mask equals ReLU after it because m >= 0, and is exact in floats.)
 *
 * Why not tf.moments + tf.batchNorm + tf.mul + tf.relu: on wasm, autodiff through them tiles
 * [1,1,1,C] vectors to the full activation (Tile took ~30% of a training step) and reduces over
 * non-trailing axes by transposing. Here every per-channel sum is a [1,N]x[N,C] matmul with a ones
 * row, every per-channel affine map a matmul with a diagonal matrix (both XNNPACK GEMMs), and the
 * backward pass is the closed-form BatchNorm gradient.
 */
export interface BatchNormTrainResult {
  out: tf.Tensor4D;
  /** Batch mean and biased variance, for the running statistics (not differentiated). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Per-channel sums of a [N, C] matrix, as [C, 1]: a GEMV instead of a transposing reduction.
 * x2d^T @ ones rather than ones @ x2d: XNNPACK packs the right-hand operand as weights on every
 * call, and packing a [N, 1] ones column costs far less than packing the [N, C] activation (4x here).
 */
function channelSums(x2d: tf.Tensor2D, ones: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(x2d, ones, true, false);
}

/** x * scale (+ bias) per channel of a [N, C] matrix, through a diagonal matrix (exact: the other terms are 0). */
function channelAffine(x2d: tf.Tensor2D, scale: tf.Tensor1D, bias?: tf.Tensor): tf.Tensor2D {
  const diagonal = tf.diag(scale) as tf.Tensor2D;
  if (bias === undefined) return tf.matMul(x2d, diagonal);
  // wasm's _FusedMatMul checks the rank of the bias' *storage*, which a reshaped or restored
  // tensor may not share (a pruned module's beta failed as "rank 4"): give it a fresh [C] copy.
  return tf.fused.matMul({ a: x2d, b: diagonal, bias: tf.add(bias, 0) }) as tf.Tensor2D;
}

function asTensor(t: tf.Tensor | tf.GradSaveFunc | undefined, what: string): tf.Tensor {
  if (!(t instanceof tf.Tensor)) throw new Error(`batchNormTrain: ${what} must be a tensor`);
  return t;
}

export function batchNormTrain(z: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, mask: tf.Tensor2D | undefined, relu: boolean): BatchNormTrainResult {
  if (hasFusedKernel(MWT_BATCH_NORM_TRAIN)) return fusedKernelBatchNormTrain(z, gamma, beta, mask, relu);
  const [batch, height, width, channels] = z.shape;
  const count = batch * height * width;
  // Statistics outside the custom op: nothing downstream of them reaches the loss except through
  // the op, whose gradient already accounts for them, so the tape never differentiates these.
  const ones = tf.ones([count, 1]) as tf.Tensor2D;
  const z2d = tf.reshape(z, [count, channels]) as tf.Tensor2D;
  // Two passes for the mean: a float32 sum of B*H*W values leaves it ~1e-6 (relative) off, enough to
  // put a pre-activation that close to the ReLU kink on the wrong side (the native kernel sums in double).
  const roughMean = tf.div(channelSums(z2d, ones), count).reshape([channels]) as tf.Tensor1D;
  const unitScale = tf.ones([channels]) as tf.Tensor1D;
  const roughCentered = channelAffine(z2d, unitScale, tf.neg(roughMean));
  const mean = tf.add(roughMean, tf.div(channelSums(roughCentered, ones), count).reshape([channels])) as tf.Tensor1D;
  const centered = channelAffine(z2d, unitScale, tf.neg(mean));
  const variance = tf.div(channelSums(tf.square(centered), ones), count).reshape([channels]) as tf.Tensor1D;
  const invStd = tf.rsqrt(tf.add(variance, BN_EPSILON)) as tf.Tensor1D;

  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const g = asTensor(inputs[1], 'gamma') as tf.Tensor1D;
    const b = asTensor(inputs[2], 'beta');
    const m = mask ? (asTensor(inputs[3], 'mask') as tf.Tensor2D) : undefined;
    const save = inputs[mask ? 4 : 3];
    const y = channelAffine(centered, tf.mul(g, invStd) as tf.Tensor1D, b);
    const activated = relu ? tf.relu(y) : y;
    const out = m ? tf.mul(tf.reshape(activated, [batch, height * width, channels]), tf.reshape(m, [batch, 1, channels])) : activated;
    if (typeof save === 'function') save(m ? [centered, invStd, g, activated, y, m] : [centered, invStd, g, activated, y]);
    const gradFunc = (dOut: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
      tf.tidy(() => {
        const [sCentered, sInvStd, sGamma, sActivated, sY, sMask] = saved;
        const dOut3d = tf.reshape(dOut, [batch, height * width, channels]);
        // d/dm[b,c] = sum over pixels of dOut * act(y): a batched GEMV with a broadcast ones column.
        const dMask = sMask
          ? tf.reshape(tf.matMul(tf.mul(dOut3d, tf.reshape(sActivated, dOut3d.shape)), tf.ones([1, height * width, 1]), true, false), [batch, channels])
          : undefined;
        const dAct = sMask ? tf.mul(dOut3d, tf.reshape(sMask, [batch, 1, channels])) : dOut3d;
        const dAct2d = tf.reshape(dAct, [count, channels]);
        const dy = relu ? tf.mul(dAct2d, tf.step(tf.reshape(sY, [count, channels]))) : dAct2d;
        const sumOnes = tf.ones([count, 1]) as tf.Tensor2D;
        const dBeta = channelSums(dy as tf.Tensor2D, sumOnes).reshape([channels]) as tf.Tensor1D;
        // dGamma = sum(dy * xhat) with xhat = centered * invStd.
        const dGamma = tf.mul(channelSums(tf.mul(dy, sCentered) as tf.Tensor2D, sumOnes).reshape([channels]), sInvStd) as tf.Tensor1D;
        // dz = k (dy - dBeta/N - xhat dGamma/N), k = gamma invStd: two diagonal GEMMs and an add.
        const k = tf.mul(sGamma, sInvStd) as tf.Tensor1D;
        const dyPart = channelAffine(dy as tf.Tensor2D, k, tf.mul(k, tf.div(dBeta, -count)));
        const centeredPart = channelAffine(sCentered as tf.Tensor2D, tf.mul(tf.mul(k, sInvStd), tf.div(dGamma, -count)) as tf.Tensor1D);
        const dz = tf.reshape(tf.add(dyPart, centeredPart), [batch, height, width, channels]);
        return dMask ? [dz, dGamma, dBeta, dMask] : [dz, dGamma, dBeta];
      });
    return { value: tf.reshape(out, [batch, height, width, channels]) as tf.Tensor4D, gradFunc };
  });
  const out = mask ? op(z, gamma, beta, mask) : op(z, gamma, beta);
  return { out, mean, variance };
}

/**
 * The same op on a backend that implements it as two kernels (the native one): the forward kernel
 * returns the output and the batch statistics at once; the custom gradient calls the backward kernel.
 */
function fusedKernelBatchNormTrain(z: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, mask: tf.Tensor2D | undefined, relu: boolean): BatchNormTrainResult {
  const attrs = { relu, epsilon: BN_EPSILON };
  const named = (zz: tf.Tensor, g: tf.Tensor, b: tf.Tensor, m: tf.Tensor | undefined): MwtBatchNormTrainInputs<tf.Tensor> =>
    m ? { z: zz, gamma: g, beta: b, mask: m } : { z: zz, gamma: g, beta: b };
  // Outside the custom gradient, so that the statistics outlive it (its forward runs in a tidy).
  const [out, mean, variance] = runFusedKernel(MWT_BATCH_NORM_TRAIN, named(z, gamma, beta, mask), attrs);
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const m = mask ? asTensor(inputs[3], 'mask') : undefined;
    const save = inputs[mask ? 4 : 3];
    const forSave = [asTensor(inputs[0], 'z'), asTensor(inputs[1], 'gamma'), asTensor(inputs[2], 'beta'), mean, variance];
    if (typeof save !== 'function') throw new Error('batchNormTrain: no save function');
    const restore = saveExceptVariables(save, m ? [...forSave, m] : forSave);
    const gradFunc = (dOut: tf.Tensor, kept: tf.Tensor[]): tf.Tensor[] => {
      const [sz, sGamma, sBeta, sMean, sVariance, sMask] = restore(kept);
      return runFusedKernel(MWT_BATCH_NORM_TRAIN_GRAD, { dOut, ...named(sz, sGamma, sBeta, sMask), mean: sMean, variance: sVariance }, attrs);
    };
    return { value: out.clone() as tf.Tensor4D, gradFunc };
  });
  return { out: mask ? op(z, gamma, beta, mask) : op(z, gamma, beta), mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
