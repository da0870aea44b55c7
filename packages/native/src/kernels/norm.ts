/**
 * tfjs' FusedBatchNorm (tf.batchNorm: BatchNorm in evaluation and modularization) on the native
 * kernels, for statistics given per channel of the last axis; other shapes fall back to the cpu
 * kernel. It was the cpu backend's JavaScript loop, about half of a modularization's time.
 */
import * as tf from '@tensorflow/tfjs';
import { isNumber } from '@mwt/core/kernel-attrs';
import { nativeKernels } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { nativeOrCpuKernel, type NativeKernel } from '../kernel.js';

/** The values of an optional per-channel input, null where absent; undefined where it is not [channels]. */
function perChannel(backend: NativeBackend, t: tf.TensorInfo | undefined, channels: number): Float32Array | null | undefined {
  if (t === undefined) return null;
  const values = backend.floats(t);
  return values !== undefined && values.length === channels && t.shape.length <= 1 ? values : undefined;
}

const fusedBatchNorm: NativeKernel<Pick<tf.FusedBatchNormAttrs, 'varianceEpsilon'>> = ({ inputs, backend, attrs }) => {
  const { x, mean, variance, offset, scale } = inputs;
  if (!x || !mean || !variance) return undefined;
  const xs = backend.floats(x);
  const channels = x.shape[x.shape.length - 1];
  if (!xs || xs.length === 0 || channels === undefined || channels === 0) return undefined;
  const [means, variances, offsets, scales] = [mean, variance, offset, scale].map((t) => perChannel(backend, t, channels));
  if (!means || !variances || offsets === undefined || scales === undefined) return undefined;
  const out = backend.allocate(xs.length);
  const { varianceEpsilon } = attrs;
  nativeKernels().batchNormInference(xs, means, variances, offsets, scales, out, Int32Array.of(xs.length / channels, channels), varianceEpsilon);
  return backend.output(x.shape, out);
};

export const NORM_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [nativeOrCpuKernel(tf.FusedBatchNorm, { varianceEpsilon: isNumber }, fusedBatchNorm)];
