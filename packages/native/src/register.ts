/**
 * Registers the `native` backend with tfjs: the cpu backend's kernels under its name, then ours over
 * them (kernels/*.ts), then MwT's own fused kernels, which only this backend and webgpu have.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeKernels } from './addon.js';
import { NATIVE_BACKEND, NativeBackend } from './backend.js';
import { cpuKernel } from './kernel.js';
import { CONV_KERNEL_CONFIGS } from './kernels/conv.js';
import { MATH_KERNEL_CONFIGS } from './kernels/math.js';
import { MWT_KERNEL_CONFIGS } from './kernels/mwt.js';
import { NORM_KERNEL_CONFIGS } from './kernels/norm.js';

/** The kernels that replace the cpu backend's (each falls back to it). */
const OVERRIDES: readonly tf.KernelConfig[] = [...CONV_KERNEL_CONFIGS, ...MATH_KERNEL_CONFIGS, ...NORM_KERNEL_CONFIGS];

/** Registers the backend once per process; throws (naming the fix) when the addon was not built. */
export function registerNativeBackend(): void {
  nativeKernels(); // fail here, before anything is registered, if the addon is missing
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  for (const config of tf.getKernelsForBackend('cpu')) tf.registerKernel(viewSafeCpuKernel(config));
  for (const config of OVERRIDES) {
    cpuKernel(config.kernelName); // throws where there is nothing to fall back to
    tf.unregisterKernel(config.kernelName, NATIVE_BACKEND);
    tf.registerKernel(config);
  }
  // MwT's own fused kernels exist on this backend only (ops check for them; see @mwt/core's kernel-names.ts).
  for (const config of MWT_KERNEL_CONFIGS) tf.registerKernel(config);
  // Priority below cpu: tfjs must never pick it on its own; initBackend() sets it explicitly.
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), -1);
}

/** Threads the native kernels use. */
export function nativeThreads(): number {
  return nativeKernels().threads();
}

/**
 * A cpu kernel under this backend's name, except that an input whose array an output views (the
 * cpu backend's Slice of a contiguous range is a subarray, and Unpack, Split and others slice too)
 * stays out of the output pool: recycled while the view lives, it would be overwritten under it
 * (tf.unstack's results, read after their source was disposed, showed another kernel's values).
 */
function viewSafeCpuKernel(config: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const out = config.kernelFunc(args);
    const backend = args.backend;
    if (!(backend instanceof NativeBackend)) return out;
    const outputs = Array.isArray(out) ? out : [out];
    // Another tensor on the same data (Reshape, Identity) is counted by tfjs' references: no view.
    const views = new Set(outputs.map((t) => backend.floats(t)?.buffer).filter((b) => b !== undefined));
    const dataIds = new Set(outputs.map((t) => t.dataId));
    for (const input of Object.values(args.inputs)) {
      if (!input || dataIds.has(input.dataId)) continue;
      const buffer = backend.floats(input)?.buffer;
      if (buffer !== undefined && views.has(buffer)) backend.shareArray(input);
    }
    return out;
  };
  return { ...config, backendName: NATIVE_BACKEND, kernelFunc };
}
