import * as tf from '@tensorflow/tfjs';
import { addRelu } from '../ops/add-relu.js';
import { batchNormTrain } from '../ops/batch-norm.js';
import { conv2d } from '../ops/conv2d.js';
import { globalAvgPool } from '../ops/global-avg-pool.js';
import { maskGate } from '../ops/mask-gate.js';
import { hasBatchNorm, type Architecture, type ResidualBlock } from './architecture.js';
import { BN_EPSILON, param, type ParamStore } from './params.js';

export interface ForwardOptions {
  /** Batch statistics in BatchNorm and active dropout. */
  training: boolean;
  /** Seed of this step's dropout noise (reproducible training). */
  dropoutSeed?: number;
  /**
   * Replaces the mask generator of a masked conv by a fixed per-kernel vector (by conv name, e.g.
   * `conv3` or `res2/conv1`). Used to check that a pruned module computes exactly what the full model
   * computes with the dropped kernels forced off and the kept ones on.
   */
  maskOverride?: Map<string, Float32Array>;
  /**
   * Called between blocks, in the forward pass and again in the backward pass (through an identity
   * with a custom gradient): it throws to abandon a step that may take many seconds on a big model
   * (a cancelled job). One call per block, so it must be cheap.
   */
  interrupt?: () => void;
}

/** Batch mean and (biased) variance of one BatchNorm in training mode, to update its running statistics. */
export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Values per channel the statistics were taken over (B*H*W), for the unbiased variance. */
  count: number;
}

export interface ForwardResult {
  /** [batch, outputs] */
  logits: tf.Tensor2D;
  /** One [batch, kernels] mask per masked conv, in `maskedConvNames` order. */
  masks: tf.Tensor2D[];
  /** Training mode only: batch statistics of every BatchNorm by parameter prefix. */
  batchStats: Map<string, BatchStats>;
}

/**
 * The model as a pure function of its parameters. Tensors it returns are new; callers own them
 * (run it inside tf.tidy or a gradient function).
 */
export function forward(arch: Architecture, params: ParamStore, x: tf.Tensor4D, options: ForwardOptions): ForwardResult {
  const pass = new ForwardPass(params, options, x);
  const between = options.interrupt ? interruptible(options.interrupt) : null;
  let h: tf.Tensor = x;
  for (const block of arch.blocks) {
    if (between) h = between(h);
    switch (block.type) {
      case 'conv':
        h = pass.maskedConv(block.name, h as tf.Tensor4D, block.stride, block.masked, true, hasBatchNorm(block));
        break;
      case 'residual':
        h = pass.residual(block, h as tf.Tensor4D);
        break;
      case 'maxPool':
        h = tf.maxPool(h as tf.Tensor4D, block.size, block.size, 'valid');
        break;
      case 'flatten':
        h = tf.reshape(h, [h.shape[0], -1]);
        break;
      case 'globalAvgPool':
        h = tf.mean(h, [1, 2]);
        break;
      case 'dense':
        h = pass.dense(block.name, pass.dropout(h as tf.Tensor2D, block.dropout), block.relu);
        break;
      case 'head':
        h = pass.dense(block.name, tf.relu(h as tf.Tensor2D), false);
        break;
    }
  }
  return { logits: h as tf.Tensor2D, masks: pass.masks, batchStats: pass.batchStats };
}

/** Calls `interrupt` now and, through its gradient, when the backward pass reaches this point. */
function interruptible(interrupt: () => void): (x: tf.Tensor) => tf.Tensor {
  const identity = tf.customGrad((...inputs) => {
    const [x] = inputs;
    if (!(x instanceof tf.Tensor)) throw new TypeError('interruptible: expected a tensor');
    return {
      // clone() shares x's data: no copy.
      value: x.clone(),
      gradFunc: (dy: tf.Tensor) => {
        interrupt();
        return dy;
      },
    };
  });
  return (x) => {
    interrupt();
    return identity(x);
  };
}

class ForwardPass {
  readonly masks: tf.Tensor2D[] = [];
  readonly batchStats = new Map<string, BatchStats>();
  private dropoutCount = 0;

  constructor(
    private readonly params: ParamStore,
    private readonly options: ForwardOptions,
    /** The model input: data, so no conv needs a gradient with respect to it. */
    private readonly input: tf.Tensor4D,
  ) {}

