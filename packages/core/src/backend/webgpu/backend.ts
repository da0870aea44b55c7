/**
 * tfjs-backend-webgpu on Dawn in Node. The package was written for browsers: its factory reads
 * `navigator.gpu` and its synchronous read (dataSync) draws through an OffscreenCanvas. Here the
 * factory is our own (the adapter that openAdapter chose, so a software adapter is never picked
 * behind our back), and a synchronous read of GPU-resident data fails with a clear message instead
 * of reaching for a canvas that Node does not have: callers use `await tensor.data()`.
 */
import * as tf from '@tensorflow/tfjs';
import { openAdapter, type AdapterDescription } from './adapter.js';
import { registerWebgpuConvKernels } from './conv2d-backprop-filter.js';
import { registerWebgpuInPlaceKernels } from './in-place-updates.js';
import { registerWebgpuMaskGateKernels } from './mask-gate-kernels.js';
import { registerWebgpuMaskPairKernels } from './mask-pair-kernels.js';
import { MWT_KERNELS_STORAGE_BUFFERS, registerWebgpuMwtKernels } from './mwt-kernels.js';

export const WEBGPU_BACKEND = 'webgpu';

export interface WebgpuBackendInfo {
  adapter: AdapterDescription;
}

function exposeGpu(gpu: GPU): void {
  // WebGPUBackend's constructor checks navigator.gpu. Node >= 21 has a navigator object (with a
  // getter on globalThis); Node 20 has none.
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
}

/** Limits the device must have for tfjs' kernels: the adapter's own, as tfjs' browser factory asks. */
function deviceDescriptor(adapter: GPUAdapter): GPUDeviceDescriptor {
  const limits = adapter.limits;
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  return {
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      // The fused BatchNorm gradient reads up to 9 buffers and writes 1; WebGPU's default is 8.
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  };
}

let registered: Promise<WebgpuBackendInfo> | undefined;

/**
 * Registers the 'webgpu' tfjs backend on Dawn's adapter (refusing a software one unless
 * `allowSoftware`), with MwT's fused WGSL kernels. Call tf.setBackend('webgpu') afterwards.
 */
export function registerWebgpuBackend(allowSoftware: boolean): Promise<WebgpuBackendInfo> {
  registered ??= (async () => {
    const { gpu, adapter, description } = await openAdapter(allowSoftware);
    // Imported before navigator.gpu exists, so the package's own browser factory stays unregistered.
    const webgpu = await import('@tensorflow/tfjs-backend-webgpu');
    exposeGpu(gpu);
    const device = await adapter.requestDevice(deviceDescriptor(adapter));
    class NodeWebGPUBackend extends webgpu.WebGPUBackend {
      override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
        const held = this.tensorMap.get(dataId);
        if (held?.values == null) {
          throw new Error('webgpu backend: a synchronous read (dataSync/arraySync) of GPU data needs a browser canvas; use await tensor.data()');
        }
        return super.readSync(dataId);
      }
    }
    if (tf.findBackendFactory(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND);
    tf.registerBackend(WEBGPU_BACKEND, () => new NodeWebGPUBackend(device, adapter.info), 0);
    // Otherwise the ops compose them from tfjs kernels (ops/batch-norm.ts): the same model.
    // MWT_WEBGPU_FUSED=0 keeps them (and the mask gate's, pair statistics' and in-place updates') out, to measure what they save (scripts/gpu-check.sh).
    // It also keeps tfjs' own (naive) filter-gradient shader in place of our GEMM one.
    const ours = process.env.MWT_WEBGPU_FUSED !== '0';
    // tfjs submits its command buffer every 15 dispatches by default: 40 submits per vgg16 step, each
    // a trip through Dawn on the host, which queues a step more slowly than an H200 runs it. 32 halves
    // them and still hands the GPU work early in the step. MWT_WEBGPU_SUBMIT_BATCH overrides it.
    tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', submitBatchSize());
    if (ours && device.limits.maxStorageBuffersPerShaderStage >= MWT_KERNELS_STORAGE_BUFFERS) registerWebgpuMwtKernels(WEBGPU_BACKEND);
    if (ours) {
      // Conv2DBackpropInput as tfjs' tiled-matmul (implicit GEMM) program instead of its default, naive
      // one (a thread per input element looping over the filter): the largest GPU kernel of a vgg16
      // step on an H200 with the naive one (16.8 of 54 ms). The same maths; the conv tests check it.
      tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', false);
      registerWebgpuConvKernels(WEBGPU_BACKEND);
      registerWebgpuMaskGateKernels(WEBGPU_BACKEND);
      registerWebgpuMaskPairKernels(WEBGPU_BACKEND);
      registerWebgpuInPlaceKernels(WEBGPU_BACKEND);
    }
    return { adapter: description };
  })();
  return registered.catch((err: unknown) => {
    registered = undefined;
    throw err;
  });
}

/** Dispatches per queue submit (MWT_WEBGPU_SUBMIT_BATCH, default 32). */
function submitBatchSize(): number {
  const value = Number(process.env.MWT_WEBGPU_SUBMIT_BATCH ?? 32);
  if (!Number.isInteger(value) || value < 1) throw new Error(`MWT_WEBGPU_SUBMIT_BATCH: a positive integer, got ${process.env.MWT_WEBGPU_SUBMIT_BATCH}`);
  return value;
}
