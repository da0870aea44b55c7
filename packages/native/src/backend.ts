/**
 * The `native` tfjs backend: the cpu backend's tensor storage (plain typed arrays, which the addon
 * reads and writes in place) and its 170 kernels, with the ones that dominate training replaced by
 * the multithreaded C++ kernels of this package (kernels/*.ts; register.ts registers them). A kernel
 * whose inputs it does not handle (another dtype, an unusual layout) falls back to the cpu backend's
 * implementation, so every op works.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { OutputPool } from './output-pool.js';

/** The name tfjs knows the backend by. */
export const NATIVE_BACKEND = 'mwt-native';

/** Free output arrays kept for reuse at least up to this size (more where a step used more: OutputPool). */
const MIN_POOL_BYTES = 256 * 1024 * 1024;

type DataId = Parameters<MathBackendCPU['readSync']>[0];

export class NativeBackend extends MathBackendCPU {
  private readonly outputs = new OutputPool(MIN_POOL_BYTES);

  constructor() {
    super();
    // The cpu backend tells Node users on first use to install tfjs-node; here that is misleading.
    // (firstUse is private to MathBackendCPU, hence set by name.)
    Reflect.set(this, 'firstUse', false);
  }

  /** A float32 output array for a kernel, with contents the kernel overwrites. */
  allocate(length: number): Float32Array {
    return this.outputs.take(length);
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

  /**
   * A kernel's output is a view of this tensor's array (the cpu backend's Slice of a contiguous
   * range is a subarray): the array must never be reused while the view may live, so it never goes
   * back to the pool (the garbage collector frees it with its last view).
   */
  shareArray(t: tf.TensorInfo): void {
    const values = this.data.get(t.dataId)?.values;
    if (values instanceof Float32Array) this.outputs.release(values);
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
