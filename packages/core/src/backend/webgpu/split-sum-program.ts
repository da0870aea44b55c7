/**
 * Sums a [S, size] tensor over its first axis, one thread per output element (reads coalesce across
 * threads). tfjs' Sum over axis 0 would transpose first and then run one workgroup per output.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export class SplitSumProgram implements WebGPUProgram {
  dispatch: [number, number, number];
  dispatchLayout: { x: number[] };
  outputShape: number[];
  shaderKey = 'mwtSplitSum';
  size = true;
  variableNames = ['S'];
  workgroupSize: [number, number, number] = [64, 1, 1];

  constructor(size: number) {
    this.outputShape = [size];
    this.dispatchLayout = { x: [0] };
    this.dispatch = [Math.ceil(size / this.workgroupSize[0]), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(i : i32) {
        if (i >= uniforms.size) { return; }
        var total = 0.0;
        for (var s = 0; s < uniforms.sShape[0]; s++) {
          total += S[s * uniforms.size + i];
        }
        result[i] = total;
      }`;
  }
}
