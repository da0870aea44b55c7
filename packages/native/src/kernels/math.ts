/** Matrix products, elementwise ops and reductions on the native kernels (float32 only). */
import * as tf from '@tensorflow/tfjs';
import { isBoolean, isNumber, isNumberArray, nullable, oneOf, type AttrGuards } from '@mwt/core/kernel-attrs';
import { BinaryOp, nativeKernels, ReduceOp, UnaryOp } from '../addon.js';
import { nativeOrCpuKernel, requireInputs, type NativeKernel, type NativeKernelArgs } from '../kernel.js';

const MAX_RANK = 6;
const size = tf.util.sizeFromShape;

type MatMulAttrs = Pick<tf.BatchMatMulAttrs, 'transposeA' | 'transposeB'>;
type FusedMatMulAttrs = MatMulAttrs & Pick<tf._FusedMatMulAttrs, 'activation'>;
/**
 * Sum and Mean name their axes `axis`, Max `reductionIndices`; tfjs' ops pass null for "all axes"
 * (tf.sum(x)), which parseAxisParam reads as such.
 */
type ReduceAttrs = { axis: number | number[] | null | undefined; keepDims: boolean };
type MaxAttrs = { reductionIndices: ReduceAttrs['axis']; keepDims: boolean };

const NO_ATTRS: AttrGuards<object> = {};
const MAT_MUL_ATTRS: AttrGuards<MatMulAttrs> = { transposeA: isBoolean, transposeB: isBoolean };
const FUSED_MAT_MUL_ATTRS: AttrGuards<FusedMatMulAttrs> = {
  ...MAT_MUL_ATTRS,
  activation: oneOf('linear', 'relu', 'prelu', 'elu', 'relu6', 'leakyrelu', 'sigmoid'),
};
const isAxes = nullable((value: unknown): value is number | number[] => isNumber(value) || isNumberArray(value));
const REDUCE_ATTRS: AttrGuards<ReduceAttrs> = { axis: isAxes, keepDims: isBoolean };
const MAX_ATTRS: AttrGuards<MaxAttrs> = { reductionIndices: isAxes, keepDims: isBoolean };

/**
 * a @ b over leading batch dimensions, which must be equal or 1 on one side (tfjs broadcasts more
 * generally; those cases fall back). `bias` has one value per output column.
 */
function matMul(args: NativeKernelArgs<MatMulAttrs>, bias: tf.TensorInfo | undefined, relu: boolean): tf.TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { a, b } = requireInputs(inputs, 'a', 'b');
  const { transposeA, transposeB } = attrs;
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

const batchMatMul: NativeKernel<MatMulAttrs> = (args) => matMul(args, undefined, false);

