import { MODEL_FAMILIES, SMALL_WIDTH, type ModelFamily, type ModelName } from '../catalog';
import type { Architecture, Block } from './architecture';

export interface ZooOptions {
  /** Masked conv blocks (the modular model) or plain ones (the standard model). */
  modular: boolean;
  /** Overrides the width multiplier implied by the name (1 for `vgg16`, SMALL_WIDTH for `vgg16-small`). */
  widthMultiplier?: number;
}

/** The conv stack shared by VGG16-BN and SimCNN: 13 convs, `M` = 2x2 max pool. */
const VGG16_CFG: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

/**
 * Builds a zoo model for an input shape and class count.
 *
 * - `vgg16`: VGG16-BN of the paper: 13 convs (cfg above), FC 512-512-classes, dropout 0.5 before each FC.
 * - `simcnn`: CNNSplitter's SimCNN: the same 13-conv stack and 3 FC layers (512-512-classes) without dropout.
 * - `resnet18`: CIFAR ResNet18: 3x3 stem (unmasked), 4 stages of 2 basic blocks (64,128,256,512),
 *   masks on both convs inside every block, global average pooling, FC classes.
 * - `rescnn`: CNNSplitter's ResCNN (ResNet9-like): conv 64, conv 128 + pool, residual 128, conv 256 + pool,
 *   conv 512 + pool, residual 512, conv 512, residual 512, global average pooling, FC classes (12 convs).
 *
 * The first conv is never masked (MWT.md section 1). A 2x2 pool that would shrink a side below 1 is
 * skipped, so 28x28 MNIST runs the 32x32 architectures unpadded (28-14-7-3-1).
 */
export function buildArchitecture(
  name: ModelName,
  inputShape: [number, number, number],
  numClasses: number,
  options: ZooOptions,
): Architecture {
  const [family, small] = parseModelName(name);
  const width = options.widthMultiplier ?? (small ? SMALL_WIDTH : 1);
  if (!(width > 0 && width <= 4)) throw new RangeError(`widthMultiplier must be in (0, 4], got ${width}`);
  const scale = (channels: number) => Math.max(4, Math.round(channels * width));
  const builder = new BlockList(inputShape, options.modular);
  switch (family) {
    case 'vgg16':
    case 'simcnn':
      for (const entry of VGG16_CFG) {
        if (entry === 'M') builder.pool();
        else builder.conv(scale(entry));
      }
      builder.flatten();
      builder.dense(scale(512), true, family === 'vgg16' ? 0.5 : 0);
      builder.dense(scale(512), true, family === 'vgg16' ? 0.5 : 0);
      builder.dense(numClasses, false, 0);
      break;
    case 'resnet18': {
      builder.conv(scale(64));
      const stages = [64, 128, 256, 512];
      stages.forEach((channels, stage) => {
        builder.residual(scale(channels), stage === 0 ? 1 : 2);
        builder.residual(scale(channels), 1);
      });
      builder.globalAvgPool();
      builder.dense(numClasses, false, 0);
      break;
    }
    case 'rescnn':
      builder.conv(scale(64));
      builder.conv(scale(128));
      builder.pool();
      builder.residual(scale(128), 1);
      builder.conv(scale(256));
      builder.pool();
      builder.conv(scale(512));
      builder.pool();
      builder.residual(scale(512), 1);
      builder.conv(scale(512));
      builder.residual(scale(512), 1);
      builder.globalAvgPool();
      builder.dense(numClasses, false, 0);
      break;
  }
  return { model: name, inputShape, outputs: numClasses, blocks: builder.blocks };
}

export function parseModelName(name: string): [ModelFamily, boolean] {
  const small = name.endsWith('-small');
  const family = (small ? name.slice(0, -'-small'.length) : name) as ModelFamily;
  if (!MODEL_FAMILIES.includes(family)) {
    throw new RangeError(`unknown model "${name}": expected one of ${MODEL_FAMILIES.flatMap((f) => [f, `${f}-small`]).join(', ')}`);
  }
  return [family, small];
}

/** Appends blocks with generated names while tracking the spatial size (to skip pools that cannot apply). */
class BlockList {
  readonly blocks: Block[] = [];
  private height: number;
  private width: number;
  private channels: number;
  private convCount = 0;
  private poolCount = 0;
  private residualCount = 0;
  private denseCount = 0;

  constructor(
    inputShape: [number, number, number],
    private readonly modular: boolean,
  ) {
    [this.height, this.width, this.channels] = inputShape;
  }

  conv(filters: number): void {
    const first = this.convCount === 0 && this.residualCount === 0;
    this.convCount += 1;
    this.channels = filters;
    this.blocks.push({ type: 'conv', name: `conv${this.convCount}`, filters, kernelSize: 3, stride: 1, masked: this.modular && !first });
  }

  residual(filters: number, stride: number): void {
    this.residualCount += 1;
    const projection = stride !== 1 || this.channels !== filters;
    this.blocks.push({ type: 'residual', name: `res${this.residualCount}`, filters, innerFilters: filters, stride, masked: this.modular, projection });
    this.channels = filters;
    this.height = Math.ceil(this.height / stride);
    this.width = Math.ceil(this.width / stride);
  }

  pool(): void {
    if (this.height < 2 || this.width < 2) return;
    this.poolCount += 1;
    this.blocks.push({ type: 'maxPool', name: `pool${this.poolCount}`, size: 2 });
    this.height = Math.floor(this.height / 2);
    this.width = Math.floor(this.width / 2);
  }

  flatten(): void {
    this.blocks.push({ type: 'flatten', name: 'flatten' });
  }

  globalAvgPool(): void {
    this.blocks.push({ type: 'globalAvgPool', name: 'gap' });
  }

  dense(units: number, relu: boolean, dropout: number): void {
    this.denseCount += 1;
    this.blocks.push({ type: 'dense', name: `fc${this.denseCount}`, units, relu, dropout });
  }
}
