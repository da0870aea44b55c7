import { residualKernels, type Architecture } from './architecture.js';
import { countTrainable } from './param-specs.js';
import { gateHiddenUnits, traceShapes } from './shapes.js';

/**
 * Multiply-accumulates of one forward pass of one sample (what "FLOPs" means in the paper's tables
 * and in thop): convs, dense layers and mask generators. BatchNorm, pooling, activations, residual
 * adds and the channel re-indexing of pruned residual blocks (bookkeeping, MWT.md section 6) are not counted.
 */
export function countFlops(arch: Architecture): number {
  let total = 0;
  const conv = (h: number, w: number, k: number, cin: number, cout: number) => h * w * k * k * cin * cout;
  const gate = (cin: number, cout: number) => cin * gateHiddenUnits(cout) + gateHiddenUnits(cout) * cout;
  for (const { block, input, output } of traceShapes(arch)) {
    const [oh, ow] = output;
    switch (block.type) {
      case 'conv':
        total += conv(oh, ow, block.kernelSize, input[2], block.filters);
        if (block.masked) total += gate(input[2], block.filters);
        break;
      case 'residual': {
        const kernels = residualKernels(block);
        total += conv(oh, ow, 3, input[2], block.innerFilters) + conv(oh, ow, 3, block.innerFilters, kernels.conv2);
        if (block.masked) total += gate(input[2], block.innerFilters) + gate(block.innerFilters, kernels.conv2);
        if (block.projection) total += conv(oh, ow, 1, input[2], kernels.shortcut);
        if (block.projection && block.masked) total += gate(input[2], kernels.shortcut);
        break;
      }
      case 'dense':
      case 'head':
        total += input[2] * block.units;
        break;
      default:
        break;
    }
  }
  return total;
}

/** The same architecture without mask generators: what a module is compared against. */
export function withoutMasks(arch: Architecture): Architecture {
  return {
    ...arch,
    blocks: arch.blocks.map((block) => (block.type === 'conv' || block.type === 'residual' ? { ...block, masked: false } : block)),
  };
}

export interface ModelCost {
  params: number;
  flops: number;
}

export function modelCost(arch: Architecture): ModelCost {
  return { params: countTrainable(arch), flops: countFlops(arch) };
}
