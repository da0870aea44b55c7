import * as tf from '@tensorflow/tfjs';
import { MWT_ADD_RELU, MWT_RELU_GRAD } from '../kernel-names.js';
import { hasFusedKernel } from './fused-kernels.js';

/**
 * relu(a + b), b of a's shape (a residual sum) or one value per channel (a bias). Where the backend
 * has MwtAddRelu and MwtReluGrad (native) it is one pass over the activation each way instead of
 * two forward (add, relu) and two backward (step, mul); elsewhere tfjs' own ops and gradients. Either
 * way the same values: the fused kernels compute exactly what the ops they replace do.
 */
export function addRelu<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  if (!hasFusedKernel(MWT_ADD_RELU) || !hasFusedKernel(MWT_RELU_GRAD)) return tf.relu(tf.add<T>(a, b));
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [left, right, save] = inputs;
    if (!(left instanceof tf.Tensor) || !(right instanceof tf.Tensor) || typeof save !== 'function') throw new Error('addRelu: expected two tensors');
    const value = tf.engine().runKernel<tf.Tensor>(MWT_ADD_RELU, { a: left, b: right }, {});
    save([value]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const dSum = tf.engine().runKernel<tf.Tensor>(MWT_RELU_GRAD, { dy, y: saved[0] }, {});
      // What tf.add's gradient gives b: the sum over the axes it was broadcast along (a bias: all but the last).
      const broadcast = tf.backend_util.getReductionAxes(right.shape, dSum.shape);
      const dRight = broadcast.length > 0 ? tf.reshape(tf.sum(dSum, broadcast), right.shape) : dSum.clone();
      return [dSum, dRight];
    };
    return { value, gradFunc };
  });
  return op(a, b) as T;
}
