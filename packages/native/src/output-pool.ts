/**
 * Recycled output arrays for the native kernels. A training step allocates the same few hundred
 * arrays every step, and V8 pays for each large typed array twice: a zero-filled allocation, then the
 * garbage collections its external memory triggers (measured: a 64 KiB Float32Array cost ~200 us at
 * the median, and collection ~14% of a step). An array comes back when the data of the tensor that
 * holds it is disposed, and goes out again as the next output of the same length.
 *
 * It keeps as many free bytes as were ever lent at once, and at least `minFreeBytes`: a training step
 * gives back at its end the arrays that the next step takes again, so any lower cap makes every step
 * allocate the difference anew (a fixed 256 MiB did: 131 arrays, 303 MB, of each resnet18 step at
 * batch 32). The process held that memory in live tensors a moment before, so its peak stays.
 * When full, it makes room by dropping arrays of the lengths least recently taken or given back:
 * once a process trains another model (a worker's next job), the last model's arrays would
 * otherwise fill it for good, and every step of the new one allocate anew (resnet18 standard at
 * batch 32, two threads, right after vgg16 at batch 128 in the same process: 633 ms a step, 554 with
 * the room made).
 */
export class OutputPool {
  /** Free arrays by length; Map order is recency order, the least recently used length first. */
  private readonly free = new Map<number, Float32Array[]>();
  /** Arrays handed out and still returnable: never a caller's own array, nor one a reader holds. */
  private readonly lent = new WeakSet<Float32Array>();
  private freeBytes = 0;
  private lentBytes = 0;
  private peakLentBytes = 0;

  constructor(private readonly minFreeBytes: number) {}

  /** An array of `length` floats, with contents the kernel overwrites. */
  take(length: number): Float32Array {
    const recycled = this.touch(length)?.pop();
    if (recycled) this.freeBytes -= recycled.byteLength;
    const values = recycled ?? new Float32Array(length);
    this.lent.add(values);
    this.lentBytes += values.byteLength;
    this.peakLentBytes = Math.max(this.peakLentBytes, this.lentBytes);
    return values;
  }

  /** Takes back an array whose tensor data was disposed (ignored if not lent, or if it cannot fit: makeRoom). */
  give(values: Float32Array): void {
    if (!this.lent.delete(values)) return;
    this.lentBytes -= values.byteLength;
    if (!this.makeRoom(values)) return;
    const list = this.touch(values.length);
    if (list) list.push(values);
    else this.free.set(values.length, [values]);
    this.freeBytes += values.byteLength;
  }

  /** Drops free arrays of other lengths, least recently used first, until `values` fits; false if it cannot. */
  private makeRoom(values: Float32Array): boolean {
    const capacity = Math.max(this.minFreeBytes, this.peakLentBytes);
    const fits = () => this.freeBytes + values.byteLength <= capacity;
    for (const [length, list] of this.free) {
      if (fits()) break;
      if (length === values.length) continue;
      while (!fits()) {
        const dropped = list.pop();
        if (!dropped) break;
        this.freeBytes -= dropped.byteLength;
      }
      if (list.length === 0) this.free.delete(length);
    }
    return fits();
  }

  /** The free list of `length`, now the most recently used. */
  private touch(length: number): Float32Array[] | undefined {
    const list = this.free.get(length);
    if (list) {
      this.free.delete(length);
      this.free.set(length, list);
    }
    return list;
  }

  /** Never takes `values` back: someone outside the backend (dataSync, data) holds it now. */
  release(values: Float32Array): void {
    if (this.lent.delete(values)) this.lentBytes -= values.byteLength;
  }
}
