/**
 * Conv2DBackpropFilter for the webgpu backend as one GEMM: dFilter[K, Cout] = im2col(x)ᵀ[K, N] ·
 * dy[N, Cout] with K = kh*kw*Cin and N = B*Ho*Wo. tfjs-backend-webgpu's own shader gives one thread
 * per filter element a loop over all N (157 ms of a 202 ms vgg16 step on an H200); tfjs' tuned
 * matmul tiles the [K, Cout] output. Where that output has few tiles (the wide early layers: K*Cout
 * of 576x64 against N = 131072 at batch 128) a tile's loop over N would leave most of a GPU idle,
 * so N is split by batch into S slices, multiplied as one batched matmul [S, K, Cout] and summed.
 * NHWC float32 only; anything else goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { Im2ColProgram } from './im2col-program.js';
import { SplitSumProgram } from './split-sum-program.js';
import { type KernelArgs } from './kernel-args.js';

interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** The largest im2col matrix one chunk may fill (bytes): a binding limit, and a bound on memory. */
const IM2COL_MAX_BYTES = 1 << 30;
/** Enough 32x32 output tiles (tfjs' matmul tile) to fill a large GPU; fewer get split along N. */
const TARGET_TILES = 1024;
/** Rows of N that a split keeps at least, so that the split's sum stays cheap next to the GEMM. */
const MIN_ROWS_PER_SPLIT = 512;

/** Slices of the batch chunk (a divisor of `count`, so each slice is whole images) for the GEMM. */
function splitCount(count: number, pixels: number, columns: number, outChannels: number): number {
  const tiles = Math.ceil(columns / 32) * Math.ceil(outChannels / 32);
  const wanted = Math.min(Math.ceil(TARGET_TILES / tiles), Math.floor((count * pixels) / MIN_ROWS_PER_SPLIT));
  let split = 1;
  for (let s = 2; s <= Math.min(wanted, count); s++) if (count % s === 0) split = s;
  return split;
}

function stockKernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'webgpu');
  if (config === undefined) throw new Error(`webgpu backend: kernel ${name} missing`);
  return config.kernelFunc;
}

function run(name: string, backend: WebGPUBackend, inputs: tf.NamedTensorInfoMap, attrs: object): tf.TensorInfo {
  return stockKernel(name)({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** Builds the kernel function, falling back to `stock` (tfjs' own kernel) outside NHWC float32. */
export function conv2dBackpropFilterGemm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as WebGPUBackend;
    const { x, dy } = inputs;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as BackpropFilterAttrs;
    if (x === undefined || dy === undefined || dataFormat === 'NCHW' || x.dtype !== 'float32' || dy.dtype !== 'float32') return stock(args);
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize, outHeight, outWidth, filterHeight, filterWidth, inChannels, outChannels, strideHeight, strideWidth, padInfo } = info;
    const pixels = outHeight * outWidth;
    const columns = filterHeight * filterWidth * inChannels;
    // A 1x1, stride-1, unpadded filter reads x as it is: im2col(x) is x.
    const identity = filterHeight === 1 && filterWidth === 1 && strideHeight === 1 && strideWidth === 1 && padInfo.top === 0 && padInfo.left === 0;
    const limits = backend.device.limits;
    const maxBytes = Math.min(IM2COL_MAX_BYTES, limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const chunk = identity ? batchSize : Math.max(1, Math.min(batchSize, Math.floor(maxBytes / (columns * pixels * 4))));
    let sum: tf.TensorInfo | undefined;
    for (let start = 0; start < batchSize; start += chunk) {
      const count = Math.min(chunk, batchSize - start);
      // Freed at the end of each chunk, so that at most one chunk's im2col matrix exists at a time.
      const temporaries: tf.TensorInfo[] = [];
      const keep = (t: tf.TensorInfo) => (temporaries.push(t), t);
      const rows = count * pixels;
      const dyChunk = count === batchSize ? dy : keep(run(tf.Slice, backend, { x: dy }, { begin: [start, 0, 0, 0], size: [count, -1, -1, -1] }));
      const split = splitCount(count, pixels, columns, outChannels);
      const dyMatrix = keep(run(tf.Reshape, backend, { x: dyChunk }, { shape: [split, rows / split, outChannels] }));
      const xMatrix = identity
        ? keep(run(tf.Reshape, backend, { x }, { shape: [split, rows / split, columns] }))
        : keep(
            backend.runWebGPUProgram(new Im2ColProgram(rows, columns), [x], 'float32', [
              { type: 'int32', data: [start] },
              { type: 'int32', data: [padInfo.top, padInfo.left] },
              { type: 'int32', data: [strideHeight, strideWidth] },
              { type: 'int32', data: [outHeight, outWidth] },
              { type: 'int32', data: [filterWidth] },
            ]),
          );
      const xBatched = identity ? xMatrix : keep(run(tf.Reshape, backend, { x: xMatrix }, { shape: [split, rows / split, columns] }));
      const slices = run(tf.BatchMatMul, backend, { a: xBatched, b: dyMatrix }, { transposeA: true, transposeB: false });
      const product = split === 1 ? slices : backend.runWebGPUProgram(new SplitSumProgram(columns * outChannels), [keep(slices)], 'float32');
      if (sum === undefined) sum = product;
      else {
        const previous = sum;
        sum = run(tf.Add, backend, { a: previous, b: product }, {});
        temporaries.push(previous, product);
      }
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
    if (sum === undefined) return stock(args);
    const gradient = run(tf.Reshape, backend, { x: sum }, { shape: filterShape });
    backend.disposeData(sum.dataId);
    return gradient;
  };
}

let registered = false;

/** Replaces tfjs-backend-webgpu's Conv2DBackpropFilter by the GEMM one (keeping its own as the fallback). */
export function registerWebgpuConvKernels(backendName: string): void {
  if (registered) return;
  const stock = tf.getKernel(tf.Conv2DBackpropFilter, backendName);
  if (stock === undefined) return;
  registered = true;
  tf.unregisterKernel(tf.Conv2DBackpropFilter, backendName);
  tf.registerKernel({ kernelName: tf.Conv2DBackpropFilter, backendName, kernelFunc: conv2dBackpropFilterGemm(stock.kernelFunc) });
}
