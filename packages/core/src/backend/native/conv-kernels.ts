/** Conv2D, its two gradients, and max pooling, on the native kernels (NHWC float32). */
import * as tf from '@tensorflow/tfjs';
import { nativeKernels, type ConvGeometry } from './addon';
import { requireInputs, type NativeKernel } from './backend';

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

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

const conv2d: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x, filter } = requireInputs(inputs, 'x', 'filter');
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
  const xs = backend.floats(x);
  const fs = backend.floats(filter);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    strides, dilations, pad, dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  const g = geometry(info);
  if (!xs || !fs || !g || size(info.outShape) === 0 || xs.length === 0) return undefined;
  const out = new Float32Array(size(info.outShape));
  nativeKernels().conv2d(xs, fs, out, g);
  return backend.output(info.outShape, out);
};

const conv2dBackpropInput: NativeKernel = ({ inputs, backend, attrs }) => {
  const { dy, filter } = requireInputs(inputs, 'dy', 'filter');
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const dys = backend.floats(dy);
  const fs = backend.floats(filter);
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  const g = geometry(info);
  if (!dys || !fs || !g || size(inputShape) === 0 || dys.length === 0) return undefined;
  const dx = new Float32Array(size(inputShape));
  nativeKernels().conv2dBackpropInput(dys, fs, dx, g);
  return backend.output([...inputShape], dx);
};

const conv2dBackpropFilter: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x, dy } = requireInputs(inputs, 'x', 'dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const xs = backend.floats(x);
  const dys = backend.floats(dy);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  const g = geometry(info);
  if (!xs || !dys || !g || size(filterShape) === 0 || xs.length === 0) return undefined;
  const dFilter = new Float32Array(size(filterShape));
  nativeKernels().conv2dBackpropFilter(xs, dys, dFilter, g);
  return backend.output([...filterShape], dFilter);
};

function poolInfo(xShape: number[], attrs: tf.MaxPoolAttrs): tf.backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  return tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
}

const maxPool: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x } = requireInputs(inputs, 'x');
  const xs = backend.floats(x);
  const info = poolInfo(x.shape, attrs as unknown as tf.MaxPoolAttrs);
  const g = geometry(info);
  if (!xs || !g || xs.length === 0 || size(info.outShape) === 0) return undefined;
  const out = new Float32Array(size(info.outShape));
  nativeKernels().maxPool(xs, out, g);
  return backend.output(info.outShape, out);
};

const maxPoolGrad: NativeKernel = ({ inputs, backend, attrs }) => {
  const { dy, input } = requireInputs(inputs, 'dy', 'input');
  const dys = backend.floats(dy);
  const xs = backend.floats(input);
  const info = poolInfo(input.shape, attrs as unknown as tf.MaxPoolAttrs);
  const g = geometry(info);
  if (!dys || !xs || !g || xs.length === 0) return undefined;
  const dx = new Float32Array(xs.length);
  nativeKernels().maxPoolGrad(dys, xs, dx, g);
  return backend.output(input.shape, dx);
};

export const CONV_KERNELS: Record<string, NativeKernel> = {
  [tf.Conv2D]: conv2d,
  [tf.Conv2DBackpropInput]: conv2dBackpropInput,
  [tf.Conv2DBackpropFilter]: conv2dBackpropFilter,
  [tf.MaxPool]: maxPool,
  [tf.MaxPoolGrad]: maxPoolGrad,
};
