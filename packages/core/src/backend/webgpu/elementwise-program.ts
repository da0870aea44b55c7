/**
 * A WGSL program with one thread per output element and its own uniforms: the shape of the small
 * MwT kernels (mask gate, pair statistics), whose threads each loop over one short axis. Every input
 * named in `variableNames` must be read by `body` (WGSL drops unread bindings from the pipeline's
 * layout, and tfjs binds every input).
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export class ThreadPerOutputProgram implements WebGPUProgram {
  dispatch: [number, number, number];
  dispatchLayout: { x: number[] };
  outputShape: number[];
  shaderKey: string;
  size = true;
  uniforms: string;
  variableNames: string[];
  workgroupSize: [number, number, number] = [64, 1, 1];

  /**
   * `body` is the code of `fn main(i : i32)` after the bounds check: it writes `result[i]`.
   * `uniforms` declares the program's own uniforms (`name : i32,` ...), given in that order at run time;
   * `helpers`, WGSL functions that `body` calls.
   */
  constructor(
    name: string,
    outputShape: number[],
    variableNames: string[],
    uniforms: string,
    private readonly body: string,
    private readonly helpers = '',
  ) {
    this.outputShape = outputShape;
    this.variableNames = variableNames;
    this.uniforms = uniforms;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(outputShape.reduce((a, b) => a * b, 1) / this.workgroupSize[0]), 1, 1];
    this.shaderKey = name;
  }

  getUserCode(): string {
    return `
      ${this.helpers}
      fn main(i : i32) {
        if (i >= uniforms.size) { return; }
        ${this.body}
      }`;
  }
}

/** int32 uniforms in the order a program declares them. */
export function intUniforms(...values: number[]): Array<{ type: string; data: number[] }> {
  return values.map((value) => ({ type: 'int32', data: [value] }));
}
