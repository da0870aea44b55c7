/**
 * The B x B pair statistics of a [batch, kernels] mask (cosine similarity, Jaccard index) as a tiled
 * pair product: one workgroup per 16 x 16 tile of the pair matrix, one thread per pair, the tile's
 * 16 + 16 mask rows staged through workgroup memory 16 kernels at a time (as a matrix product stages
 * its operands), and the tile's weighted terms summed in workgroup memory. A second program sums the
 * tiles' partial sums in one workgroup. Both replace a serial loop of one thread over all B^2 pairs
 * (1.5 ms per call at B = 128 on an H200).
 *
 * Only tiles on and above the diagonal run: the pair statistic is symmetric, so an off-diagonal tile
 * weighs pair (i, j) by W[i, j] + W[j, i] and covers the mirror tile too; a diagonal tile holds both
 * orders of its pairs and weighs each by W[i, j] alone. Exact for any weights, not only triangular ones.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/** Pairs per tile side; the workgroup has TILE * TILE threads. */
const TILE = 16;
const THREADS = TILE * TILE;
/** Kernels staged per step: one value per thread and row block. */
const STEP = TILE;
/** Row stride in workgroup memory, padded so that a tile's 16 rows fall in distinct banks. */
const STRIDE = STEP + 1;

export type PairStatistic = 'cosine' | 'jaccard';

export function pairTiles(batch: number): number {
  const side = Math.ceil(batch / TILE);
  return side * side;
}

/** The uniforms PairTileProgram and PairPartialSumProgram declare, in order. */
export function pairUniforms(batch: number, kernels: number, epsilon: number): Array<{ type: string; data: number[] }> {
  return [
    { type: 'int32', data: [batch] },
    { type: 'int32', data: [kernels] },
    { type: 'float32', data: [epsilon] },
  ];
}

const UNIFORMS = 'batch : i32, kernels : i32, epsilon : f32,';

/**
 * [tiles, 4] partial sums per tile: (sum of s * positive, sum of s * negative, the count of kernels
 * on in the tile's rows (diagonal tiles only; for the Jaccard fraction), 0). Inputs M, Positive, Negative.
 */
export class PairTileProgram implements WebGPUProgram {
  dispatch: [number, number, number];
  dispatchLayout = { x: [0, 1] };
  outputShape: number[];
  shaderKey: string;
  uniforms = UNIFORMS;
  variableNames = ['M', 'Positive', 'Negative'];
  variableComponents = [1, 1, 1];
  /** One vec4 of partial sums per tile. */
  outputComponent = 4;
  workgroupSize: [number, number, number] = [THREADS, 1, 1];

  constructor(
    batch: number,
    private readonly statistic: PairStatistic,
  ) {
    const tiles = pairTiles(batch);
    this.outputShape = [tiles, 4];
    this.dispatch = [tiles, 1, 1];
    this.shaderKey = `mwtPairTile_${statistic}`;
  }

  getUserCode(): string {
    const cosine = this.statistic === 'cosine';
    // What each staged value contributes: the mask itself (cosine) or whether its kernel is on (Jaccard).
    const stage = (value: string) => (cosine ? value : `select(0.0, 1.0, ${value} > 0.0)`);
    const pairValue = cosine
      ? 'dot / (sqrt(squaresA + uniforms.epsilon) * sqrt(squaresB + uniforms.epsilon))'
      : 'select(1.0, dot / (squaresA + squaresB - dot), squaresA + squaresB - dot > 0.0)';
    return `
      var<workgroup> rowsA : array<f32, ${TILE * STRIDE}>;
      var<workgroup> rowsB : array<f32, ${TILE * STRIDE}>;
      var<workgroup> partial : array<vec4<f32>, ${THREADS}>;
      var<workgroup> workgroupTile : i32;

      fn stagedValue(row : i32, k : i32) -> f32 {
        if (row >= uniforms.batch || k >= uniforms.kernels) { return 0.0; }
        let value = M[row * uniforms.kernels + k];
        return ${stage('value')};
      }

      fn main(unused : i32) {
        let side = (uniforms.batch + ${TILE - 1}) / ${TILE};
        let lane = i32(localIndex);
        // workgroupId is the same for the whole workgroup, but WGSL's uniformity analysis cannot know
        // (tfjs keeps it in a private variable): a uniform load lets the branch below skip the tile
        // and the barriers after it stay in uniform control flow.
        if (lane == 0) { workgroupTile = i32(workgroupId.x); }
        let tile = workgroupUniformLoad(&workgroupTile);
        let tileRow = tile / side;
        let tileColumn = tile % side;
        let ty = lane / ${TILE};
        let tx = lane % ${TILE};
        if (tileRow > tileColumn) {
          if (lane == 0) { result[tile] = vec4<f32>(0.0); }
          return;
        }
        let rowA = tileRow * ${TILE} + ty;
        let rowB = tileColumn * ${TILE} + tx;
        // Thread (ty, tx) stages kernel k0 + tx of rows ty of both row blocks.
        let stageRowA = tileRow * ${TILE} + ty;
        let stageRowB = tileColumn * ${TILE} + ty;
        var dot = 0.0;
        var squaresA = 0.0;
        var squaresB = 0.0;
        for (var k0 = 0; k0 < uniforms.kernels; k0 += ${STEP}) {
          rowsA[ty * ${STRIDE} + tx] = stagedValue(stageRowA, k0 + tx);
          rowsB[ty * ${STRIDE} + tx] = stagedValue(stageRowB, k0 + tx);
          workgroupBarrier();
          for (var k = 0; k < ${STEP}; k++) {
            let a = rowsA[ty * ${STRIDE} + k];
            let b = rowsB[tx * ${STRIDE} + k];
            dot += a * b;
            squaresA += a * a;
            squaresB += b * b;
          }
          workgroupBarrier();
        }
        var terms = vec4<f32>(0.0);
        if (rowA < uniforms.batch && rowB < uniforms.batch) {
          let ij = rowA * uniforms.batch + rowB;
          let ji = rowB * uniforms.batch + rowA;
          var positive = Positive[ij];
          var negative = Negative[ij];
          if (tileRow != tileColumn) {
            positive += Positive[ji];
            negative += Negative[ji];
          }
          if (positive != 0.0 || negative != 0.0) {
            let s = ${pairValue};
            terms.x = s * positive;
            terms.y = s * negative;
          }
          // For the Jaccard statistic squaresA is row rowA's count of kernels on.
          if (rowA == rowB) { terms.z = squaresA; }
        }
        partial[lane] = terms;
        workgroupBarrier();
        for (var width = ${THREADS / 2}; width > 0; width /= 2) {
          if (lane < width) { partial[lane] += partial[lane + width]; }
          workgroupBarrier();
        }
        if (lane == 0) { result[tile] = partial[0]; }
      }`;
  }
}

