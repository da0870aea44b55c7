/** Matrix products, elementwise ops and reductions on the native kernels (float32 only). */
import * as tf from '@tensorflow/tfjs';
import { BinaryOp, nativeKernels, ReduceOp, UnaryOp } from './addon.js';
import { requireInputs, type NativeKernel, type NativeKernelArgs } from './backend.js';

const MAX_RANK = 6;
const size = tf.util.sizeFromShape;

/**
 * a @ b over leading batch dimensions, which must be equal or 1 on one side (tfjs broadcasts more
 * generally; those cases fall back). `bias` has one value per output column.
 */
function matMul(args: NativeKernelArgs, bias: tf.TensorInfo | undefined, relu: boolean): tf.TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { a, b } = requireInputs(inputs, 'a', 'b');
  const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
  const as = backend.floats(a);
  const bs = backend.floats(b);
  const biasValues = bias ? backend.floats(bias) : null;
  if (!as || !bs || biasValues === undefined || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [kb, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  if (k !== kb || (batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1) || size([m, n, k, batch]) === 0) return undefined;
  if (biasValues && biasValues.length !== n) return undefined;
  const batchShape = (batchA >= batchB ? a : b).shape.slice(0, -2);
  const out = backend.allocate(batch * m * n);
  const shape = Int32Array.from([batch, batchA, batchB, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0]);
  nativeKernels().matMul(as, bs, biasValues, out, shape, relu ? 1 : 0);
  return backend.output([...batchShape, m, n], out);
}

const batchMatMul: NativeKernel = (args) => matMul(args, undefined, false);

const fusedMatMul: NativeKernel = (args) => {
  const { bias, preluActivationWeights } = args.inputs;
  const { activation } = args.attrs as unknown as tf._FusedMatMulAttrs;
  if (preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return undefined;
  return matMul(args, bias, activation === 'relu');
};

function binary(op: BinaryOp): NativeKernel {
  return ({ inputs, backend }) => {
    const { a, b } = requireInputs(inputs, 'a', 'b');
    const as = backend.floats(a);
    const bs = backend.floats(b);
    if (!as || !bs) return undefined;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const rank = Math.max(outShape.length, 1);
    if (rank > MAX_RANK || size(outShape) === 0) return undefined;
    const padded = (shape: number[]) => Int32Array.from([...Array<number>(rank - shape.length).fill(1), ...shape]);
    const out = backend.allocate(size(outShape));
    nativeKernels().binary(op, as, padded(a.shape), bs, padded(b.shape), out, padded(outShape));
    return backend.output(outShape, out);
  };
}

function unary(op: UnaryOp): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = requireInputs(inputs, 'x');
    const xs = backend.floats(x);
    if (!xs || xs.length === 0) return undefined;
    const out = backend.allocate(xs.length);
    const alpha = op === UnaryOp.Step ? (attrs as unknown as tf.StepAttrs).alpha : 0;
    nativeKernels().unary(op, xs, out, alpha);
    return backend.output(x.shape, out);
  };
}

/** Reductions over axes that form one contiguous run (e.g. [1, 2] of NHWC, or [0] of [N, C]). */
function reduction(op: ReduceOp): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = requireInputs(inputs, 'x');
    // Max names its axes `reductionIndices`, Sum and Mean `axis`.
    const { axis, keepDims } = op === ReduceOp.Max ? { ...(attrs as unknown as tf.MaxAttrs), axis: (attrs as unknown as tf.MaxAttrs).reductionIndices } : (attrs as unknown as tf.SumAttrs);
    const xs = backend.floats(x);
    if (!xs || xs.length === 0) return undefined;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    if (axes.length === 0 || axes.some((value, i) => i > 0 && value !== axes[i - 1] + 1)) return undefined;
    const first = axes[0];
    const last = axes[axes.length - 1];
    const outer = size(x.shape.slice(0, first));
    const inner = size(x.shape.slice(first, last + 1));
    const rest = size(x.shape.slice(last + 1));
    const outShape = keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
    const out = backend.allocate(outer * rest);
    nativeKernels().reduce(op, xs, out, outer, inner, rest);
    return backend.output(outShape, out);
  };
}

/**
 * Tile where it is a broadcast (every repeated axis has length 1), which is how tf.broadcastTo and
 * the gradients of means and sums expand a tensor: x + 0 with the output shape given.
 */
const ZERO = new Float32Array(1);
const tile: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x } = requireInputs(inputs, 'x');
  const { reps } = attrs as unknown as tf.TileAttrs;
  const xs = backend.floats(x);
  if (!xs || xs.length === 0 || x.shape.length > MAX_RANK || reps.some((r, i) => r !== 1 && x.shape[i] !== 1)) return undefined;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.allocate(size(outShape));
  nativeKernels().binary(BinaryOp.Add, xs, Int32Array.from(x.shape), ZERO, new Int32Array(x.shape.length).fill(1), out, Int32Array.from(outShape));
  return backend.output(outShape, out);
};

/**
 * Cast to float32 into a new float32 array. The cpu backend's Cast shares the bool or int32 array
 * it was given (no precision is lost), which every native kernel would then have to reject.
 */
const cast: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x } = requireInputs(inputs, 'x');
  const { dtype } = attrs as unknown as tf.CastAttrs;
  const values = backend.numbers(x);
  if (dtype !== 'float32' || (x.dtype !== 'bool' && x.dtype !== 'int32') || !values) return undefined;
  return backend.output(x.shape, Float32Array.from(values));
};

export const MATH_KERNELS: Record<string, NativeKernel> = {
  [tf.Cast]: cast,
  [tf.Tile]: tile,
  [tf.BatchMatMul]: batchMatMul,
  [tf._FusedMatMul]: fusedMatMul,
  [tf.Add]: binary(BinaryOp.Add),
  [tf.Sub]: binary(BinaryOp.Sub),
  [tf.Multiply]: binary(BinaryOp.Mul),
  [tf.RealDiv]: binary(BinaryOp.Div),
  [tf.Maximum]: binary(BinaryOp.Max),
  [tf.Minimum]: binary(BinaryOp.Min),
  [tf.Relu]: unary(UnaryOp.Relu),
  [tf.Step]: unary(UnaryOp.Step),
  [tf.Neg]: unary(UnaryOp.Neg),
  [tf.Square]: unary(UnaryOp.Square),
  [tf.Sqrt]: unary(UnaryOp.Sqrt),
  [tf.Rsqrt]: unary(UnaryOp.Rsqrt),
  [tf.Exp]: unary(UnaryOp.Exp),
  [tf.Tanh]: unary(UnaryOp.Tanh),
  [tf.Sum]: reduction(ReduceOp.Sum),
  [tf.Mean]: reduction(ReduceOp.Mean),
  [tf.Max]: reduction(ReduceOp.Max),
};
