/**
 * MwT's pairwise statistics of one masked layer (MwtPairSimilarity, MwtPairSimilarityGrad,
 * MwtMaskJaccard: the contracts of ops/fused-kernels.ts, the maths of ops/mask-pairs.ts and of the
 * native kernels in packages/native/src/mask_pairs.cc) as WGSL kernels on the webgpu backend.
 * Composed of tfjs ops they cost a dozen kernels per layer and direction, and the engine clones
 * every tensor each of them saves for the backward pass (the bulk of a vgg16 step's ~800 Identity
 * kernels); here the forward similarity is 2 programs, its gradient 4, the Jaccard metrics 2.
 * Pairs whose weight is zero in both matrices (the diagonal and lower triangle) are skipped.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { MWT_MASK_JACCARD, MWT_PAIR_SIMILARITY, MWT_PAIR_SIMILARITY_GRAD } from '../../kernel-names.js';
import { ThreadPerOutputProgram } from './elementwise-program.js';

const DIMS = 'batch : i32, kernels : i32, epsilon : f32,';

function uniforms(batch: number, kernels: number, epsilon: number): Array<{ type: string; data: number[] }> {
  return [
    { type: 'int32', data: [batch] },
    { type: 'int32', data: [kernels] },
    { type: 'float32', data: [epsilon] },
  ];
}

/** S[i, j] = n_i . n_j with n = m / sqrt(|m|^2 + epsilon) per row, where a pair carries weight; else 0. */
const similarityProgram = (batch: number) =>
  new ThreadPerOutputProgram(
    'mwtPairSimilarity',
    [batch, batch],
    ['M', 'Positive', 'Negative'],
    DIMS,
    `
    if (Positive[i] == 0.0 && Negative[i] == 0.0) { result[i] = 0.0; return; }
    let a = (i / uniforms.batch) * uniforms.kernels;
    let b = (i % uniforms.batch) * uniforms.kernels;
    var dot = 0.0;
    var squaresA = 0.0;
    var squaresB = 0.0;
    for (var k = 0; k < uniforms.kernels; k++) {
      let x = M[a + k];
      let y = M[b + k];
      dot += x * y;
      squaresA += x * x;
      squaresB += y * y;
    }
    result[i] = dot / (sqrt(squaresA + uniforms.epsilon) * sqrt(squaresB + uniforms.epsilon));`,
  );

/** [sum of S * positive, sum of S * negative]: one thread per sum. */
const weightedSumsProgram = () =>
  new ThreadPerOutputProgram(
    'mwtPairWeightedSums',
    [2],
    ['S', 'Positive', 'Negative'],
    DIMS,
    `
    var total = 0.0;
    for (var p = 0; p < uniforms.batch * uniforms.batch; p++) {
      total += S[p] * select(Negative[p], Positive[p], i == 0);
    }
    result[i] = total;`,
  );

/** r_i = sqrt(|m_i|^2 + epsilon) */
const normsProgram = (batch: number) =>
  new ThreadPerOutputProgram(
    'mwtPairNorms',
    [batch],
    ['M'],
    DIMS,
    `
    var squares = 0.0;
    for (var k = 0; k < uniforms.kernels; k++) { let x = M[i * uniforms.kernels + k]; squares += x * x; }
    result[i] = sqrt(squares + uniforms.epsilon);`,
  );

/** dn[i, k] = sum_j (dSums_0 (P_ij + P_ji) + dSums_1 (N_ij + N_ji)) n[j, k]  (S is symmetric in n) */
const normalizedGradProgram = (batch: number, kernels: number) =>
  new ThreadPerOutputProgram(
    'mwtPairNormalizedGrad',
    [batch, kernels],
    ['DSums', 'M', 'Positive', 'Negative', 'Norms'],
    DIMS,
    `
    let row = i / uniforms.kernels;
    let k = i % uniforms.kernels;
    var total = 0.0;
    for (var j = 0; j < uniforms.batch; j++) {
      let ij = row * uniforms.batch + j;
      let ji = j * uniforms.batch + row;
      let weight = DSums[0] * (Positive[ij] + Positive[ji]) + DSums[1] * (Negative[ij] + Negative[ji]);
      if (weight != 0.0) { total += weight * M[j * uniforms.kernels + k] / Norms[j]; }
    }
    result[i] = total;`,
  );

/** n_i . dn_i per row. */
const projectionProgram = (batch: number) =>
  new ThreadPerOutputProgram(
    'mwtPairProjection',
    [batch],
    ['M', 'Norms', 'Dn'],
    DIMS,
    `
    var total = 0.0;
    for (var k = 0; k < uniforms.kernels; k++) { let index = i * uniforms.kernels + k; total += M[index] / Norms[i] * Dn[index]; }
    result[i] = total;`,
  );

/** n = m / r: dm = (dn - n (n . dn)) / r. */
const maskGradProgram = (batch: number, kernels: number) =>
  new ThreadPerOutputProgram(
    'mwtPairMaskGrad',
    [batch, kernels],
    ['M', 'Norms', 'Dn', 'Projection'],
    DIMS,
    `
    let row = i / uniforms.kernels;
    let r = Norms[row];
    result[i] = (Dn[i] - M[i] / r * Projection[row]) / r;`,
  );

