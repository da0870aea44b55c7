import * as tf from '@tensorflow/tfjs';
import { hasFusedKernel } from './fused-kernels.js';
import { MWT_GLOBAL_AVG_POOL, MWT_GLOBAL_AVG_POOL_GRAD, type MwtGlobalAvgPoolGradAttrs } from '../kernel-names.js';

/**
 * Mean over the spatial axes of NHWC: [B, H, W, C] -> [B, C]. Same value as tf.mean(x, [1, 2]),
 * with a one-op gradient (dy / (H * W), broadcast) where tfjs' own builds a tensor of ones, multiplies
 * and divides, three passes over a full-size activation per mask generator. On a backend with
 * MwtGlobalAvgPoolGrad (webgpu) the gradient is that one kernel instead of three; with
 * MwtGlobalAvgPool (webgpu) the value is one pass over x, where tfjs' mean transposes x first.
 */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = inputs[0];
    if (!(input instanceof tf.Tensor) || input.rank !== 4) throw new Error('globalAvgPool: x must be a rank-4 tensor');
    const [batch, height, width, channels] = input.shape;
    const gradFunc = (dy: tf.Tensor) => {
      if (hasFusedKernel(MWT_GLOBAL_AVG_POOL_GRAD)) {
        const attrs: MwtGlobalAvgPoolGradAttrs = { height, width };
        return tf.engine().runKernel(MWT_GLOBAL_AVG_POOL_GRAD, { dy }, { ...attrs }) as tf.Tensor;
      }
      return tf.broadcastTo(tf.reshape(tf.div(dy, height * width), [batch, 1, 1, channels]), input.shape);
    };
    const value = hasFusedKernel(MWT_GLOBAL_AVG_POOL) ? (tf.engine().runKernel(MWT_GLOBAL_AVG_POOL, { x: input }, {}) as tf.Tensor2D) : (tf.mean(input, [1, 2]) as tf.Tensor2D);
    return { value, gradFunc };
  });
  return op(x);
}