/**
 * Sums PairTileProgram's [tiles, 4] partials in one workgroup: [sum of s * positive, sum of s *
 * negative] for the cosine statistic; [fraction of kernels on, sum of J * positive, sum of J *
 * negative] for the Jaccard one. Input Partials.
 */
export class PairPartialSumProgram implements WebGPUProgram {
  dispatch: [number, number, number] = [1, 1, 1];
  dispatchLayout = { x: [0] };
  outputShape: number[];
  shaderKey: string;
  uniforms = UNIFORMS;
  variableNames = ['Partials'];
  variableComponents = [4];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];

  constructor(private readonly statistic: PairStatistic) {
    this.outputShape = [statistic === 'cosine' ? 2 : 3];
    this.shaderKey = `mwtPairPartialSum_${statistic}`;
  }

  getUserCode(): string {
    const write =
      this.statistic === 'cosine' ? 'result[0] = sum.x; result[1] = sum.y;' : 'result[0] = sum.z / f32(uniforms.batch * uniforms.kernels); result[1] = sum.x; result[2] = sum.y;';
    return `
      var<workgroup> partial : array<vec4<f32>, ${THREADS}>;

      fn main(unused : i32) {
        let lane = i32(localIndex);
        var total = vec4<f32>(0.0);
        for (var t = lane; t < uniforms.partialsShape[0]; t += ${THREADS}) { total += Partials[t]; }
        partial[lane] = total;
        workgroupBarrier();
        for (var width = ${THREADS / 2}; width > 0; width /= 2) {
          if (lane < width) { partial[lane] += partial[lane + width]; }
          workgroupBarrier();
        }
        if (lane == 0) {
          let sum = partial[0];
          ${write}
        }
      }`;
  }
}

/**
 * The last step of the similarity gradient, one workgroup per mask row: with n = m / r the row's
 * normalized mask and dn its gradient, dm = (dn - n (n . dn)) / r, the dot product summed in workgroup
 * memory. Inputs M, Norms ([batch]: r), Dn; output [batch, kernels].
 */
export class PairMaskGradProgram implements WebGPUProgram {
  dispatch: [number, number, number];
  dispatchLayout = { x: [0, 1] };
  outputShape: number[];
  shaderKey = 'mwtPairMaskGradRow';
  uniforms = UNIFORMS;
  variableNames = ['M', 'Norms', 'Dn'];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];

  constructor(batch: number, kernels: number) {
    this.outputShape = [batch, kernels];
    this.dispatch = [batch, 1, 1];
  }

  getUserCode(): string {
    return `
      var<workgroup> partial : array<f32, ${THREADS}>;

      fn main(unused : i32) {
        let lane = i32(localIndex);
        let row = i32(workgroupId.x);
        let first = row * uniforms.kernels;
        let r = Norms[row];
        var dot = 0.0;
        for (var k = lane; k < uniforms.kernels; k += ${THREADS}) { dot += M[first + k] / r * Dn[first + k]; }
        partial[lane] = dot;
        workgroupBarrier();
        for (var width = ${THREADS / 2}; width > 0; width /= 2) {
          if (lane < width) { partial[lane] += partial[lane + width]; }
          workgroupBarrier();
        }
        let projection = partial[0];
        for (var k = lane; k < uniforms.kernels; k += ${THREADS}) {
          result[first + k] = (Dn[first + k] - M[first + k] / r * projection) / r;
        }
      }`;
  }
}