/**
 * [batch * batch + batch]: the Jaccard index of each weighted pair's binarized rows (two empty rows
 * count as identical, 1), then each row's count of kernels on.
 */
const jaccardProgram = (batch: number) =>
  new ThreadPerOutputProgram(
    'mwtPairJaccard',
    [batch * batch + batch],
    ['M', 'Positive', 'Negative'],
    DIMS,
    `
    let pairs = uniforms.batch * uniforms.batch;
    if (i >= pairs) {
      let row = (i - pairs) * uniforms.kernels;
      var on = 0.0;
      for (var k = 0; k < uniforms.kernels; k++) { on += select(0.0, 1.0, M[row + k] > 0.0); }
      result[i] = on;
      return;
    }
    if (Positive[i] == 0.0 && Negative[i] == 0.0) { result[i] = 0.0; return; }
    let a = (i / uniforms.batch) * uniforms.kernels;
    let b = (i % uniforms.batch) * uniforms.kernels;
    var both = 0.0;
    var either = 0.0;
    for (var k = 0; k < uniforms.kernels; k++) {
      let x = M[a + k] > 0.0;
      let y = M[b + k] > 0.0;
      both += select(0.0, 1.0, x && y);
      either += select(0.0, 1.0, x || y);
    }
    result[i] = select(1.0, both / either, either > 0.0);`,
  );

/** [fraction of kernels on, sum of J * positive, sum of J * negative] */
const jaccardSumsProgram = () =>
  new ThreadPerOutputProgram(
    'mwtPairJaccardSums',
    [3],
    ['J', 'Positive', 'Negative'],
    DIMS,
    `
    let pairs = uniforms.batch * uniforms.batch;
    var total = 0.0;
    if (i == 0) {
      for (var row = 0; row < uniforms.batch; row++) { total += J[pairs + row]; }
      result[i] = total / f32(uniforms.batch * uniforms.kernels);
      return;
    }
    for (var p = 0; p < pairs; p++) { total += J[p] * select(Negative[p], Positive[p], i == 1); }
    result[i] = total;`,
  );

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: {};
  attrs?: tf.NamedAttrMap;
}

function input(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`webgpu MwT pair kernel: input ${name} missing`);
  return t;
}

function pairInputs({ inputs, backend, attrs }: KernelArgs) {
  const [mask, positive, negative] = ['mask', 'positive', 'negative'].map((name) => input(inputs, name));
  const [batch, kernels] = mask.shape;
  const epsilon = Number(attrs?.epsilon ?? 0);
  return { gpu: backend as WebGPUBackend, mask, positive, negative, batch, kernels, uniforms: uniforms(batch, kernels, epsilon) };
}

function pairSimilarity(args: KernelArgs): tf.TensorInfo[] {
  const { gpu, mask, positive, negative, batch, uniforms } = pairInputs(args);
  const similarity = gpu.runWebGPUProgram(similarityProgram(batch), [mask, positive, negative], 'float32', uniforms);
  const sums = gpu.runWebGPUProgram(weightedSumsProgram(), [similarity, positive, negative], 'float32', uniforms);
  gpu.disposeData(similarity.dataId);
  return [sums];
}

function pairSimilarityGrad(args: KernelArgs): tf.TensorInfo[] {
  const { gpu, mask, positive, negative, batch, kernels, uniforms } = pairInputs(args);
  const dSums = input(args.inputs, 'dSums');
  const norms = gpu.runWebGPUProgram(normsProgram(batch), [mask], 'float32', uniforms);
  const dn = gpu.runWebGPUProgram(normalizedGradProgram(batch, kernels), [dSums, mask, positive, negative, norms], 'float32', uniforms);
  const projection = gpu.runWebGPUProgram(projectionProgram(batch), [mask, norms, dn], 'float32', uniforms);
  const dMask = gpu.runWebGPUProgram(maskGradProgram(batch, kernels), [mask, norms, dn, projection], 'float32', uniforms);
  for (const t of [norms, dn, projection]) gpu.disposeData(t.dataId);
  return [dMask];
}

function maskJaccard(args: KernelArgs): tf.TensorInfo[] {
  const { gpu, mask, positive, negative, batch, uniforms } = pairInputs(args);
  const jaccard = gpu.runWebGPUProgram(jaccardProgram(batch), [mask, positive, negative], 'float32', uniforms);
  const metrics = gpu.runWebGPUProgram(jaccardSumsProgram(), [jaccard, positive, negative], 'float32', uniforms);
  gpu.disposeData(jaccard.dataId);
  return [metrics];
}

let registered = false;

export function registerWebgpuMaskPairKernels(backendName: string): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: MWT_PAIR_SIMILARITY, backendName, kernelFunc: pairSimilarity });
  tf.registerKernel({ kernelName: MWT_PAIR_SIMILARITY_GRAD, backendName, kernelFunc: pairSimilarityGrad });
  tf.registerKernel({ kernelName: MWT_MASK_JACCARD, backendName, kernelFunc: maskJaccard });
}
