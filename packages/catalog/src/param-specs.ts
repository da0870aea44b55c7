import { hasBatchNorm, residualKernels, visibleTaps, type Architecture } from './architecture.js';
import { gateHiddenUnits, traceShapes } from './shapes.js';

/** What one parameter should be initialized to (a pure description, so that pruning and counting can reuse it). */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'heNormal' | 'linearUniform' | 'zeros' | 'ones';
  trainable: boolean;
  /** The fan-in `heNormal` uses where it is not the product of the shape's leading dimensions (ConvBlock.heInit). */
  fanIn?: number;
}

function batchNormSpecs(prefix: string, channels: number): ParamSpec[] {
  return [
    { name: `${prefix}/bn/gamma`, shape: [channels], init: 'ones', trainable: true },
    { name: `${prefix}/bn/beta`, shape: [channels], init: 'zeros', trainable: true },
    { name: `${prefix}/bn/mean`, shape: [channels], init: 'zeros', trainable: false },
    { name: `${prefix}/bn/variance`, shape: [channels], init: 'ones', trainable: false },
  ];
}

/** Conv kernel + BN (or a bias, without BN) + (if masked) the mask generator of MWT.md section 1. */
function convSpecs(prefix: string, kernelSize: number, inChannels: number, kernels: number, masked: boolean, batchNorm: boolean, fanIn?: number): ParamSpec[] {
  const kernel: ParamSpec = { name: `${prefix}/kernel`, shape: [kernelSize, kernelSize, inChannels, kernels], init: 'heNormal', trainable: true };
  const specs: ParamSpec[] = [fanIn === undefined ? kernel : { ...kernel, fanIn }];
  if (batchNorm) specs.push(...batchNormSpecs(prefix, kernels));
  else specs.push({ name: `${prefix}/bias`, shape: [kernels], init: 'zeros', trainable: true });
  if (masked) {
    const hidden = gateHiddenUnits(kernels);
    specs.push(
      { name: `${prefix}/gate/w1`, shape: [inChannels, hidden], init: 'heNormal', trainable: true },
      { name: `${prefix}/gate/w2`, shape: [hidden, kernels], init: 'heNormal', trainable: true },
      // Bias 1.0: tanh(1) = 0.76 > 0, so every kernel starts switched on.
      { name: `${prefix}/gate/b2`, shape: [kernels], init: 'ones', trainable: true },
    );
  }
  return specs;
}

/** Every parameter an architecture needs, in forward order. */
export function paramSpecs(arch: Architecture): ParamSpec[] {
  const specs: ParamSpec[] = [];
  for (const { block, input } of traceShapes(arch)) {
    const inChannels = input[2];
    switch (block.type) {
      case 'conv': {
        const fanIn = block.heInit === 'visible-taps' ? visibleTaps(block.kernelSize, input[0]) * visibleTaps(block.kernelSize, input[1]) * inChannels : undefined;
        specs.push(...convSpecs(block.name, block.kernelSize, inChannels, block.filters, block.masked, hasBatchNorm(block), fanIn));
        break;
      }
      case 'residual': {
        const kernels = residualKernels(block);
        const batchNorm = hasBatchNorm(block);
        specs.push(...convSpecs(`${block.name}/conv1`, 3, inChannels, block.innerFilters, block.masked, batchNorm));
        specs.push(...convSpecs(`${block.name}/conv2`, 3, block.innerFilters, kernels.conv2, block.masked, batchNorm));
        if (block.projection) specs.push(...convSpecs(`${block.name}/shortcut`, 1, inChannels, kernels.shortcut, block.masked, batchNorm));
        break;
      }
      case 'dense':
      case 'head':
        specs.push(
          { name: `${block.name}/kernel`, shape: [inChannels, block.units], init: 'linearUniform', trainable: true },
          { name: `${block.name}/bias`, shape: [block.units], init: 'linearUniform', trainable: true },
        );
        break;
      default:
        break;
    }
  }
  return specs;
}

/** Total number of trainable scalars (what "parameter count" means in reports). */
export function countTrainable(arch: Architecture): number {
  return paramSpecs(arch)
    .filter((s) => s.trainable)
    .reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}
