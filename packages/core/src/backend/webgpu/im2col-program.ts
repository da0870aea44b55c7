/**
 * WGSL im2col for the filter gradient (conv2d-backprop-filter.ts): row n = (b, oh, ow) of the
 * output grid, column k = (p, q, ci) of the filter tap, value xPad[b, oh*s+p, ow*s+q, ci] (zero in
 * the padding). Column order equals the filter layout [kh, kw, Cin], so the GEMM's [K, Cout] result
 * is the filter gradient as is. One thread per element; the batch offset lets a caller cut a large
 * batch into chunks that fit a storage buffer.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export const IM2COL_UNIFORMS = 'batchStart : i32, pad : vec2<i32>, stride : vec2<i32>, outSize : vec2<i32>, filterWidth : i32,';

export class Im2ColProgram implements WebGPUProgram {
  dispatch: [number, number, number];
  dispatchLayout: { x: number[] };
  outputShape: number[];
  shaderKey = 'mwtIm2Col';
  size = true;
  uniforms = IM2COL_UNIFORMS;
  variableNames = ['X'];
  workgroupSize: [number, number, number] = [64, 1, 1];

  /** rows: batch chunk x Ho x Wo; columns: kh x kw x Cin. */
  constructor(rows: number, columns: number) {
    this.outputShape = [rows, columns];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [Math.ceil((rows * columns) / this.workgroupSize[0]), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(i : i32) {
        if (i >= uniforms.size) { return; }
        let columns = uniforms.outShape[1];
        let row = i / columns;
        let column = i - row * columns;
        let inChannels = uniforms.xShape[3];
        let tap = column / inChannels;
        let ci = column - tap * inChannels;
        let p = tap / uniforms.filterWidth;
        let q = tap - p * uniforms.filterWidth;
        let pixels = uniforms.outSize.x * uniforms.outSize.y;
        let b = row / pixels;
        let pixel = row - b * pixels;
        let oh = pixel / uniforms.outSize.y;
        let ow = pixel - oh * uniforms.outSize.y;
        let ih = oh * uniforms.stride.x - uniforms.pad.x + p;
        let iw = ow * uniforms.stride.y - uniforms.pad.y + q;
        var value = 0.0;
        if (ih >= 0 && ih < uniforms.xShape[1] && iw >= 0 && iw < uniforms.xShape[2]) {
          value = X[((uniforms.batchStart + b) * uniforms.xShape[1] + ih) * uniforms.xShape[2] * inChannels + iw * inChannels + ci];
        }
        result[i] = value;
      }`;
  }
}
