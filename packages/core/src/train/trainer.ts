import * as tf from '@tensorflow/tfjs';
import { decodeBundle, encodeBundle, type NamedArray } from '../artifacts/tensor-bundle.js';
import type { Split } from '../data/dataset.js';
import { augmentBatch, type AugmentSpec } from '../data/augment.js';
import { batchOrder, gatherBatch } from '../data/split.js';
import { isModular } from '../model/architecture.js';
import type { Model } from '../model/model.js';
import { evaluateAccuracy } from './evaluate.js';
import { cosineLr, Sgd } from './sgd.js';
import { trainStepAsync, type StepResult } from './step.js';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** Weight of the cohesion loss (modular models only). */
  alpha: number;
  /** Weight of the coupling loss (modular models only). */
  beta: number;
  seed: number;
  /** Length of the cosine schedule in epochs; default `epochs` (module fine-tuning uses 2x epochs). */
  cosinePeriod?: number;
  /** Training-batch augmentation, drawn from (seed, epoch, batch); absent = none. */
  augment?: AugmentSpec;
}

/** One row of the per-epoch history; the MwT-only fields are absent for a standard model. */
export interface EpochMetrics {
  /** 1-based. */
  epoch: number;
  lr: number;
  trainAccuracy: number;
  testAccuracy: number;
  loss: number;
  ceLoss: number;
  cohesionLoss?: number;
  couplingLoss?: number;
  kernelRate?: number;
  batchCohesion?: number;
  batchCoupling?: number;
  durationMs: number;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  totalBatches: number;
  loss: number;
}

export interface TrainCallbacks {
  onBatch?: (progress: BatchProgress) => void | Promise<void>;
  /** After each epoch; `trainer.checkpoint()` is consistent here (the worker stores it). */
  onEpoch?: (metrics: EpochMetrics, trainer: Trainer) => void | Promise<void>;
  /**
   * Polled before every batch and between the layers of each step (forward and backward); true
   * stops training with a TrainingStopped error, so a cancellation need not wait for a long step.
   */
  shouldStop?: () => boolean;
  /**
   * Polled before every batch; true ends training with a TrainingPaused error that carries a
   * checkpoint of that batch boundary (a worker shutting down keeps the epoch's finished batches).
   */
  shouldPause?: () => boolean;
}

export class TrainingStopped extends Error {
  constructor(readonly epochsDone: number) {
    super(`training stopped after ${epochsDone} completed epochs`);
    this.name = 'TrainingStopped';
  }
}

/** Training paused between two batches (mid-epoch included), as asked by `shouldPause`. */
export class TrainingPaused extends Error {
  constructor(
    readonly epochsDone: number,
    readonly batchesDone: number,
    /** `Trainer.checkpoint()` at the pause: restored, training goes on with the next batch. */
    readonly checkpoint: Uint8Array,
  ) {
    super(`training paused before batch ${batchesDone + 1} of epoch ${epochsDone + 1}`);
    this.name = 'TrainingPaused';
  }
}

/** Running sums over an epoch's batches (each step's values times its samples); the metrics are their means. */
type EpochSums = StepResult & { samples: number };

/** The finished part of an interrupted epoch (the one after `epochsDone`). */
interface PartialEpoch {
  batchesDone: number;
  /** Checked on restore: a different batch size or training set would resume at the wrong batch. */
  totalBatches: number;
  sums: EpochSums;
  elapsedMs: number;
}

/** Where a checkpoint leaves training: completed epochs, and batches done of the next one. */
export interface CheckpointPosition {
  epochsDone: number;
  batchesDone: number;
  totalBatches: number | null;
}

interface CheckpointMeta {
  /** 1: epoch boundaries only; 2 adds `partial`, so an older worker refuses it rather than misreading it. */
  format: 'mwt-checkpoint/1' | 'mwt-checkpoint/2';
  epochsDone: number;
  seed: number;
  history: EpochMetrics[];
  partial?: PartialEpoch | null;
}

/** Reads where a checkpoint stands without restoring it (for progress messages and tests). */
export function checkpointPosition(bytes: Uint8Array): CheckpointPosition {
  const { meta } = decodeBundle<CheckpointMeta>(bytes);
  return { epochsDone: meta.epochsDone, batchesDone: meta.partial?.batchesDone ?? 0, totalBatches: meta.partial?.totalBatches ?? null };
}

