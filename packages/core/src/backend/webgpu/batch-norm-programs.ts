/**
 * WGSL programs of MwT's training BatchNorm (+ mask + ReLU), forward and backward, for the webgpu
 * backend (contracts in kernel-names.ts; the maths of ops/batch-norm.ts). z is NHWC, viewed as
 * [rows = B*H*W, C]; the mask is [B, C]. Per-channel sums are two-stage reductions: `parts` slices of
 * rows per channel (one thread each, neighbouring threads on neighbouring channels, so reads coalesce),
 * then one thread per channel over the slices. Sums are taken around the channel's first value (a
 * shift) so that the variance keeps its precision when the mean is large.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

const WORKGROUP: [number, number, number] = [64, 1, 1];

function dispatchFor(threads: number): [number, number, number] {
  return [Math.ceil(threads / WORKGROUP[0]), 1, 1];
}

/** Slices of rows per channel: enough threads to fill a GPU, never more slices than rows. */
export function reductionParts(rows: number, channels: number): number {
  return Math.max(1, Math.min(rows, Math.ceil(32768 / channels)));
}

/** Every program's uniforms: the view of z as [rows, channels], images' pixels, slices, epsilon. */
export const SHAPE_UNIFORMS = 'rows : i32, channels : i32, pixels : i32, parts : i32, epsilon : f32,';

/**
 * Reads of the forward values that both directions recompute: xhat, the pre-mask output y (only
 * where used: WGSL drops unreferenced inputs from the pipeline's layout, and tfjs binds every input)
 * and the mask.
 */
function affineSnippet(withY: boolean, masked: boolean): string {
  return `
    fn invStd(c : i32) -> f32 { return inverseSqrt(Variance[c] + uniforms.epsilon); }
    fn xhatAt(i : i32, c : i32) -> f32 { return (Z[i] - Mean[c]) * invStd(c); }
    ${withY ? 'fn yAt(i : i32, c : i32) -> f32 { return xhatAt(i, c) * Gamma[c] + Beta[c]; }' : ''}
    fn maskAt(i : i32, c : i32) -> f32 {
      ${masked ? 'return M[(i / (uniforms.pixels * uniforms.channels)) * uniforms.channels + c];' : 'return 1.0;'}
    }`;
}

/** The inputs a program reads, in binding order: the forward ones, then `extra`, then the mask. */
export function forwardInputs(withGamma: boolean, withBeta: boolean, extra: string[], masked: boolean): string[] {
  return ['Z', ...(withGamma ? ['Gamma'] : []), ...(withBeta ? ['Beta'] : []), 'Mean', 'Variance', ...extra, ...(masked ? ['M'] : [])];
}

abstract class Program implements WebGPUProgram {
  dispatch: [number, number, number];
  dispatchLayout: { x: number[] };
  outputShape: number[];
  shaderKey: string;
  size = true;
  uniforms = SHAPE_UNIFORMS;
  variableNames: string[];
  workgroupSize = WORKGROUP;

  constructor(name: string, outputShape: number[], variableNames: string[]) {
    this.outputShape = outputShape;
    this.variableNames = variableNames;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = dispatchFor(outputShape.reduce((a, b) => a * b, 1));
    this.shaderKey = name;
  }

  abstract getUserCode(): string;
}