  /**
   * out = act(BN(conv(x)) * m), m = ReLU(tanh(W2 ReLU(W1 GAP(x)) + b2)) per sample and kernel; act = ReLU
   * or identity. Without BN: act((conv(x) + bias) * m), through portable ops (the fused kernels are BN's).
   */
  maskedConv(prefix: string, x: tf.Tensor4D, stride: number, masked: boolean, relu: boolean, batchNorm: boolean): tf.Tensor4D {
    const kernel = param<tf.Rank.R4>(this.params, `${prefix}/kernel`);
    const z = conv2d(x, kernel, stride, 'same', { inputGradient: x !== this.input });
    const override = masked ? this.options.maskOverride?.get(prefix) : undefined;
    const mask = masked && !override ? this.maskOf(prefix, x) : undefined;
    if (!batchNorm) {
      const bias = param<tf.Rank.R1>(this.params, `${prefix}/bias`);
      if (relu && !override && !mask) return addRelu(z, bias);
      let y: tf.Tensor4D = tf.add(z, bias);
      if (override) y = tf.mul(y, tf.tensor4d(override, [1, 1, 1, override.length]));
      if (mask) y = tf.mul(y, tf.reshape(mask, [mask.shape[0], 1, 1, mask.shape[1]]));
      return relu ? tf.relu(y) : y;
    }
    if (this.options.training && !override) {
      // One fused op with a closed-form gradient: see ops/batch-norm.ts for why.
      const gamma = param<tf.Rank.R1>(this.params, `${prefix}/bn/gamma`);
      const beta = param<tf.Rank.R1>(this.params, `${prefix}/bn/beta`);
      const { out, mean, variance } = batchNormTrain(z, gamma, beta, mask, relu);
      const [batch, height, width] = z.shape;
      this.batchStats.set(prefix, { mean, variance, count: batch * height * width });
      return out;
    }
    let y = this.batchNorm(prefix, z);
    if (override) y = tf.mul(y, tf.tensor4d(override, [1, 1, 1, override.length]));
    if (mask) y = tf.mul(y, tf.reshape(mask, [mask.shape[0], 1, 1, mask.shape[1]]));
    return relu ? tf.relu(y) : y;
  }

  /** The mask generator of MWT.md section 1 on the block input x; records the mask for the losses. */
  private maskOf(prefix: string, x: tf.Tensor4D): tf.Tensor2D {
    const mask = maskGate(globalAvgPool(x), {
      w1: param<tf.Rank.R2>(this.params, `${prefix}/gate/w1`),
      w2: param<tf.Rank.R2>(this.params, `${prefix}/gate/w2`),
      b2: param<tf.Rank.R1>(this.params, `${prefix}/gate/b2`),
    });
    this.masks.push(mask);
    return mask;
  }

  residual(block: ResidualBlock, x: tf.Tensor4D): tf.Tensor4D {
    const batchNorm = hasBatchNorm(block);
    const reluBeforeAdd = block.activation === 'before-add';
    const inner = this.maskedConv(`${block.name}/conv1`, x, block.stride, block.masked, true, batchNorm);
    let branch = this.maskedConv(`${block.name}/conv2`, inner, 1, block.masked, reluBeforeAdd, batchNorm);
    if (block.conv2Kept) branch = scatterChannels(branch, block.conv2Kept, block.filters);
    let shortcut = block.projection ? this.maskedConv(`${block.name}/shortcut`, x, block.stride, block.masked, false, batchNorm) : x;
    if (block.shortcutKept) shortcut = scatterChannels(shortcut, block.shortcutKept, block.filters);
    return reluBeforeAdd ? tf.add(branch, shortcut) : addRelu(branch, shortcut);
  }

  dense(prefix: string, x: tf.Tensor2D, relu: boolean): tf.Tensor2D {
    const y = tf.add(tf.matMul(x, param<tf.Rank.R2>(this.params, `${prefix}/kernel`)), param(this.params, `${prefix}/bias`)) as tf.Tensor2D;
    return relu ? tf.relu(y) : y;
  }

  dropout(x: tf.Tensor2D, rate: number): tf.Tensor2D {
    if (!this.options.training || rate === 0) return x;
    this.dropoutCount += 1;
    const seed = this.options.dropoutSeed === undefined ? undefined : this.options.dropoutSeed * 31 + this.dropoutCount;
    return tf.dropout(x, rate, undefined, seed) as tf.Tensor2D;
  }

  private batchNorm(prefix: string, x: tf.Tensor4D): tf.Tensor4D {
    const gamma = param<tf.Rank.R1>(this.params, `${prefix}/bn/gamma`);
    const beta = param<tf.Rank.R1>(this.params, `${prefix}/bn/beta`);
    if (!this.options.training) {
      const mean = param<tf.Rank.R1>(this.params, `${prefix}/bn/mean`);
      const variance = param<tf.Rank.R1>(this.params, `${prefix}/bn/variance`);
      return tf.batchNorm4d(x, mean, variance, beta, gamma, BN_EPSILON);
    }
    // Training with a fixed mask override (tests only): the plain, autodiff formulation.
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const [batch, height, width] = x.shape;
    this.batchStats.set(prefix, { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, count: batch * height * width });
    return tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, BN_EPSILON);
  }
}

/**
 * Writes the `kept.length` channels of x into channels `kept` of a `width`-channel map (zeros
 * elsewhere): how a pruned residual branch adds back into its full-width stream. A matmul with a
 * fixed one-hot matrix, exactly what the exported model's 1x1 "scatter" conv computes.
 */
export function scatterChannels(x: tf.Tensor4D, kept: number[], width: number): tf.Tensor4D {
  const [batch, height, w] = x.shape;
  const flat = tf.reshape(x, [-1, kept.length]) as tf.Tensor2D;
  const scattered = tf.matMul(flat, scatterMatrix(kept, width));
  return tf.reshape(scattered, [batch, height, w, width]);
}

export function scatterMatrix(kept: number[], width: number): tf.Tensor2D {
  const values = new Float32Array(kept.length * width);
  kept.forEach((channel, row) => {
    values[row * width + channel] = 1;
  });
  return tf.tensor2d(values, [kept.length, width]);
}
