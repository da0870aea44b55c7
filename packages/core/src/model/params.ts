import * as tf from '@tensorflow/tfjs';
import type { Architecture } from './architecture';
import { gateHiddenUnits, traceShapes } from './shapes';

/**
 * All variables of a model by stable name (`conv3/kernel`, `conv3/bn/gamma`, `conv3/gate/w1`,
 * `res2/conv1/kernel`, `fc1/bias`, ...). BatchNorm running statistics are non-trainable variables.
 * Names are ours, not tfjs's: tfjs variable names are global to the engine, so two models with
 * the same tfjs names could not coexist in one process (a worker trains several).
 */
export type ParamStore = Map<string, tf.Variable>;

/** What one parameter should be initialized to (a pure description, so that pruning can reuse it). */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'heNormal' | 'linearUniform' | 'zeros' | 'ones';
  trainable: boolean;
}

/** PyTorch's BatchNorm defaults: eps 1e-5, running statistics updated with momentum 0.1. */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

function batchNormSpecs(prefix: string, channels: number): ParamSpec[] {
  return [
    { name: `${prefix}/bn/gamma`, shape: [channels], init: 'ones', trainable: true },
    { name: `${prefix}/bn/beta`, shape: [channels], init: 'zeros', trainable: true },
    { name: `${prefix}/bn/mean`, shape: [channels], init: 'zeros', trainable: false },
    { name: `${prefix}/bn/variance`, shape: [channels], init: 'ones', trainable: false },
  ];
}

/** Conv kernel + BN + (if masked) the mask generator of MWT.md section 1. */
function maskedConvSpecs(prefix: string, kernelSize: number, inChannels: number, kernels: number, masked: boolean): ParamSpec[] {
  const specs: ParamSpec[] = [
    { name: `${prefix}/kernel`, shape: [kernelSize, kernelSize, inChannels, kernels], init: 'heNormal', trainable: true },
    ...batchNormSpecs(prefix, kernels),
  ];
  if (masked) {
    const hidden = gateHiddenUnits(kernels);
    specs.push(
      { name: `${prefix}/gate/w1`, shape: [inChannels, hidden], init: 'heNormal', trainable: true },
      { name: `${prefix}/gate/w2`, shape: [hidden, kernels], init: 'heNormal', trainable: true },
      // Bias 1.0: tanh(1) = 0.76 > 0, so every kernel starts switched on.
      { name: `${prefix}/gate/b2`, shape: [kernels], init: 'ones', trainable: true },
    );
  }
  return specs;
}

/** Every parameter an architecture needs, in forward order. */
export function paramSpecs(arch: Architecture): ParamSpec[] {
  const specs: ParamSpec[] = [];
  for (const { block, input } of traceShapes(arch)) {
    const inChannels = input[2];
    switch (block.type) {
      case 'conv':
        specs.push(...maskedConvSpecs(block.name, block.kernelSize, inChannels, block.filters, block.masked));
        break;
      case 'residual': {
        const conv2Kernels = block.conv2Kept?.length ?? block.filters;
        specs.push(...maskedConvSpecs(`${block.name}/conv1`, 3, inChannels, block.innerFilters, block.masked));
        specs.push(...maskedConvSpecs(`${block.name}/conv2`, 3, block.innerFilters, conv2Kernels, block.masked));
        if (block.projection) {
          specs.push(...maskedConvSpecs(`${block.name}/shortcut`, 1, inChannels, block.filters, false));
        }
        break;
      }
      case 'dense':
      case 'head':
        specs.push(
          { name: `${block.name}/kernel`, shape: [inChannels, block.units], init: 'linearUniform', trainable: true },
          { name: `${block.name}/bias`, shape: [block.units], init: 'linearUniform', trainable: true },
        );
        break;
      default:
        break;
    }
  }
  return specs;
}

/** Fan-in of a kernel: every dimension but the last (output) one. */
function fanIn(shape: number[]): number {
  return shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/** Initial value of one parameter; `seed` (>= 0) makes initialization reproducible. */
export function initialValue(spec: ParamSpec, seed: number, fanInOverride?: number): tf.Tensor {
  const fan = fanInOverride ?? fanIn(spec.shape);
  // tfjs' randomNormal treats a seed of 0 as "no seed" (it is falsy) and draws from Math.random.
  const tfSeed = seed + 1;
  switch (spec.init) {
    case 'heNormal':
      return tf.randomNormal(spec.shape, 0, Math.sqrt(2 / fan), 'float32', tfSeed);
    case 'linearUniform': {
      // PyTorch's nn.Linear default: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weight and bias.
      const bound = 1 / Math.sqrt(fan);
      return tf.randomUniform(spec.shape, -bound, bound, 'float32', tfSeed);
    }
    case 'zeros':
      return tf.zeros(spec.shape);
    case 'ones':
      return tf.ones(spec.shape);
  }
}

/** Fresh parameters for an architecture. Seeds are derived per parameter from `seed`. */
export function initParams(arch: Architecture, seed: number): ParamStore {
  const store: ParamStore = new Map();
  const specs = paramSpecs(arch);
  specs.forEach((spec, index) => {
    // A bias of a dense layer uses the fan-in of its kernel, like PyTorch.
    const kernelFan = spec.name.endsWith('/bias') ? specs[index - 1].shape[0] : undefined;
    const value = initialValue(spec, seed * 1000 + index, kernelFan);
    store.set(spec.name, tf.variable(value, spec.trainable));
    value.dispose();
  });
  return store;
}

export function trainableVariables(store: ParamStore): tf.Variable[] {
  return [...store.values()].filter((v) => v.trainable);
}

export function disposeParams(store: ParamStore): void {
  for (const v of store.values()) v.dispose();
  store.clear();
}

/** A parameter by name, typed by its rank (e.g. `param<tf.Rank.R4>(store, 'conv2/kernel')`). */
export function param<R extends tf.Rank = tf.Rank>(store: ParamStore, name: string): tf.Variable<R> {
  const v = store.get(name);
  if (!v) throw new Error(`missing parameter ${name}`);
  return v as tf.Variable<R>;
}

/** Total number of trainable scalars (what "parameter count" means in reports). */
export function countTrainable(arch: Architecture): number {
  return paramSpecs(arch)
    .filter((s) => s.trainable)
    .reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}