/** [parts, 2, C]: per slice and channel, sum(z - shift) and sum((z - shift)^2); shift = z[0, c]. */
export class StatsPartialProgram extends Program {
  constructor(parts: number, channels: number) {
    super('mwtBnStatsPartial', [parts, 2, channels], ['Z']);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.parts * uniforms.channels) { return; }
        let part = index / uniforms.channels;
        let c = index % uniforms.channels;
        let per = (uniforms.rows + uniforms.parts - 1) / uniforms.parts;
        let end = min(uniforms.rows, (part + 1) * per);
        let shift = Z[c];
        var s = 0.0;
        var q = 0.0;
        for (var r = part * per; r < end; r = r + 1) {
          let v = Z[r * uniforms.channels + c] - shift;
          s = s + v;
          q = q + v * v;
        }
        result[(part * 2) * uniforms.channels + c] = s;
        result[(part * 2 + 1) * uniforms.channels + c] = q;
      }`;
  }
}

/** [C]: the batch mean (which = 0; reads z for the shift) or the biased variance (which = 1). */
export class StatsFinalProgram extends Program {
  constructor(
    channels: number,
    private readonly which: 0 | 1,
  ) {
    super(`mwtBnStatsFinal${which}`, [channels], which === 0 ? ['Partial', 'Z'] : ['Partial']);
  }

  getUserCode(): string {
    return `
      fn main(c : i32) {
        if (c >= uniforms.channels) { return; }
        var s = 0.0;
        var q = 0.0;
        for (var p = 0; p < uniforms.parts; p = p + 1) {
          s = s + Partial[(p * 2) * uniforms.channels + c];
          q = q + Partial[(p * 2 + 1) * uniforms.channels + c];
        }
        let n = f32(uniforms.rows);
        let shiftedMean = s / n;
        ${this.which === 0 ? 'result[c] = Z[c] + shiftedMean;' : 'result[c] = max(q / n - shiftedMean * shiftedMean, 0.0);'}
      }`;
  }
}

/** out = act(xhat * gamma + beta) * m. */
export class ApplyProgram extends Program {
  constructor(
    shape: number[],
    private readonly relu: boolean,
    private readonly masked: boolean,
  ) {
    super(`mwtBnApply${relu ? 'Relu' : ''}${masked ? 'Masked' : ''}`, shape, forwardInputs(true, true, [], masked));
  }

  getUserCode(): string {
    return `${affineSnippet(true, this.masked)}
      fn main(i : i32) {
        if (i >= uniforms.size) { return; }
        let c = i % uniforms.channels;
        let y = yAt(i, c);
        result[i] = ${this.relu ? 'max(y, 0.0)' : 'y'} * maskAt(i, c);
      }`;
  }
}

/** The gradient reaching y = xhat * gamma + beta: dOut * m, through the ReLU. */
function dySnippet(relu: boolean): string {
  return `
    fn dyAt(i : i32, c : i32) -> f32 {
      let d = DOut[i] * maskAt(i, c);
      ${relu ? 'if (yAt(i, c) <= 0.0) { return 0.0; }' : ''}
      return d;
    }`;
}

/** [parts, 2, C]: per slice and channel, sum(dy) and sum(dy * xhat). */
export class GradPartialProgram extends Program {
  constructor(
    parts: number,
    channels: number,
    private readonly relu: boolean,
    private readonly masked: boolean,
  ) {
    super(`mwtBnGradPartial${relu ? 'Relu' : ''}${masked ? 'Masked' : ''}`, [parts, 2, channels], ['DOut', ...forwardInputs(relu, relu, [], masked)]);
  }

  getUserCode(): string {
    return `${affineSnippet(this.relu, this.masked)}${dySnippet(this.relu)}
      fn main(index : i32) {
        if (index >= uniforms.parts * uniforms.channels) { return; }
        let part = index / uniforms.channels;
        let c = index % uniforms.channels;
        let per = (uniforms.rows + uniforms.parts - 1) / uniforms.parts;
        let end = min(uniforms.rows, (part + 1) * per);
        var s = 0.0;
        var q = 0.0;
        for (var r = part * per; r < end; r = r + 1) {
          let i = r * uniforms.channels + c;
          let dy = dyAt(i, c);
          s = s + dy;
          q = q + dy * xhatAt(i, c);
        }
        result[(part * 2) * uniforms.channels + c] = s;
        result[(part * 2 + 1) * uniforms.channels + c] = q;
      }`;
  }
}

/** [C]: dBeta = sum(dy) (which = 0) or dGamma = sum(dy * xhat) (which = 1). */
export class GradFinalProgram extends Program {
  constructor(
    channels: number,
    private readonly which: 0 | 1,
  ) {
    super(`mwtBnGradFinal${which}`, [channels], ['Partial']);
  }

  getUserCode(): string {
    return `
      fn main(c : i32) {
        if (c >= uniforms.channels) { return; }
        var s = 0.0;
        for (var p = 0; p < uniforms.parts; p = p + 1) {
          s = s + Partial[(p * 2 + ${this.which}) * uniforms.channels + c];
        }
        result[c] = s;
      }`;
  }
}

/** dz = gamma invStd (dy - dBeta / N - xhat dGamma / N). */
export class InputGradProgram extends Program {
  constructor(
    shape: number[],
    private readonly relu: boolean,
    private readonly masked: boolean,
  ) {
    super(`mwtBnInputGrad${relu ? 'Relu' : ''}${masked ? 'Masked' : ''}`, shape, ['DOut', ...forwardInputs(true, relu, ['DBeta', 'DGamma'], masked)]);
  }

  getUserCode(): string {
    return `${affineSnippet(this.relu, this.masked)}${dySnippet(this.relu)}
      fn main(i : i32) {
        if (i >= uniforms.size) { return; }
        let c = i % uniforms.channels;
        let n = f32(uniforms.rows);
        result[i] = Gamma[c] * invStd(c) * (dyAt(i, c) - DBeta[c] / n - xhatAt(i, c) * DGamma[c] / n);
      }`;
  }
}

/** [B, C]: dMask = sum over the image's pixels of dOut * act(y). */
export class MaskGradProgram extends Program {
  constructor(
    batch: number,
    channels: number,
    private readonly relu: boolean,
  ) {
    super(`mwtBnMaskGrad${relu ? 'Relu' : ''}`, [batch, channels], ['DOut', ...forwardInputs(true, true, [], false)]);
  }

  getUserCode(): string {
    return `
      fn invStd(c : i32) -> f32 { return inverseSqrt(Variance[c] + uniforms.epsilon); }
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        let image = index / uniforms.channels;
        let c = index % uniforms.channels;
        var s = 0.0;
        for (var p = 0; p < uniforms.pixels; p = p + 1) {
          let i = (image * uniforms.pixels + p) * uniforms.channels + c;
          let y = (Z[i] - Mean[c]) * invStd(c) * Gamma[c] + Beta[c];
          s = s + DOut[i] * ${this.relu ? 'max(y, 0.0)' : 'y'};
        }
        result[index] = s;
      }`;
  }
}
