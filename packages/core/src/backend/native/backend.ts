/**
 * The `native` tfjs backend: the cpu backend's tensor storage (plain typed arrays, which the addon
 * reads and writes in place) and its 170 kernels, with the ones that dominate training replaced by
 * the multithreaded C++ kernels of @mwt/native. A kernel whose inputs it does not handle (another
 * dtype, an unusual layout) falls back to the cpu backend's implementation, so every op works.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { nativeKernels } from './addon.js';
import { CONV_KERNELS } from './conv-kernels.js';
import { MATH_KERNELS } from './math-kernels.js';
import { MWT_KERNELS } from './mwt-kernels.js';
import { NORM_KERNELS } from './norm-kernels.js';
import { OutputPool } from './output-pool.js';

/** The name tfjs knows the backend by. */
export const NATIVE_BACKEND = 'mwt-native';

/** Free output arrays kept for reuse, at most (the arrays in live tensors are not counted). */
const POOL_BYTES = 256 * 1024 * 1024;

type DataId = Parameters<MathBackendCPU['readSync']>[0];

export class NativeBackend extends MathBackendCPU {
  private readonly outputs = new OutputPool(POOL_BYTES);

  constructor() {
    super();
    // The cpu backend tells Node users on first use to install tfjs-node; here that is misleading.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** A float32 output array for a kernel: zero-filled when the kernel accumulates into it. */
  allocate(length: number, zeroed = false): Float32Array {
    return this.outputs.take(length, zeroed);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const disposed = super.disposeData(dataId, force);
    if (values instanceof Float32Array && !this.data.has(dataId)) this.outputs.give(values);
    return disposed;
  }

  /** dataSync() and data() hand out the tensor's own array: it must never be reused under the caller. */
  override readSync(dataId: DataId): ReturnType<MathBackendCPU['readSync']> {
    const values = super.readSync(dataId);
    if (values instanceof Float32Array) this.outputs.release(values);
    return values;
  }

  /** The float32 values behind a tensor, or undefined for other dtypes (the kernels then fall back). */
  floats(t: tf.TensorInfo): Float32Array | undefined {
    if (t.dtype !== 'float32') return undefined;
    const values = this.data.get(t.dataId)?.values;
    return values instanceof Float32Array ? values : undefined;
  }

  /** The values of a numeric tensor of any dtype. */
  numbers(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array | undefined {
    const values = this.data.get(t.dataId)?.values;
    return values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint8Array ? values : undefined;
  }

  /** A new float32 tensor over `values` (from allocate(), or any array it takes ownership of). */
  output(shape: number[], values: Float32Array): tf.TensorInfo {
    return this.makeTensorInfo(shape, 'float32', values);
  }
}

export interface NativeKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: NativeBackend;
  attrs: tf.NamedAttrMap;
}

/** The named inputs a kernel needs (tfjs' map types every entry as possibly absent). */
export function requireInputs<K extends string>(inputs: tf.NamedTensorInfoMap, ...names: K[]): Record<K, tf.TensorInfo> {
  const found = {} as Record<K, tf.TensorInfo>;
  for (const name of names) {
    const input = inputs[name];
    if (!input) throw new Error(`kernel input ${name} is missing`);
    found[name] = input;
  }
  return found;
}

/** A native kernel: a result, or undefined to let the cpu backend's kernel handle these inputs. */
export type NativeKernel = (args: NativeKernelArgs) => tf.TensorInfo | tf.TensorInfo[] | undefined;

function asNativeBackend(backend: unknown): NativeBackend {
  if (!(backend instanceof NativeBackend)) throw new Error(`${NATIVE_BACKEND} kernel called on another backend`);
  return backend;
}

/** MWT_NATIVE_TRACE=1 logs every call that falls back to the cpu kernel (to find what is worth a native kernel). */
const traceFallbacks = process.env.MWT_NATIVE_TRACE === '1';

function traceFallback(kernelName: string, inputs: tf.NamedTensorInfoMap): void {
  const described = Object.entries(inputs).map(([name, t]) => `${name}:${t?.dtype}[${t?.shape.join(',')}]`);
  process.stderr.write(`[mwt-native] ${kernelName} fell back to cpu (${described.join(' ')})\n`);
}

/** Registers the backend once per process; throws (naming the fix) when the addon was not built. */
export function registerNativeBackend(): void {
  nativeKernels(); // fail here, before anything is registered, if the addon is missing
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  for (const config of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...config, backendName: NATIVE_BACKEND });
  const overrides: Record<string, NativeKernel> = { ...CONV_KERNELS, ...MATH_KERNELS, ...NORM_KERNELS };
  for (const [kernelName, kernel] of Object.entries(overrides)) {
    const cpu = tf.getKernel(kernelName, 'cpu');
    if (!cpu) throw new Error(`the cpu backend has no ${kernelName} kernel to fall back to`);
    tf.unregisterKernel(kernelName, NATIVE_BACKEND);
    tf.registerKernel({
      kernelName,
      backendName: NATIVE_BACKEND,
      kernelFunc: (args) => {
        const result = kernel({ inputs: args.inputs, backend: asNativeBackend(args.backend), attrs: args.attrs ?? {} });
        if (result !== undefined) return result;
        if (traceFallbacks) traceFallback(kernelName, args.inputs);
        return cpu.kernelFunc(args);
      },
    });
  }
  // MwT's own fused kernels exist on this backend only (ops check for them; see ops/fused-kernels.ts).
  for (const [kernelName, kernel] of Object.entries(MWT_KERNELS)) {
    tf.registerKernel({
      kernelName,
      backendName: NATIVE_BACKEND,
      kernelFunc: (args) => {
        const result = kernel({ inputs: args.inputs, backend: asNativeBackend(args.backend), attrs: args.attrs ?? {} });
        if (result === undefined) throw new Error(`${kernelName}: unsupported inputs`);
        return result;
      },
    });
  }
  // Priority below cpu: tfjs must never pick it on its own; initBackend() sets it explicitly.
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), -1);
}
