import * as tf from '@tensorflow/tfjs';
import { paramSpecs, type Architecture, type ParamSpec } from '@mwt/catalog';

/**
 * All variables of a model by stable name (`conv3/kernel`, `conv3/bn/gamma`, `conv3/gate/w1`,
 * `res2/conv1/kernel`, `fc1/bias`, ...). BatchNorm running statistics are non-trainable variables.
 * Names are ours, not tfjs's: tfjs variable names are global to the engine, so two models with
 * the same tfjs names could not coexist in one process (a worker trains several).
 */
export type ParamStore = Map<string, tf.Variable>;

/** PyTorch's BatchNorm defaults: eps 1e-5, running statistics updated with momentum 0.1. */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

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
    const value = initialValue(spec, seed * 1000 + index, kernelFan ?? spec.fanIn);
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
