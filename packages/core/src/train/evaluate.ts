import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/dataset.js';
import type { Architecture } from '../model/architecture.js';
import { forward, type ForwardOptions } from '../model/forward.js';
import type { ParamStore } from '../model/params.js';

export const EVAL_BATCH_SIZE = 256;

/**
 * Calls `visit` with each eval-mode forward result over a split, in order, and waits for it (it reads
 * results back with `await tensor.data()`: a GPU backend has no synchronous read); the result's
 * tensors are freed after each call, and `visit` frees whatever it makes.
 */
export async function forEachBatch(
  arch: Architecture,
  params: ParamStore,
  split: Split,
  visit: (result: { logits: tf.Tensor2D; masks: tf.Tensor2D[] }, start: number, end: number) => void | Promise<void>,
  options: Omit<ForwardOptions, 'training'> = {},
): Promise<void> {
  const [h, w, c] = arch.inputShape;
  const sampleSize = h * w * c;
  for (let start = 0; start < split.count; start += EVAL_BATCH_SIZE) {
    const end = Math.min(split.count, start + EVAL_BATCH_SIZE);
    const result = tf.tidy(() => {
      const x = tf.tensor4d(split.images.subarray(start * sampleSize, end * sampleSize), [end - start, h, w, c]);
      const { logits, masks } = forward(arch, params, x, { ...options, training: false });
      return { logits, masks };
    });
    try {
      await visit(result, start, end);
    } finally {
      tf.dispose([result.logits, ...result.masks]);
    }
    // Let the event loop breathe between batches: a worker must keep answering BullMQ's lock renewals.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Accuracy on a split. With `restrictTo`, the prediction is the argmax over those output columns only
 * and the split's labels are expected to be indices into `restrictTo` (a relabeled class subset): this is
 * how the standard model is scored on a sub-task (MWT.md section 4).
 */
export async function evaluateAccuracy(
  arch: Architecture,
  params: ParamStore,
  split: Split,
  options: { restrictTo?: number[]; maskOverride?: Map<string, Float32Array> } = {},
): Promise<number> {
  if (split.count === 0) return 0;
  let correct = 0;
  const columns = options.restrictTo ? tf.tensor1d(options.restrictTo, 'int32') : undefined;
  await forEachBatch(
    arch,
    params,
    split,
    async ({ logits }, start, end) => {
      const argMax = tf.tidy(() => tf.argMax(columns ? tf.gather(logits, columns, 1) : logits, 1));
      const predicted = await argMax.data();
      argMax.dispose();
      for (let i = start; i < end; i++) if (predicted[i - start] === split.labels[i]) correct++;
    },
    { maskOverride: options.maskOverride },
  );
  columns?.dispose();
  return correct / split.count;
}
