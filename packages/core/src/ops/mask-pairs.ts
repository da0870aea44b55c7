import * as tf from '@tensorflow/tfjs';
import { MWT_MASK_JACCARD, MWT_PAIR_SIMILARITY, MWT_PAIR_SIMILARITY_GRAD } from '../kernel-names.js';
import { hasFusedKernel, runFusedKernel } from './fused-kernels.js';

/**
 * The pairwise statistics of one masked layer over a batch, for the MwT losses and the live metrics
 * (train/losses.ts). `positive` and `negative` are [batch, batch] pair weights (see pairWeights), so
 * that a weighted sum over them is a mean over the same-label or the different-label pairs.
 *
 * Each is one fused kernel on the native backend. Composed of tfjs ops, they cost a dozen kernels
 * per layer (plus their tape entries and gradients), which took about a quarter of a modular
 * training step of the small SimCNN there; other backends use the composed formulation below.
 */

/** sqrt(|row|^2 + EPSILON) as the norm: the plain norm's gradient at an all-off mask would be 0/0. */
const EPSILON = 1e-12;

/** Row-normalized cosine similarity S = n n^T of a [batch, kernels] mask; an all-zero row stays zero. */
export function cosineSimilarity(mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const norms = tf.sqrt(tf.add(tf.sum(tf.square(mask), 1, true), EPSILON));
    const normalized = tf.div(mask, norms) as tf.Tensor2D;
    return tf.matMul(normalized, normalized, false, true);
  });
}

/**
 * [sum of S * positive, sum of S * negative] with S = cosineSimilarity(mask); differentiable in the mask.
 * `weightsOutliveGradient`: the caller keeps `positive` and `negative` undisposed until the backward
 * pass has run (the trainer's step uploads them once for all layers), so the gradient reads them
 * as they are instead of saving them: the engine clones every saved tensor (an Identity kernel and a
 * tape entry each, two per masked layer).
 */
export function pairSimilaritySums(mask: tf.Tensor2D, positive: tf.Tensor2D, negative: tf.Tensor2D, weightsOutliveGradient = false): tf.Tensor1D {
  if (!hasFusedKernel(MWT_PAIR_SIMILARITY)) {
    return tf.tidy(() => {
      const similarity = cosineSimilarity(mask);
      return tf.stack([tf.sum(tf.mul(similarity, positive)), tf.sum(tf.mul(similarity, negative))]) as tf.Tensor1D;
    });
  }
  const attrs = { epsilon: EPSILON };
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [m, save] = inputs;
    if (!(m instanceof tf.Tensor) || typeof save !== 'function') throw new Error('pairSimilaritySums: bad custom-gradient inputs');
    // The weights too unless the caller keeps them: it may dispose them before the backward pass runs.
    save(weightsOutliveGradient ? [m] : [m, positive, negative]);
    const [sums] = runFusedKernel(MWT_PAIR_SIMILARITY, { mask: m, positive, negative }, attrs);
    const gradFunc = (dSums: tf.Tensor, [sMask, sPositive = positive, sNegative = negative]: tf.Tensor[]) =>
      runFusedKernel(MWT_PAIR_SIMILARITY_GRAD, { dSums, mask: sMask, positive: sPositive, negative: sNegative }, attrs);
    return { value: sums as tf.Tensor1D, gradFunc };
  });
  return op(mask);
}

/**
 * [fraction of kernels on, sum of J * positive, sum of J * negative], J the pairwise Jaccard index of
 * the rows of mask > 0 (two empty rows count as identical, J = 1). Metrics only: no gradient.
 */
export function maskJaccardMetrics(mask: tf.Tensor2D, positive: tf.Tensor2D, negative: tf.Tensor2D): tf.Tensor1D {
  if (hasFusedKernel(MWT_MASK_JACCARD)) return runFusedKernel(MWT_MASK_JACCARD, { mask, positive, negative }, {})[0] as tf.Tensor1D;
  return tf.tidy(() => {
    const on = tf.cast(tf.greater(mask, 0), 'float32') as tf.Tensor2D;
    const jaccard = jaccardMatrix(on);
    return tf.stack([tf.mean(on), tf.sum(tf.mul(jaccard, positive)), tf.sum(tf.mul(jaccard, negative))]) as tf.Tensor1D;
  });
}

/** Pairwise Jaccard indices of the rows of a 0/1 matrix. */
function jaccardMatrix(on: tf.Tensor2D): tf.Tensor2D {
  const intersection = tf.matMul(on, on, false, true);
  const sizes = tf.sum(on, 1, true);
  const union = tf.sub(tf.add(sizes, tf.transpose(sizes)), intersection);
  return tf.where(tf.greater(union, 0), tf.div(intersection, tf.maximum(union, 1)), tf.onesLike(union)) as tf.Tensor2D;
}
