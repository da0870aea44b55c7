/**
 * Recycled output arrays for the native kernels. A training step allocates the same few hundred
 * arrays every step, and V8 pays for each large typed array twice: a zero-filled allocation, then the
 * garbage collections its external memory triggers (measured: a 64 KiB Float32Array cost ~200 us at
 * the median, and collection ~14% of a step). An array comes back when the data of the tensor that
 * holds it is disposed, and goes out again as the next output of the same length.
 */
export class OutputPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Arrays handed out and still returnable: never a caller's own array, nor one a reader holds. */
  private readonly lent = new WeakSet<Float32Array>();
  private freeBytes = 0;

  constructor(private readonly maxFreeBytes: number) {}

  /** An array of `length` floats: zero-filled when `zeroed`, else with contents the kernel overwrites. */
  take(length: number, zeroed: boolean): Float32Array {
    const recycled = this.free.get(length)?.pop();
    if (recycled) this.freeBytes -= recycled.byteLength;
    const values = recycled ? (zeroed ? recycled.fill(0) : recycled) : new Float32Array(length);
    this.lent.add(values);
    return values;
  }

  /** Takes back an array whose tensor data was disposed (ignored if not lent, or if the pool is full). */
  give(values: Float32Array): void {
    if (!this.lent.delete(values) || this.freeBytes + values.byteLength > this.maxFreeBytes) return;
    const list = this.free.get(values.length);
    if (list) list.push(values);
    else this.free.set(values.length, [values]);
    this.freeBytes += values.byteLength;
  }

  /** Never takes `values` back: someone outside the backend (dataSync, data) holds it now. */
  release(values: Float32Array): void {
    this.lent.delete(values);
  }
}
