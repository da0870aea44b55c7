/**
 * Runs MwT's own fused kernels (their contracts: kernel-names.ts) on the backends that register them.
 * Ops look them up on the active backend and use their portable formulation where they are absent.
 */
import * as tf from '@tensorflow/tfjs';
import type { MwtKernelAttrs, MwtKernelInputs, MwtKernelName, MwtOptionalKernelName } from '../kernel-names.js';

export function hasFusedKernel(kernelName: MwtKernelName | MwtOptionalKernelName): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/** Runs a fused kernel on the active backend, with its inputs recorded for gradients as usual. */
export function runFusedKernel<K extends MwtKernelName>(kernelName: K, inputs: MwtKernelInputs<tf.Tensor>[K], attrs: MwtKernelAttrs[K]): tf.Tensor[] {
  return tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor[];
}