const fusedMatMul: NativeKernel<FusedMatMulAttrs> = (args) => {
  const { bias, preluActivationWeights } = args.inputs;
  const { activation } = args.attrs;
  if (preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return undefined;
  return matMul(args, bias, activation === 'relu');
};

/** An elementwise op of two inputs, named `a` and `b` unless given (MwtReluGrad's are `dy` and `y`). */
export function binary(op: BinaryOp, aName = 'a', bName = 'b'): NativeKernel {
  return ({ inputs, backend }) => {
    const { [aName]: a, [bName]: b } = requireInputs(inputs, aName, bName);
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

/** An elementwise op; `alpha` is Step's value for x <= 0 (the other ops ignore it). */
function unary(op: UnaryOp, { inputs, backend }: NativeKernelArgs, alpha: number): tf.TensorInfo | undefined {
  const { x } = requireInputs(inputs, 'x');
  const xs = backend.floats(x);
  if (!xs || xs.length === 0) return undefined;
  const out = backend.allocate(xs.length);
  nativeKernels().unary(op, xs, out, alpha);
  return backend.output(x.shape, out);
}

const unaryKernel = (op: UnaryOp): tf.KernelConfig => nativeOrCpuKernel(UNARY_KERNEL_NAMES[op], NO_ATTRS, (args) => unary(op, args, 0));
const step: NativeKernel<Pick<tf.StepAttrs, 'alpha'>> = (args) => unary(UnaryOp.Step, args, args.attrs.alpha);

/** Reductions over axes that form one contiguous run (e.g. [1, 2] of NHWC, or [0] of [N, C]). */
function reduction(op: ReduceOp): NativeKernel<ReduceAttrs> {
  return ({ inputs, backend, attrs }) => {
    const { x } = requireInputs(inputs, 'x');
    const { axis, keepDims } = attrs;
    const xs = backend.floats(x);
    if (!xs || xs.length === 0) return undefined;
    const axes = tf.util.parseAxisParam(axis ?? x.shape.map((_, i) => i), x.shape).sort((p, q) => p - q);
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
const tile: NativeKernel<Pick<tf.TileAttrs, 'reps'>> = ({ inputs, backend, attrs }) => {
  const { x } = requireInputs(inputs, 'x');
  const { reps } = attrs;
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
const cast: NativeKernel<Pick<tf.CastAttrs, 'dtype'>> = ({ inputs, backend, attrs }) => {
  const { x } = requireInputs(inputs, 'x');
  const { dtype } = attrs;
  const values = backend.numbers(x);
  if (dtype !== 'float32' || (x.dtype !== 'bool' && x.dtype !== 'int32') || !values) return undefined;
  return backend.output(x.shape, Float32Array.from(values));
};

const UNARY_KERNEL_NAMES: Readonly<Record<UnaryOp, string>> = {
  [UnaryOp.Relu]: tf.Relu,
  [UnaryOp.Step]: tf.Step,
  [UnaryOp.Neg]: tf.Neg,
  [UnaryOp.Square]: tf.Square,
  [UnaryOp.Sqrt]: tf.Sqrt,
  [UnaryOp.Rsqrt]: tf.Rsqrt,
  [UnaryOp.Exp]: tf.Exp,
  [UnaryOp.Tanh]: tf.Tanh,
};

const binaryKernel = (kernelName: string, op: BinaryOp): tf.KernelConfig => nativeOrCpuKernel(kernelName, NO_ATTRS, binary(op));

export const MATH_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  nativeOrCpuKernel(tf.Cast, { dtype: oneOf('float32', 'int32', 'bool', 'complex64', 'string') }, cast),
  nativeOrCpuKernel(tf.Tile, { reps: isNumberArray }, tile),
  nativeOrCpuKernel(tf.BatchMatMul, MAT_MUL_ATTRS, batchMatMul),
  nativeOrCpuKernel(tf._FusedMatMul, FUSED_MAT_MUL_ATTRS, fusedMatMul),
  binaryKernel(tf.Add, BinaryOp.Add),
  binaryKernel(tf.Sub, BinaryOp.Sub),
  binaryKernel(tf.Multiply, BinaryOp.Mul),
  binaryKernel(tf.RealDiv, BinaryOp.Div),
  binaryKernel(tf.Maximum, BinaryOp.Max),
  binaryKernel(tf.Minimum, BinaryOp.Min),
  unaryKernel(UnaryOp.Relu),
  nativeOrCpuKernel(tf.Step, { alpha: isNumber }, step),
  unaryKernel(UnaryOp.Neg),
  unaryKernel(UnaryOp.Square),
  unaryKernel(UnaryOp.Sqrt),
  unaryKernel(UnaryOp.Rsqrt),
  unaryKernel(UnaryOp.Exp),
  unaryKernel(UnaryOp.Tanh),
  nativeOrCpuKernel(tf.Sum, REDUCE_ATTRS, reduction(ReduceOp.Sum)),
  nativeOrCpuKernel(tf.Mean, REDUCE_ATTRS, reduction(ReduceOp.Mean)),
  nativeOrCpuKernel(tf.Max, MAX_ATTRS, (args) => reduction(ReduceOp.Max)({ ...args, attrs: { axis: args.attrs.reductionIndices, keepDims: args.attrs.keepDims } })),
];
