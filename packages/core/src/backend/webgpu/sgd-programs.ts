/**
 * WGSL programs of MwT's SGD update (kernel-names.ts: MwtSgdUpdate; the maths of train/sgd.ts,
 * PyTorch's SGD): d = grad + wd * p; v' = momentum * v + d; p' = p - lr * (nesterov ? d + momentum * v' : v').
 * Two elementwise programs, one per output, each recomputing v' (cheaper than a third dispatch).
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export const SGD_UNIFORMS = 'lr : f32, momentum : f32, weightDecay : f32,';

export class SgdProgram implements WebGPUProgram {
  dispatch: [number, number, number];
  dispatchLayout: { x: number[] };
  outputShape: number[];
  shaderKey: string;
  size = true;
  uniforms = SGD_UNIFORMS;
  variableNames = ['P', 'V', 'G'];
  workgroupSize: [number, number, number] = [64, 1, 1];

  constructor(
    shape: number[],
    private readonly output: 'param' | 'velocity',
    private readonly nesterov: boolean,
  ) {
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = [Math.ceil(shape.reduce((a, b) => a * b, 1) / this.workgroupSize[0]), 1, 1];
    this.shaderKey = `mwtSgd_${output}_${nesterov}`;
  }

  getUserCode(): string {
    const direction = this.nesterov ? 'd + uniforms.momentum * v' : 'v';
    return `
      fn main(i : i32) {
        if (i >= uniforms.size) { return; }
        let d = G[i] + uniforms.weightDecay * P[i];
        let v = uniforms.momentum * V[i] + d;
        result[i] = ${this.output === 'velocity' ? 'v' : `P[i] - uniforms.lr * (${direction})`};
      }`;
  }
}
