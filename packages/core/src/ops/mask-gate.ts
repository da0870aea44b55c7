import * as tf from '@tensorflow/tfjs';
import { MWT_MASK_GATE, MWT_MASK_GATE_GRAD } from '../kernel-names.js';
import { hasFusedKernel, runFusedKernel } from './fused-kernels.js';
import { saveExceptVariables } from './saved-tensors.js';

export interface GateWeights {
  /** [inputs, hidden] */
  w1: tf.Tensor2D;
  /** [hidden, kernels] */
  w2: tf.Tensor2D;
  /** [kernels] */
  b2: tf.Tensor1D;
}

/**
 * The MwT mask generator after its global average pool (MWT.md section 1):
 *   mask = ReLU(tanh(ReLU(pooled @ w1) @ w2 + b2)),  pooled: [batch, inputs] -> mask: [batch, kernels].
 * One fused kernel forward and one backward on the native backend, where the six ops below and their
 * gradients cost a masked layer about twenty kernel calls a step; other backends run the ops.
 */
export function maskGate(pooled: tf.Tensor2D, { w1, w2, b2 }: GateWeights): tf.Tensor2D {
  if (!hasFusedKernel(MWT_MASK_GATE)) {
    return tf.tidy(() => {
      const hidden = tf.relu(tf.matMul(pooled, w1));
      return tf.relu(tf.tanh(tf.add(tf.matMul(hidden, w2), b2))) as tf.Tensor2D;
    });
  }
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [p, a, b, c, save] = inputs;
    if (!(p instanceof tf.Tensor && a instanceof tf.Tensor && b instanceof tf.Tensor && c instanceof tf.Tensor) || typeof save !== 'function') {
      throw new Error('maskGate: bad custom-gradient inputs');
    }
    const [mask] = runFusedKernel(MWT_MASK_GATE, { pooled: p, w1: a, w2: b, b2: c }, {});
    const restore = saveExceptVariables(save, [mask, p, a, b]);
    const gradFunc = (dMask: tf.Tensor, saved: tf.Tensor[]) => {
      const [sMask, sPooled, sW1, sW2] = restore(saved);
      return runFusedKernel(MWT_MASK_GATE_GRAD, { dMask, mask: sMask, pooled: sPooled, w1: sW1, w2: sW2 }, {});
    };
    return { value: mask as tf.Tensor2D, gradFunc };
  });
  return op(pooled, w1, w2, b2);
}
