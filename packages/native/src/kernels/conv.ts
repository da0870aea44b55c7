/** Conv2D, its two gradients, and max pooling, on the native kernels (NHWC float32). */
import * as tf from '@tensorflow/tfjs';
import { either, isNumber, isNumberTuple, nullable, oneOf, optional, type AttrGuard, type AttrGuards } from '@mwt/core/kernel-attrs';
import { nativeKernels, type ConvGeometry } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { nativeOrCpuKernel, requireInputs, type NativeKernel } from '../kernel.js';

/** What kernels.h's ConvGeometry holds, from tfjs' own shape arithmetic. */
function geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry | undefined {
  if (info.dataFormat !== 'channelsLast') return undefined;
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
}

const size = tf.util.sizeFromShape;

type Shape4 = [number, number, number, number];
type Pair = [number, number];
type Padding = tf.Conv2DAttrs['pad'];
/** tfjs passes null (its own default) as well as a mode; computeConv2DInfo treats both alike. */
type RoundingMode = tf.Conv2DAttrs['dimRoundingMode'] | null;
/** What the three convolution kernels read; the gradients have no dilations (1, as tfjs has it). */
type ConvAttrs = Pick<tf.Conv2DAttrs, 'strides' | 'pad' | 'dataFormat'> & { dilations?: tf.Conv2DAttrs['dilations']; dimRoundingMode?: RoundingMode };
type PoolAttrs = Pick<tf.MaxPoolAttrs, 'filterSize' | 'strides' | 'pad'> & { dimRoundingMode?: RoundingMode };

const isPairOrNumber = either(isNumber, isNumberTuple(2));
const isPadding: AttrGuard<Padding> = either(
  either(oneOf('valid', 'same'), isNumber),
  (value): value is [Pair, Pair, Pair, Pair] => Array.isArray(value) && value.length === 4 && value.every(isNumberTuple(2)),
);
const isRoundingMode = nullable(oneOf('floor', 'round', 'ceil'));
const CONV_ATTRS: AttrGuards<ConvAttrs> = {
  strides: isPairOrNumber,
  pad: isPadding,
  dataFormat: oneOf('NHWC', 'NCHW'),
  dilations: optional(isPairOrNumber),
  dimRoundingMode: isRoundingMode,
};
const POOL_ATTRS: AttrGuards<PoolAttrs> = { filterSize: isPairOrNumber, strides: isPairOrNumber, pad: isPadding, dimRoundingMode: isRoundingMode };

function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): tf.backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dilations = 1, dimRoundingMode } = attrs;
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    strides,
    dilations,
    pad,
    dimRoundingMode ?? undefined,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
}

/**
 * Runs a geometry kernel into a new output of `outShape` (which it overwrites); undefined (the cpu
 * kernel then runs) where an input is not float32, the layout is not NHWC, or a tensor is empty.
 */
function runGeometryKernel(
  backend: NativeBackend,
  info: tf.backend_util.Conv2DInfo,
  inputs: (Float32Array | undefined)[],
  outShape: number[],
  kernel: (inputs: Float32Array[], out: Float32Array, g: ConvGeometry) => void,
): tf.TensorInfo | undefined {
  const g = geometry(info);
  const present = inputs.filter((values): values is Float32Array => values !== undefined && values.length > 0);
  if (!g || present.length !== inputs.length || size(outShape) === 0) return undefined;
  const out = backend.allocate(size(outShape));
  kernel(present, out, g);
  return backend.output([...outShape], out);
}

const conv2d: NativeKernel<ConvAttrs> = ({ inputs, backend, attrs }) => {
  const { x, filter } = requireInputs(inputs, 'x', 'filter');
  const info = convInfo(x.shape, filter.shape, attrs);
  return runGeometryKernel(backend, info, [backend.floats(x), backend.floats(filter)], info.outShape, ([xs, fs], out, g) => nativeKernels().conv2d(xs, fs, out, g));
};

const conv2dBackpropInput: NativeKernel<ConvAttrs & Pick<tf.Conv2DBackpropInputAttrs, 'inputShape'>> = ({ inputs, backend, attrs }) => {
  const { dy, filter } = requireInputs(inputs, 'dy', 'filter');
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  return runGeometryKernel(backend, info, [backend.floats(dy), backend.floats(filter)], attrs.inputShape, ([dys, fs], dx, g) =>
    nativeKernels().conv2dBackpropInput(dys, fs, dx, g),
  );
};

const conv2dBackpropFilter: NativeKernel<ConvAttrs & Pick<tf.Conv2DBackpropFilterAttrs, 'filterShape'>> = ({ inputs, backend, attrs }) => {
  const { x, dy } = requireInputs(inputs, 'x', 'dy');
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  return runGeometryKernel(backend, info, [backend.floats(x), backend.floats(dy)], attrs.filterShape, ([xs, dys], dFilter, g) =>
    nativeKernels().conv2dBackpropFilter(xs, dys, dFilter, g),
  );
};

function poolInfo(xShape: number[], attrs: PoolAttrs): tf.backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  return tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode ?? undefined);
}

const maxPool: NativeKernel<PoolAttrs> = ({ inputs, backend, attrs }) => {
  const { x } = requireInputs(inputs, 'x');
  const info = poolInfo(x.shape, attrs);
  return runGeometryKernel(backend, info, [backend.floats(x)], info.outShape, ([xs], out, g) => nativeKernels().maxPool(xs, out, g));
};

const maxPoolGrad: NativeKernel<PoolAttrs> = ({ inputs, backend, attrs }) => {
  const { dy, input } = requireInputs(inputs, 'dy', 'input');
  const info = poolInfo(input.shape, attrs);
  return runGeometryKernel(backend, info, [backend.floats(dy), backend.floats(input)], input.shape, ([dys, xs], dx, g) => nativeKernels().maxPoolGrad(dys, xs, dx, g));
};

export const CONV_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  nativeOrCpuKernel(tf.Conv2D, CONV_ATTRS, conv2d),
  nativeOrCpuKernel(tf.Conv2DBackpropInput, { ...CONV_ATTRS, inputShape: isNumberTuple(4) }, conv2dBackpropInput),
  nativeOrCpuKernel(tf.Conv2DBackpropFilter, { ...CONV_ATTRS, filterShape: isNumberTuple(4) }, conv2dBackpropFilter),
  nativeOrCpuKernel(tf.MaxPool, POOL_ATTRS, maxPool),
  nativeOrCpuKernel(tf.MaxPoolGrad, POOL_ATTRS, maxPoolGrad),
];
