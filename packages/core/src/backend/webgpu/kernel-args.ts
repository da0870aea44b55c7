/** What tfjs hands a kernel function, for the webgpu backend's own kernels. */
import type * as tf from '@tensorflow/tfjs';

/** A KernelFunc's one parameter: inputs, the backend that runs the kernel, attributes. */
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The kernel's input `name`, or an error naming the kernel and the input. */
export function requireInput(kernelName: string, inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const tensor = inputs[name];
  if (tensor === undefined) throw new Error(`webgpu ${kernelName}: input ${name} missing`);
  return tensor;
}
