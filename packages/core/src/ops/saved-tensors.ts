import * as tf from '@tensorflow/tfjs';

/**
 * Saves `tensors` for a custom gradient, except variables: the engine clones every saved tensor (an
 * Identity kernel and a tape entry each, a sixth of a webgpu step's kernels), and a variable needs no
 * copy, since nothing changes it between a step's forward and backward passes (the optimizer runs
 * after both). Returns how the gradient function gets the full list back from what was saved.
 */
export function saveExceptVariables(save: tf.GradSaveFunc, tensors: tf.Tensor[]): (saved: tf.Tensor[]) => tf.Tensor[] {
  const isVariable = tensors.map((t) => t instanceof tf.Variable);
  save(tensors.filter((_, i) => !isVariable[i]));
  return (saved) => {
    let next = 0;
    return tensors.map((t, i) => (isVariable[i] ? t : saved[next++]));
  };
}
