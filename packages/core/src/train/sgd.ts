import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../model/params.js';
import { MWT_SGD_UPDATE, MWT_SGD_UPDATE_IN_PLACE } from '../kernel-names.js';
import { hasFusedKernel, runFusedKernel } from '../ops/fused-kernels.js';
import { numberedInputs, ownData, runInPlaceKernel } from '../ops/in-place-kernels.js';

export interface SgdOptions {
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/**
 * SGD with (Nesterov) momentum, the update of PyTorch's torch.optim.SGD:
 *   g = grad + wd * p;  v = momentum * v + g;  g = nesterov ? g + momentum * v : v;  p -= lr * g
 * Written here rather than using tf.train.momentum so that its state (one velocity per trainable
 * parameter, by our stable parameter names) can be checkpointed and restored exactly.
 */
export class Sgd {
  readonly velocities = new Map<string, tf.Variable>();

  constructor(
    private readonly params: ParamStore,
    private readonly options: SgdOptions,
  ) {
    for (const [name, variable] of params) {
      // In a tidy, so that the zeros are the velocity's alone (nothing else holds its data).
      if (variable.trainable)
        this.velocities.set(
          name,
          tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
        );
    }
  }

  /** Applies one update; `grads` are keyed by parameter name. Disposes nothing it was given. */
  step(grads: Map<string, tf.Tensor>, lr: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    if (hasFusedKernel(MWT_SGD_UPDATE_IN_PLACE)) {
      this.stepInPlace(grads, lr);
      return;
    }
    // One kernel per parameter where the backend has it, instead of six.
    const fused = hasFusedKernel(MWT_SGD_UPDATE);
    tf.tidy(() => {
      for (const [name, grad] of grads) {
        const variable = this.params.get(name);
        const velocity = this.velocities.get(name);
        if (!variable || !velocity) throw new Error(`no trainable parameter ${name}`);
        if (fused) {
          const [param, nextVelocity] = runFusedKernel(MWT_SGD_UPDATE, { param: variable, velocity, grad }, { lr, momentum, weightDecay, nesterov });
          velocity.assign(nextVelocity);
          variable.assign(param);
          continue;
        }
        const decayed = weightDecay > 0 ? tf.add(grad, tf.mul(variable, weightDecay)) : grad;
        const nextVelocity = tf.add(tf.mul(velocity, momentum), decayed);
        const direction = nesterov ? tf.add(decayed, tf.mul(nextVelocity, momentum)) : nextVelocity;
        velocity.assign(nextVelocity);
        variable.assign(tf.sub(variable, tf.mul(direction, lr)));
      }
    });
  }

  /** Every parameter and velocity updated in place by one kernel call (webgpu: one compute pass). */
  private stepInPlace(grads: Map<string, tf.Tensor>, lr: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    const items: tf.Tensor[][] = [];
    for (const [name, grad] of grads) {
      const variable = this.params.get(name);
      const velocity = this.velocities.get(name);
      if (!variable || !velocity) throw new Error(`no trainable parameter ${name}`);
      ownData(variable);
      ownData(velocity);
      items.push([variable, velocity, grad]);
    }
    runInPlaceKernel(MWT_SGD_UPDATE_IN_PLACE, numberedInputs(['param', 'velocity', 'grad'], items), { count: items.length, lr, momentum, weightDecay, nesterov });
  }

  dispose(): void {
    for (const v of this.velocities.values()) v.dispose();
    this.velocities.clear();
  }
}

/** Cosine annealing evaluated per epoch (PyTorch CosineAnnealingLR, eta_min 0, stepped each epoch). */
export function cosineLr(baseLr: number, epoch: number, period: number): number {
  return (baseLr * (1 + Math.cos((Math.PI * epoch) / period))) / 2;
}
