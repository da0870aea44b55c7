/** Conv2D, its two gradients, and max pooling, on the native kernels (NHWC float32). */
import * as tf from '@tensorflow/tfjs';
import { nativeKernels, type ConvGeometry } from './addon.js';
import { requireInputs, type NativeBackend, type NativeKernel } from './backend.js';

/** What kernels.h's ConvGeometry holds, from tfjs' own shape arithmetic. */
function geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry | undefined {
  if (info.dataFormat !== 'channelsLast') return undefined;
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ]);
}

const size = tf.util.sizeFromShape;

type Shape4 = [number, number, number, number];
type ConvAttrs = Pick<tf.Conv2DAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'> & { dilations?: tf.Conv2DAttrs['dilations'] };

function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): tf.backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dilations = 1, dimRoundingMode } = attrs;
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4, filterShape as Shape4, strides, dilations, pad, dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
}

/**
 * Runs a geometry kernel into a new output of `outShape` (zero-filled for the gradients that add into
 * it); undefined (the cpu kernel then runs) where an input is not float32, the layout is not NHWC, or a
 * tensor is empty.
 */
function runGeometryKernel(
  backend: NativeBackend,
  info: tf.backend_util.Conv2DInfo,
  inputs: (Float32Array | undefined)[],
  outShape: number[],
  kernel: (inputs: Float32Array[], out: Float32Array, g: ConvGeometry) => void,
  accumulates = false,
): tf.TensorInfo | undefined {
  const g = geometry(info);
  const present = inputs.filter((values): values is Float32Array => values !== undefined && values.length > 0);
  if (!g || present.length !== inputs.length || size(outShape) === 0) return undefined;
  const out = backend.allocate(size(outShape), accumulates);
  kernel(present, out, g);
  return backend.output([...outShape], out);
}

const conv2d: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x, filter } = requireInputs(inputs, 'x', 'filter');
  const info = convInfo(x.shape, filter.shape, attrs as unknown as tf.Conv2DAttrs);
  return runGeometryKernel(backend, info, [backend.floats(x), backend.floats(filter)], info.outShape, ([xs, fs], out, g) => nativeKernels().conv2d(xs, fs, out, g));
};

const conv2dBackpropInput: NativeKernel = ({ inputs, backend, attrs }) => {
  const { dy, filter } = requireInputs(inputs, 'dy', 'filter');
  const convAttrs = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = convInfo(convAttrs.inputShape, filter.shape, convAttrs);
  return runGeometryKernel(backend, info, [backend.floats(dy), backend.floats(filter)], convAttrs.inputShape, ([dys, fs], dx, g) =>
    nativeKernels().conv2dBackpropInput(dys, fs, dx, g),
    true,
  );
};

const conv2dBackpropFilter: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x, dy } = requireInputs(inputs, 'x', 'dy');
  const convAttrs = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convInfo(x.shape, convAttrs.filterShape, convAttrs);
  return runGeometryKernel(backend, info, [backend.floats(x), backend.floats(dy)], convAttrs.filterShape, ([xs, dys], dFilter, g) =>
    nativeKernels().conv2dBackpropFilter(xs, dys, dFilter, g),
    true,
  );
};

function poolInfo(xShape: number[], attrs: tf.MaxPoolAttrs): tf.backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  return tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
}

const maxPool: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x } = requireInputs(inputs, 'x');
  const info = poolInfo(x.shape, attrs as unknown as tf.MaxPoolAttrs);
  return runGeometryKernel(backend, info, [backend.floats(x)], info.outShape, ([xs], out, g) => nativeKernels().maxPool(xs, out, g));
};

const maxPoolGrad: NativeKernel = ({ inputs, backend, attrs }) => {
  const { dy, input } = requireInputs(inputs, 'dy', 'input');
  const info = poolInfo(input.shape, attrs as unknown as tf.MaxPoolAttrs);
  return runGeometryKernel(backend, info, [backend.floats(dy), backend.floats(input)], input.shape, ([dys, xs], dx, g) => nativeKernels().maxPoolGrad(dys, xs, dx, g), true);
};

export const CONV_KERNELS: Record<string, NativeKernel> = {
  [tf.Conv2D]: conv2d,
  [tf.Conv2DBackpropInput]: conv2dBackpropInput,
  [tf.Conv2DBackpropFilter]: conv2dBackpropFilter,
  [tf.MaxPool]: maxPool,
  [tf.MaxPoolGrad]: maxPoolGrad,
};