/**
 * Trains a model (modular: CE + alpha * cohesion + beta * coupling; standard: CE) with SGD and
 * cosine annealing. Every batch's samples and dropout noise derive from (seed, epoch, batch), so a
 * run restored from a checkpoint (of an epoch boundary, or of a pause between two batches)
 * continues bit for bit as the uninterrupted run would have.
 */
export class Trainer {
  epochsDone = 0;
  history: EpochMetrics[] = [];
  /** Set by a pause (or a restored mid-epoch checkpoint): the next epoch starts from here. */
  private partial: PartialEpoch | null = null;
  private readonly optimizer: Sgd;
  private readonly modular: boolean;
  /** tfjs variable name -> our parameter name, to read the gradients tfjs returns. */
  private readonly paramNameOf = new Map<string, string>();

  constructor(
    readonly model: Model,
    readonly data: { train: Split; test: Split },
    readonly config: TrainConfig,
  ) {
    validateConfig(config);
    this.optimizer = new Sgd(model.params, config);
    this.modular = isModular(model.arch);
    for (const [name, variable] of model.params) this.paramNameOf.set(variable.name, name);
  }

  /** Trains the remaining epochs; returns the full history. */
  async run(callbacks: TrainCallbacks = {}): Promise<EpochMetrics[]> {
    while (this.epochsDone < this.config.epochs) {
      const metrics = await this.trainEpoch(this.epochsDone, callbacks);
      this.epochsDone += 1;
      this.history.push(metrics);
      await callbacks.onEpoch?.(metrics, this);
    }
    return this.history;
  }

  /**
   * The whole training state: parameters, BN statistics, optimizer velocities, epoch, seed, history,
   * and after a pause the interrupted epoch's finished batches and their sums.
   */
  async checkpoint(): Promise<Uint8Array> {
    const arrays = new Map<string, NamedArray>();
    // Asynchronous reads: a GPU backend has no synchronous one.
    for (const [name, v] of this.model.params) arrays.set(`param:${name}`, { shape: v.shape, data: (await v.data()) as Float32Array });
    for (const [name, v] of this.optimizer.velocities) arrays.set(`velocity:${name}`, { shape: v.shape, data: (await v.data()) as Float32Array });
    const meta: CheckpointMeta = {
      format: 'mwt-checkpoint/2',
      epochsDone: this.epochsDone,
      seed: this.config.seed,
      history: this.history,
      partial: this.partial,
    };
    return encodeBundle(meta, arrays);
  }

  /** Restores a checkpoint taken by a trainer of the same architecture and seed. */
  restore(bytes: Uint8Array): void {
    const { meta, arrays } = decodeBundle<CheckpointMeta>(bytes);
    if (meta.format !== 'mwt-checkpoint/1' && meta.format !== 'mwt-checkpoint/2') throw new Error(`unknown checkpoint format ${String(meta.format)}`);
    if (meta.seed !== this.config.seed) throw new Error(`checkpoint seed ${meta.seed} differs from the run's seed ${this.config.seed}`);
    const assign = (target: Map<string, tf.Variable>, prefix: string) => {
      for (const [name, variable] of target) {
        const saved = arrays.get(`${prefix}:${name}`);
        if (!saved || saved.data.length !== variable.size) throw new Error(`checkpoint does not match the model at ${prefix} ${name}`);
        tf.tidy(() => variable.assign(tf.tensor(saved.data, variable.shape)));
      }
    };
    assign(this.model.params, 'param');
    assign(this.optimizer.velocities, 'velocity');
    this.epochsDone = meta.epochsDone;
    this.history = meta.history;
    this.partial = meta.partial ?? null;
  }

  dispose(): void {
    this.optimizer.dispose();
  }

