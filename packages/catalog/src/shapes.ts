import type { Architecture, Block } from './architecture.js';

/** [height, width, channels] of one sample. */
export type Shape3 = [number, number, number];

export interface TracedBlock {
  block: Block;
  /** Shape of the block's input: a feature map, or [1, 1, features] after flatten/gap. */
  input: Shape3;
  output: Shape3;
}

/** Hidden width of a mask generator (MWT.md section 1): Cout if Cout < 128, else Cout / 2. */
export function gateHiddenUnits(kernels: number): number {
  return kernels < 128 ? kernels : Math.floor(kernels / 2);
}

/** Output side of a 'same' conv or of a 2x2 'valid' pool. */
const sameSide = (side: number, stride: number) => Math.ceil(side / stride);

/** Walks the blocks once, giving every block its input and output shape. */
export function traceShapes(arch: Architecture): TracedBlock[] {
  let shape: Shape3 = [...arch.inputShape];
  return arch.blocks.map((block) => {
    const input = shape;
    const [h, w, c] = input;
    switch (block.type) {
      case 'conv':
        shape = [sameSide(h, block.stride), sameSide(w, block.stride), block.filters];
        break;
      case 'residual':
        shape = [sameSide(h, block.stride), sameSide(w, block.stride), block.filters];
        break;
      case 'maxPool':
        shape = [Math.floor(h / block.size), Math.floor(w / block.size), c];
        break;
      case 'flatten':
        shape = [1, 1, h * w * c];
        break;
      case 'globalAvgPool':
        shape = [1, 1, c];
        break;
      case 'dense':
      case 'head':
        shape = [1, 1, block.units];
        break;
    }
    return { block, input, output: shape };
  });
}
