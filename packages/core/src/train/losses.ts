import * as tf from '@tensorflow/tfjs';
import { maskJaccardMetrics, pairSimilaritySums } from '../ops/mask-pairs.js';

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

export interface MwtLosses {
  /** mean over layers of (1 - mean S over same-label pairs); a layer term is 0 when the batch has no such pair. */
  cohesion: tf.Scalar;
  /** mean over layers of mean S over different-label pairs; 0 when the batch has no such pair. */
  coupling: tf.Scalar;
}

/**
 * The two MwT losses of MWT.md section 2 on the masks of every masked layer. `weights`: the pairs'
 * weights already on the device (pairWeightTensors), which the caller keeps until the backward pass
 * has run; without them they are uploaded here.
 */
export function mwtLosses(masks: tf.Tensor2D[], pairs: PairWeights, weights?: PairWeightTensors): MwtLosses {
  return tf.tidy(() => {
    if (masks.length === 0) return { cohesion: tf.scalar(0), coupling: tf.scalar(0) };
    const [positive, negative] = weights ?? pairWeightTensors(pairs);
    // [2]: the mean over layers of the mean similarity over same-label and over different-label pairs.
    const sums = masks.map((mask) => pairSimilaritySums(mask, positive, negative, weights !== undefined));
    const [same, different] = tf.unstack(tf.div(sumOf(sums), sums.length));
    return {
      cohesion: pairs.positiveCount > 0 ? (tf.sub(1, same) as tf.Scalar) : tf.scalar(0),
      coupling: pairs.negativeCount > 0 ? (different as tf.Scalar) : tf.scalar(0),
    };
  });
}

/**
 * The sum of same-shaped tensors: AddN over groups of at most ADD_N_GROUP, then over the groups' sums.
 * Not a mean over a stack: the stack's gradient slices it once per layer (a GPU program each on
 * webgpu), AddN's passes its gradient through unchanged. In groups because webgpu binds each of
 * AddN's inputs as a storage buffer, and a device may allow as few as 8 per shader.
 */
function sumOf(tensors: tf.Tensor[]): tf.Tensor {
  if (tensors.length <= ADD_N_GROUP) return tensors.length === 1 ? tensors[0] : tf.addN(tensors);
  const groups: tf.Tensor[] = [];
  for (let i = 0; i < tensors.length; i += ADD_N_GROUP) groups.push(sumOf(tensors.slice(i, i + ADD_N_GROUP)));
  return sumOf(groups);
}
const ADD_N_GROUP = 6;

/** [positive, negative] as [size, size] tensors. */
export type PairWeightTensors = [tf.Tensor2D, tf.Tensor2D];

export function pairWeightTensors(pairs: PairWeights): PairWeightTensors {
  return [tf.tensor2d(pairs.positive, [pairs.size, pairs.size]), tf.tensor2d(pairs.negative, [pairs.size, pairs.size])];
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
 * as identical (index 1). `weights` as for mwtLosses.
 */
export function batchMaskMetrics(masks: tf.Tensor2D[], pairs: PairWeights, weights?: PairWeightTensors): BatchMaskMetrics {
  return tf.tidy(() => {
    if (masks.length === 0) return { kernelRate: tf.scalar(1), cohesion: tf.scalar(0), coupling: tf.scalar(0) };
    const [positive, negative] = weights ?? pairWeightTensors(pairs);
    // [3]: layer means of the kernel rate and of the weighted Jaccard sums.
    const [kernelRate, cohesion, coupling] = tf.unstack(tf.mean(tf.stack(masks.map((mask) => maskJaccardMetrics(mask, positive, negative))), 0));
    return { kernelRate: kernelRate as tf.Scalar, cohesion: cohesion as tf.Scalar, coupling: coupling as tf.Scalar };
  });
}