  private async trainEpoch(epoch: number, callbacks: TrainCallbacks): Promise<EpochMetrics> {
    const resumed = this.partial;
    this.partial = null;
    const started = performance.now() - (resumed?.elapsedMs ?? 0);
    const { arch } = this.model;
    const { train } = this.data;
    const { batchSize, seed } = this.config;
    const lr = cosineLr(this.config.lr, epoch, this.config.cosinePeriod ?? this.config.epochs);
    const order = batchOrder(train.count, seed, epoch);
    // A last batch of one sample has no BatchNorm variance: drop it, like most PyTorch recipes do.
    const totalBatches = Math.floor(train.count / batchSize) + (train.count % batchSize >= 2 ? 1 : 0);
    if (resumed && resumed.totalBatches !== totalBatches) {
      throw new Error(`checkpoint paused an epoch of ${resumed.totalBatches} batches; this run has ${totalBatches}`);
    }
    const sums: EpochSums = resumed ? { ...resumed.sums } : { samples: 0, correct: 0, loss: 0, ce: 0, cohesion: 0, coupling: 0, kernelRate: 0, batchCohesion: 0, batchCoupling: 0 };
    for (let batch = resumed?.batchesDone ?? 0; batch < totalBatches; batch++) {
      if (callbacks.shouldStop?.()) throw new TrainingStopped(this.epochsDone);
      if (callbacks.shouldPause?.()) {
        this.partial = { batchesDone: batch, totalBatches, sums: { ...sums }, elapsedMs: performance.now() - started };
        throw new TrainingPaused(this.epochsDone, batch, await this.checkpoint());
      }
      const indices = order.subarray(batch * batchSize, Math.min(train.count, (batch + 1) * batchSize));
      const gathered = gatherBatch(train, indices, arch.inputShape);
      const { labels } = gathered;
      const { alpha, beta, augment } = this.config;
      const images = augment ? augmentBatch(gathered.images, arch.inputShape, augment, { seed, epoch, batch }) : gathered.images;
      const dropoutSeed = seed * 100_003 + epoch * 1_000 + batch;
      const { shouldStop } = callbacks;
      const interrupt = shouldStop
        ? () => {
            if (shouldStop()) throw new TrainingStopped(this.epochsDone);
          }
        : undefined;
      const step = await trainStepAsync(this.model, this.optimizer, this.paramNameOf, { images, labels, lr, dropoutSeed, alpha, beta, modular: this.modular, interrupt });
      const n = labels.length;
      sums.samples += n;
      sums.correct += step.correct;
      sums.loss += step.loss * n;
      sums.ce += step.ce * n;
      sums.cohesion += step.cohesion * n;
      sums.coupling += step.coupling * n;
      sums.kernelRate += step.kernelRate * n;
      sums.batchCohesion += step.batchCohesion * n;
      sums.batchCoupling += step.batchCoupling * n;
      await callbacks.onBatch?.({ epoch: epoch + 1, batch: batch + 1, totalBatches, loss: step.loss });
      // Yield so that a worker's event loop (lock renewals, cancel messages) keeps running.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const mean = (value: number) => value / Math.max(1, sums.samples);
    const testAccuracy = await evaluateAccuracy(arch, this.model.params, this.data.test);
    const metrics: EpochMetrics = {
      epoch: epoch + 1,
      lr,
      trainAccuracy: mean(sums.correct),
      testAccuracy,
      loss: mean(sums.loss),
      ceLoss: mean(sums.ce),
      durationMs: Math.round(performance.now() - started),
    };
    if (this.modular) {
      Object.assign(metrics, {
        cohesionLoss: mean(sums.cohesion),
        couplingLoss: mean(sums.coupling),
        kernelRate: mean(sums.kernelRate),
        batchCohesion: mean(sums.batchCohesion),
        batchCoupling: mean(sums.batchCoupling),
      });
    }
    return metrics;
  }
}

function validateConfig(config: TrainConfig): void {
  const positiveInt = (name: keyof TrainConfig) => {
    const value = config[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  };
  positiveInt('epochs');
  positiveInt('batchSize');
  if (!(config.lr > 0)) throw new RangeError(`lr must be > 0, got ${config.lr}`);
  if (!(config.momentum >= 0 && config.momentum < 1)) throw new RangeError(`momentum must be in [0, 1), got ${config.momentum}`);
  if (!(config.weightDecay >= 0)) throw new RangeError(`weightDecay must be >= 0, got ${config.weightDecay}`);
  if (!(config.alpha >= 0) || !(config.beta >= 0)) throw new RangeError('alpha and beta must be >= 0');
}
