/**
 * MwT's pairwise statistics of one masked layer (MwtPairSimilarity, MwtPairSimilarityGrad,
 * MwtMaskJaccard: the contracts of ops/fused-kernels.ts, the maths of ops/mask-pairs.ts and of the
 * native kernels in packages/native/src/mask_pairs.cc) as WGSL kernels on the webgpu backend.
 * Composed of tfjs ops they cost a dozen kernels per layer and direction, and the engine clones
 * every tensor each of them saves for the backward pass (the bulk of a vgg16 step's ~800 Identity
 * kernels); here the forward similarity is 2 programs, its gradient 3, the Jaccard metrics 2. The
 * forward statistics are tiled pair products (pair-tile-programs.ts); the gradient skips pairs whose
 * weight is zero in both matrices (the diagonal and lower triangle).
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { MWT_MASK_JACCARD, MWT_PAIR_SIMILARITY, MWT_PAIR_SIMILARITY_GRAD } from '../../kernel-names.js';
import { ThreadPerOutputProgram } from './elementwise-program.js';
import { PairMaskGradProgram, PairPartialSumProgram, PairTileProgram, pairUniforms, type PairStatistic } from './pair-tile-programs.js';
import { requireInput, type KernelArgs } from './kernel-args.js';

const DIMS = 'batch : i32, kernels : i32, epsilon : f32,';

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

const input = (inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo => requireInput('MwT pair kernel', inputs, name);

function pairInputs({ inputs, backend, attrs }: KernelArgs) {
  const [mask, positive, negative] = ['mask', 'positive', 'negative'].map((name) => input(inputs, name));
  const [batch, kernels] = mask.shape;
  const epsilon = Number(attrs?.epsilon ?? 0);
  return { gpu: backend as WebGPUBackend, mask, positive, negative, batch, kernels, uniforms: pairUniforms(batch, kernels, epsilon) };
}

/** A tiled pass over the pair matrix (pair-tile-programs.ts), then the sum of its tiles' partial sums. */
function pairStatistic(
  gpu: WebGPUBackend,
  statistic: PairStatistic,
  mask: tf.TensorInfo,
  positive: tf.TensorInfo,
  negative: tf.TensorInfo,
  batch: number,
  uniforms: ReturnType<typeof pairUniforms>,
): tf.TensorInfo {
  const partials = gpu.runWebGPUProgram(new PairTileProgram(batch, statistic), [mask, positive, negative], 'float32', uniforms);
  const sums = gpu.runWebGPUProgram(new PairPartialSumProgram(statistic), [partials], 'float32', uniforms);
  gpu.disposeData(partials.dataId);
  return sums;
}

function pairSimilarity(args: KernelArgs): tf.TensorInfo[] {
  const { gpu, mask, positive, negative, batch, uniforms } = pairInputs(args);
  return [pairStatistic(gpu, 'cosine', mask, positive, negative, batch, uniforms)];
}

function pairSimilarityGrad(args: KernelArgs): tf.TensorInfo[] {
  const { gpu, mask, positive, negative, batch, kernels, uniforms } = pairInputs(args);
  const dSums = input(args.inputs, 'dSums');
  const norms = gpu.runWebGPUProgram(normsProgram(batch), [mask], 'float32', uniforms);
  const dn = gpu.runWebGPUProgram(normalizedGradProgram(batch, kernels), [dSums, mask, positive, negative, norms], 'float32', uniforms);
  const dMask = gpu.runWebGPUProgram(new PairMaskGradProgram(batch, kernels), [mask, norms, dn], 'float32', uniforms);
  for (const t of [norms, dn]) gpu.disposeData(t.dataId);
  return [dMask];
}

function maskJaccard(args: KernelArgs): tf.TensorInfo[] {
  const { gpu, mask, positive, negative, batch, uniforms } = pairInputs(args);
  return [pairStatistic(gpu, 'jaccard', mask, positive, negative, batch, uniforms)];
}

let registered = false;

export function registerWebgpuMaskPairKernels(backendName: string): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: MWT_PAIR_SIMILARITY, backendName, kernelFunc: pairSimilarity });
  tf.registerKernel({ kernelName: MWT_PAIR_SIMILARITY_GRAD, backendName, kernelFunc: pairSimilarityGrad });
  tf.registerKernel({ kernelName: MWT_MASK_JACCARD, backendName, kernelFunc: maskJaccard });
}
