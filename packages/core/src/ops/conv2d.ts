import * as tf from '@tensorflow/tfjs';

export type ConvPadding = 'same' | 'valid';

type Pair = [number, number];
/** Same shape as tfjs' ExplicitPadding (NHWC), which tfjs does not re-export. */
type ExplicitPadding = [Pair, Pair, Pair, Pair];

/** TF's output size and padding along one spatial axis. */
interface Axis {
  out: number;
  padBefore: number;
  padAfter: number;
}

function axis(size: number, k: number, stride: number, pad: ConvPadding): Axis {
  if (pad === 'valid') return { out: Math.floor((size - k) / stride) + 1, padBefore: 0, padAfter: 0 };
  const out = Math.ceil(size / stride);
  // TF 'same' pads asymmetrically: the odd extra row/column goes after.
  const total = Math.max((out - 1) * stride + k - size, 0);
  const padBefore = Math.floor(total / 2);
  return { out, padBefore, padAfter: total - padBefore };
}

function spatial(rows: Pair, cols: Pair): ExplicitPadding {
  return [[0, 0], rows, cols, [0, 0]];
}

/**
 * dFilter[p,q,ci,co] = sum_{b,i,j} xPad[b, i*s+p, j*s+q, ci] * dy[b,i,j,co].
 * With Cin as the batch and B as the channels this is a forward conv of x by
 * dy dilated by the stride, which the wasm backend implements (it has no
 * Conv2DBackpropFilter kernel).
 */
function filterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, stride: number, rows: Axis, cols: Axis): tf.Tensor4D {
  const xT = tf.transpose(x, [3, 1, 2, 0]); // [Cin, H, W, B]
  const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, B, Cout]
  // Explicit conv padding equals tf.pad + 'valid' without materialising the padded copy.
  const padding = spatial([rows.padBefore, rows.padAfter], [cols.padBefore, cols.padAfter]);
  const full = tf.conv2d(xT, dyT, 1, padding, 'NHWC', stride); // [Cin, >=kh, >=kw, Cout]
  // Rows that 'valid' leaves unused at the bottom/right make `full` larger than the kernel.
  const exact = full.shape[1] === kh && full.shape[2] === kw ? full : tf.slice(full, [0, 0, 0, 0], [-1, kh, kw, -1]);
  return tf.transpose(exact, [1, 2, 0, 3]);
}

/** Puts stride-1 zeros after every row and column: [B,Ho,Wo,C] -> [B,Ho*s,Wo*s,C]. */
function interleaveZeros(dy: tf.Tensor4D, stride: number): tf.Tensor4D {
  const [b, ho, wo, c] = dy.shape;
  const grid = tf.reshape(dy, [b, ho, 1, wo, 1, c]);
  const padded = tf.pad(grid, [
    [0, 0],
    [0, 0],
    [0, stride - 1],
    [0, 0],
    [0, stride - 1],
    [0, 0],
  ]);
  return tf.reshape(padded, [b, ho * stride, wo * stride, c]);
}

/**
 * dx is the full correlation of the zero-interleaved dy with the filter rotated
 * 180° (in/out swapped), cropped to x's extent. Doing it as a forward conv
 * avoids wasm's Conv2DBackpropInput, which is ~10x slower than its Conv2D.
 */
function inputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, xShape: number[], stride: number, rows: Axis, cols: Axis): tf.Tensor4D {
  const [kh, kw] = filter.shape;
  const [, h, w] = xShape;
  let spread = stride > 1 ? interleaveZeros(dy, stride) : dy;
  // Padding so that dx row r reads spread rows r+padBefore-(k-1) .. r+padBefore.
  const top = kh - 1 - rows.padBefore;
  const left = kw - 1 - cols.padBefore;
  // ...and so that exactly H x W outputs come out of the 'valid' correlation.
  const bottom = h + kh - 1 - top - spread.shape[1];
  const right = w + kw - 1 - left - spread.shape[2];
  // Trailing interleaved zeros can overshoot x (e.g. k=1, s=2, odd H): crop them.
  if (bottom < 0 || right < 0) {
    spread = tf.slice(spread, [0, 0, 0, 0], [-1, spread.shape[1] + Math.min(bottom, 0), spread.shape[2] + Math.min(right, 0), -1]);
  }
  const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [kh, kw, Cout, Cin]
  const padding = spatial([top, Math.max(bottom, 0)], [left, Math.max(right, 0)]);
  return tf.conv2d(spread, rotated, 1, padding);
}

function asRank4(t: tf.Tensor | tf.GradSaveFunc | undefined, what: string): tf.Tensor4D {
  if (!(t instanceof tf.Tensor) || t.rank !== 4) throw new Error(`conv2d: ${what} must be a rank-4 tensor`);
  return t as tf.Tensor4D;
}

/** dFilter through the backend's own Conv2DBackpropFilter kernel (every backend but wasm has one). */
function kernelFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, stride: number, pad: ConvPadding): tf.Tensor4D {
  const filterShape: [number, number, number, number] = [kh, kw, x.shape[3], dy.shape[3]];
  const attrs = { strides: [stride, stride], pad, dataFormat: 'NHWC', dimRoundingMode: null, filterShape };
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * conv2d with a custom gradient: on wasm both gradients are forward convolutions (so training works
 * there at all); elsewhere it only serves to skip the input gradient of the first layer.
 */
function customConv(stride: number, pad: ConvPadding, inputGradient: boolean, wasm: boolean): (x: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor4D {
  return tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = asRank4(inputs[0], 'x');
    const filter = asRank4(inputs[1], 'filter');
    const save = inputs[2];
    if (typeof save === 'function') save([x, filter]);
    const value = tf.conv2d(x, filter, stride, pad);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]): tf.Tensor[] =>
      tf.tidy(() => {
        const sx = asRank4(saved[0], 'saved x');
        const sf = asRank4(saved[1], 'saved filter');
        const [kh, kw] = sf.shape;
        const rows = axis(sx.shape[1], kh, stride, pad);
        const cols = axis(sx.shape[2], kw, stride, pad);
        // The first layer's input is data: a zero fill is cheaper than a full backward conv.
        const dx = inputGradient ? inputGrad(dy, sf, sx.shape, stride, rows, cols) : tf.zerosLike(sx);
        const dFilter = wasm ? filterGrad(sx, dy, kh, kw, stride, rows, cols) : kernelFilterGrad(sx, dy, kh, kw, stride, pad);
        return [dx, dFilter];
      });
    return { value, gradFunc };
  });
}

export interface ConvOptions {
  /** false when x is data (the model input): its gradient is then returned as zeros, not computed. */
  inputGradient?: boolean;
}

/**
 * NHWC 2-D convolution (filter [kh,kw,Cin,Cout]) that is differentiable on every backend. wasm gets
 * forward-convolution gradients (it has no Conv2DBackpropFilter kernel and a slow
 * Conv2DBackpropInput); the other backends use their own gradient kernels.
 */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, pad: ConvPadding, options: ConvOptions = {}): tf.Tensor4D {
  const wasm = tf.getBackend() === 'wasm';
  const inputGradient = options.inputGradient ?? true;
  if (!wasm && inputGradient) return tf.conv2d(x, filter, stride, pad);
  return customConv(stride, pad, inputGradient, wasm)(x, filter);
}
