/**
 * The compiled kernels (build/mwt_native.node), loaded and typed. Every function takes float32 inputs,
 * then outputs that the caller allocated (zero-filled for the two conv gradients and maxPoolGrad,
 * which add into them), then dimensions; see kernels.h for the maths.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the addon is: build/mwt_native.node in this package, or MWT_NATIVE_ADDON (an image built elsewhere, tests). */
export const addonPath = process.env.MWT_NATIVE_ADDON || join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'mwt_native.node');

/** [batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW, padTop, padLeft] */
export type ConvGeometry = Int32Array;

export interface NativeKernels {
  conv2d(x: Float32Array, filter: Float32Array, out: Float32Array, geometry: ConvGeometry): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: ConvGeometry): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dFilter: Float32Array, geometry: ConvGeometry): void;
  maxPool(x: Float32Array, out: Float32Array, geometry: ConvGeometry): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, geometry: ConvGeometry): void;
  /** shape: [batch, batchA, batchB, m, k, n, transposeA, transposeB]; activation 0 linear, 1 relu. */
  matMul(a: Float32Array, b: Float32Array, bias: Float32Array | null, c: Float32Array, shape: Int32Array, activation: number): void;
  /** shape: [batch, pixels, channels, relu] */
  batchNormTrain(
    z: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    mask: Float32Array | null,
    out: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    shape: Int32Array,
    epsilon: number,
  ): void;
  batchNormTrainGrad(
    dOut: Float32Array,
    z: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    mask: Float32Array | null,
    mean: Float32Array,
    variance: Float32Array,
    dz: Float32Array,
    dGamma: Float32Array,
    dBeta: Float32Array,
    dMask: Float32Array | null,
    shape: Int32Array,
    epsilon: number,
  ): void;
  /** Inference BatchNorm over per-channel statistics; shape: [rows, channels]. */
  batchNormInference(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    out: Float32Array,
    shape: Int32Array,
    epsilon: number,
  ): void;
  /** Shapes padded to one rank (<= 6). */
  binary(op: BinaryOp, a: Float32Array, aShape: Int32Array, b: Float32Array, bShape: Int32Array, out: Float32Array, outShape: Int32Array): void;
  unary(op: UnaryOp, x: Float32Array, out: Float32Array, alpha: number): void;
  /** out[o, r] = reduce over i of x[o, i, r] */
  reduce(op: ReduceOp, x: Float32Array, out: Float32Array, outer: number, inner: number, rest: number): void;
  sgdUpdate(
    param: Float32Array,
    velocity: Float32Array,
    grad: Float32Array,
    newParam: Float32Array,
    newVelocity: Float32Array,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
  ): void;
  /** shape: [batch, kernels]; positive, negative: [batch, batch]; sums: 2 */
  pairSimilaritySums(mask: Float32Array, positive: Float32Array, negative: Float32Array, sums: Float32Array, shape: Int32Array, epsilon: number): void;
  pairSimilaritySumsGrad(dSums: Float32Array, mask: Float32Array, positive: Float32Array, negative: Float32Array, dMask: Float32Array, shape: Int32Array, epsilon: number): void;
  /** out: [kernel rate, sum P * Jaccard, sum N * Jaccard] */
  maskJaccardMetrics(mask: Float32Array, positive: Float32Array, negative: Float32Array, out: Float32Array, shape: Int32Array): void;
  /** shape: [batch, inputs, hidden, kernels] */
  maskGate(pooled: Float32Array, w1: Float32Array, w2: Float32Array, b2: Float32Array, mask: Float32Array, shape: Int32Array): void;
  maskGateGrad(
    dMask: Float32Array,
    mask: Float32Array,
    pooled: Float32Array,
    w1: Float32Array,
    w2: Float32Array,
    dPooled: Float32Array,
    dW1: Float32Array,
    dW2: Float32Array,
    dB2: Float32Array,
    shape: Int32Array,
  ): void;
  threads(): number;
  /** Whether the convolutions run through oneDNN (built with libdnnl-dev, MWT_NATIVE_DNNL not 0). */
  convUsesDnnl(): boolean;
  /**
   * Which kernel runs conv2d for a geometry: "gemm per tap" (small maps, conv_taps.cc), oneDNN's name for its
   * implementation ("jit:avx512_core"), or "native".
   */
  convImplementation(geometry: ConvGeometry): string;
}

/** Codes shared with kernels.h. */
export enum BinaryOp {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  Max = 4,
  Min = 5,
  /** relu(a + b) */
  AddRelu = 6,
  /** a * step(b): the ReLU's gradient, a = dy and b = its output */
  ReluGrad = 7,
}
export enum UnaryOp {
  Relu = 0,
  Step = 1,
  Neg = 2,
  Square = 3,
  Sqrt = 4,
  Rsqrt = 5,
  Exp = 6,
  Tanh = 7,
}
export enum ReduceOp {
  Sum = 0,
  Mean = 1,
  Max = 2,
}

/** The addon's exports, checked to be an object; the interface above states what it holds. */
function loadAddon(): object {
  if (!existsSync(addonPath)) {
    throw new Error(`native kernels not built (${addonPath} missing): run \`npm run build:native\` (needs g++)`);
  }
  // oneDNN's OpenMP threads (an addon built with it) read this when the addon loads. Spinning at the
  // end of each parallel region, OpenMP's default, costs whole time slices on a busy machine, where
  // the spinning thread holds the core that a descheduled one needs: threads wait passively.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  const addon: unknown = createRequire(import.meta.url)(addonPath);
  if (typeof addon !== 'object' || addon === null) throw new Error(`${addonPath} did not export an object`);
  return addon;
}

let kernels: NativeKernels | undefined;

/** Loads the addon once; throws (naming the fix) where it was not built. */
export function nativeKernels(): NativeKernels {
  // The C++ side (addon.cc) exports exactly these functions; Node-API cannot describe them to tsc.
  kernels ??= loadAddon() as NativeKernels;
  return kernels;
}
