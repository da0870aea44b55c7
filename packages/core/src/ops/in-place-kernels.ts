/**
 * Running the kernels that update many variables in place in one call (their contracts:
 * kernel-names.ts, MwtSgdUpdateInPlace and MwtRunningStatsInPlace). Backends register them where a
 * kernel per variable costs more host time than the update itself (webgpu: about 2,000 tfjs kernels
 * and GPU programs a step before these; a vgg16 step updates 81 parameters and 13 pairs of BatchNorm
 * statistics). They return no tensors: they write into the variables' own data, which the caller
 * must hold alone (see ownData).
 */
import * as tf from '@tensorflow/tfjs';
import type { MWT_RUNNING_STATS_IN_PLACE, MWT_SGD_UPDATE_IN_PLACE, MwtOptionalKernelAttrs } from '../kernel-names.js';

type InPlaceKernelName = typeof MWT_SGD_UPDATE_IN_PLACE | typeof MWT_RUNNING_STATS_IN_PLACE;

/** Named inputs of an in-place kernel: `names` per item, numbered (`param0`, `velocity0`, ...). */
export function numberedInputs(names: readonly string[], items: ReadonlyArray<readonly tf.Tensor[]>): tf.NamedTensorMap {
  const inputs: tf.NamedTensorMap = {};
  items.forEach((tensors, i) => names.forEach((name, j) => (inputs[`${name}${i}`] = tensors[j])));
  return inputs;
}

/**
 * Makes `variable` the only holder of its data, so that an in-place kernel cannot change another
 * tensor (a clone, or the value it was created from, shares the data until one of them is written).
 */
export function ownData(variable: tf.Variable): void {
  if (tf.engine().backend.refCount(variable.dataId) <= 1) return;
  const copy = tf.add(variable, 0);
  variable.assign(copy);
  copy.dispose();
}

/** Runs an in-place kernel on the active backend (no outputs, nothing recorded for gradients). */
export function runInPlaceKernel<K extends InPlaceKernelName>(kernelName: K, inputs: tf.NamedTensorMap, attrs: MwtOptionalKernelAttrs[K]): void {
  const attrMap: tf.NamedAttrMap = { ...attrs };
  tf.engine().runKernel(kernelName, inputs, attrMap);
}
