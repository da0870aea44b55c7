import * as tf from '@tensorflow/tfjs';

/**
 * Weights over the strict upper triangle (pairs i < j) of a batch: same-label pairs P+ and
 * different-label pairs P-, each weight 1/|P|, so `sum(S * weights)` is the mean of S over P.
 * Built on the CPU from the labels, which the trainer already has there.
 */
export interface PairWeights {
  size: number;
  positive: Float32Array;
  negative: Float32Array;
  positiveCount: number;
  negativeCount: number;
}

export function pairWeights(labels: ArrayLike<number>): PairWeights {
  const size = labels.length;
  let positiveCount = 0;
  for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) if (labels[i] === labels[j]) positiveCount++;
  const negativeCount = (size * (size - 1)) / 2 - positiveCount;
  const positive = new Float32Array(size * size);
  const negative = new Float32Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = i + 1; j < size; j++) {
      if (labels[i] === labels[j]) positive[i * size + j] = 1 / positiveCount;
      else negative[i * size + j] = 1 / negativeCount;
    }
  }
  return { size, positive, negative, positiveCount, negativeCount };
}

/** Row-normalized cosine similarity S = n n^T of a [batch, kernels] mask; an all-zero row stays zero. */
export function cosineSimilarity(mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    // sqrt(x + eps) instead of a plain norm: the norm's gradient at an all-off mask would be 0/0.
    const norms = tf.sqrt(tf.add(tf.sum(tf.square(mask), 1, true), 1e-12));
    const normalized = tf.div(mask, norms) as tf.Tensor2D;
    return tf.matMul(normalized, normalized, false, true);
  });
}

export interface MwtLosses {
  /** mean over layers of (1 - mean S over same-label pairs); a layer term is 0 when the batch has no such pair. */
  cohesion: tf.Scalar;
  /** mean over layers of mean S over different-label pairs; 0 when the batch has no such pair. */
  coupling: tf.Scalar;
}

/** The two MwT losses of MWT.md section 2 on the masks of every masked layer. */
export function mwtLosses(masks: tf.Tensor2D[], pairs: PairWeights): MwtLosses {
  return tf.tidy(() => {
    if (masks.length === 0) return { cohesion: tf.scalar(0), coupling: tf.scalar(0) };
    const positive = tf.tensor2d(pairs.positive, [pairs.size, pairs.size]);
    const negative = tf.tensor2d(pairs.negative, [pairs.size, pairs.size]);
    const cohesionTerms: tf.Scalar[] = [];
    const couplingTerms: tf.Scalar[] = [];
    for (const mask of masks) {
      const similarity = cosineSimilarity(mask);
      cohesionTerms.push(pairs.positiveCount > 0 ? tf.sub(1, tf.sum(tf.mul(similarity, positive))) : tf.scalar(0));
      couplingTerms.push(pairs.negativeCount > 0 ? tf.sum(tf.mul(similarity, negative)) : tf.scalar(0));
    }
    return { cohesion: tf.mean(tf.stack(cohesionTerms)) as tf.Scalar, coupling: tf.mean(tf.stack(couplingTerms)) as tf.Scalar };
  });
}

/** Mean cross-entropy of integer labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar);
}

/** Live metrics of a batch's masks: kernel rate and the batch-level Jaccard cohesion/coupling. */
export interface BatchMaskMetrics {
  kernelRate: tf.Scalar;
  cohesion: tf.Scalar;
  coupling: tf.Scalar;
}

/**
 * Jaccard index of binarized sample masks, same-label pairs for cohesion and different-label pairs
 * for coupling, averaged over layers (MWT.md section 3, batch-level variants). Two empty masks count
 * as identical (index 1).
 */
export function batchMaskMetrics(masks: tf.Tensor2D[], pairs: PairWeights): BatchMaskMetrics {
  return tf.tidy(() => {
    if (masks.length === 0) return { kernelRate: tf.scalar(1), cohesion: tf.scalar(0), coupling: tf.scalar(0) };
    const positive = tf.tensor2d(pairs.positive, [pairs.size, pairs.size]);
    const negative = tf.tensor2d(pairs.negative, [pairs.size, pairs.size]);
    const rates: tf.Scalar[] = [];
    const cohesion: tf.Scalar[] = [];
    const coupling: tf.Scalar[] = [];
    for (const mask of masks) {
      const on = tf.cast(tf.greater(mask, 0), 'float32') as tf.Tensor2D;
      rates.push(tf.mean(on));
      const jaccard = jaccardMatrix(on);
      cohesion.push(tf.sum(tf.mul(jaccard, positive)));
      coupling.push(tf.sum(tf.mul(jaccard, negative)));
    }
    const layerMean = (terms: tf.Scalar[]) => tf.mean(tf.stack(terms)) as tf.Scalar;
    return { kernelRate: layerMean(rates), cohesion: layerMean(cohesion), coupling: layerMean(coupling) };
  });
}

/** Pairwise Jaccard indices of the rows of a 0/1 matrix. */
function jaccardMatrix(on: tf.Tensor2D): tf.Tensor2D {
  const intersection = tf.matMul(on, on, false, true);
  const sizes = tf.sum(on, 1, true);
  const union = tf.sub(tf.add(sizes, tf.transpose(sizes)), intersection);
  return tf.where(tf.greater(union, 0), tf.div(intersection, tf.maximum(union, 1)), tf.onesLike(union)) as tf.Tensor2D;
}
