import { MODEL_FAMILIES, PAPER_DEFAULTS, SMALL_WIDTH, type ModelFamily, type ModelName } from './names.js';
import type { Architecture, Block } from './architecture.js';

export interface ZooOptions {
  /** Masked conv blocks (the modular model) or plain ones (the standard model). */
  modular: boolean;
  /** Overrides the width multiplier implied by the name (1 for `vgg16`, SMALL_WIDTH for `vgg16-small`). */
  widthMultiplier?: number;
}

/** The conv stack shared by VGG16-BN and SimCNN: 13 convs, `M` = 2x2 max pool. */
const VGG16_CFG: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

/**
 * Builds a zoo model for an input shape and class count, as the authors' reference implementation
 * builds it (MWT.md section 6; counts at full width):
 *
 * - `vgg16`: VGG16-BN: 13 convs (cfg above, the first unmasked), classifier
 *   FC 512 -> ReLU -> Dropout -> FC 512 -> ReLU -> Dropout -> FC classes. 12 masked layers, 4,160 kernels.
 * - `simcnn`: CNNSplitter's SimCNN: the same 13 convs, the first with a bias and no BN, classifier
 *   Dropout -> FC 512 -> ReLU -> Dropout -> FC 512 -> ReLU -> FC classes. 12 masked layers, 4,160 kernels.
 * - `resnet18`: CIFAR ResNet18: 3x3 stem (unmasked), 4 stages of 2 basic blocks (64,128,256,512),
 *   masks on both convs of every block and on the 1x1 downsample shortcuts, global average pooling,
 *   FC classes. 19 masked layers, 4,736 kernels.
 * - `rescnn`: CNNSplitter's ResCNN: 12 convs (64, 128, 128, 128, 256, 512 x 7), max pools after convs
 *   1, 4, 5, 8, 9 (0-based, as the reference names them), residual adds after the ReLU of convs 3, 7, 11
 *   (no ReLU after the add), the first conv with a bias and no BN; Flatten -> Dropout(0.5) -> FC classes.
 *   11 masked layers, 4,224 kernels.
 *
 * Standard (non-modular) models are the same networks without masks; the standard SimCNN and ResCNN
 * are CNNSplitter's own, with no BatchNorm at all (every conv has a bias). A 2x2 pool that would shrink
 * a side below 1 is skipped, so 28x28 inputs run the 32x32 architectures unpadded (28-14-7-3-1).
 *
 * Masked convs have no bias: the reference's SimCNN and ResCNN keep one in front of BN (4,160 and
 * 4,224 parameters at full width), initialized to 0 with a gradient that BN makes exactly 0, so it
 * never changes an output; only the parameter counts differ.
 *
 * The standard SimCNN's convs take He init over the kernel taps that see their input
 * (`heInit: 'visible-taps'`): on 28x28 inputs its last three convs run on 1x1 maps, where He init over
 * all 9 taps shrinks the signal's variance 9x a layer (and the gradients with it); with no BN to undo
 * it the network's outputs hardly differ between samples at init (across-sample std 6e-4 of the logits
 * at 1/8 width) and training stays at loss 2.30. ResCNN's residual stream carries the signal past its
 * small maps, and there the larger init measured worse, so it keeps He's fan-in.
 */
export function buildArchitecture(name: ModelName, inputShape: [number, number, number], numClasses: number, options: ZooOptions): Architecture {
  const [family, small] = parseModelName(name);
  const width = options.widthMultiplier ?? (small ? SMALL_WIDTH : 1);
  if (!(width > 0 && width <= 4)) throw new RangeError(`widthMultiplier must be in (0, 4], got ${width}`);
  const scale = (channels: number) => Math.max(4, Math.round(channels * width));
  const builder = new BlockList(inputShape, options.modular, isCnnSplitterFamily(family), family === 'simcnn' && !options.modular);
  switch (family) {
    case 'vgg16':
    case 'simcnn':
      for (const entry of VGG16_CFG) {
        if (entry === 'M') builder.pool();
        else builder.conv(scale(entry));
      }
      builder.flatten();
      // VGG16 drops out after each hidden ReLU (= before the next FC); SimCNN before each hidden FC.
      builder.dense(scale(512), true, family === 'simcnn' ? 0.5 : 0);
      builder.dense(scale(512), true, 0.5);
      builder.dense(numClasses, false, family === 'vgg16' ? 0.5 : 0);
      break;
    case 'resnet18': {
      builder.conv(scale(64));
      const stages = [64, 128, 256, 512];
      stages.forEach((channels, stage) => {
        builder.residual(scale(channels), stage === 0 ? 1 : 2, 'after-add');
        builder.residual(scale(channels), 1, 'after-add');
      });
      builder.globalAvgPool();
      builder.dense(numClasses, false, 0);
      break;
    }
    case 'rescnn':
      builder.conv(scale(64));
      builder.conv(scale(128));
      builder.pool();
      builder.residual(scale(128), 1, 'before-add');
      builder.conv(scale(256));
      builder.pool();
      builder.conv(scale(512));
      builder.pool();
      builder.residual(scale(512), 1, 'before-add');
      builder.conv(scale(512));
      builder.pool();
      builder.conv(scale(512));
      builder.pool();
      builder.residual(scale(512), 1, 'before-add');
      builder.flatten();
      builder.dense(numClasses, false, 0.5);
      break;
  }
  return { model: name, inputShape, outputs: numClasses, blocks: builder.blocks };
}

/** SimCNN and ResCNN come from CNNSplitter: a first conv without BN, and BN-free standard models. */
export function isCnnSplitterFamily(family: ModelFamily): boolean {
  return family === 'simcnn' || family === 'rescnn';
}

/** The learning rate CNNSplitter trained its BN-free SimCNN and ResCNN with (its train.py: SGD, momentum 0.9). */
export const CNNSPLITTER_LR = 0.01;

/**
 * The default learning rate of a model's standard baseline: CNNSplitter's for its BN-free SimCNN and
 * ResCNN (at the paper's 0.05 the BN-free SimCNN falls back to a constant output within a few epochs),
 * else the modular model's (`modularLr`, the paper's by default): VGG16's and ResNet18's baselines keep
 * their BatchNorm.
 */
export function standardBaselineLr(name: ModelName, modularLr: number = PAPER_DEFAULTS.lr): number {
  return isCnnSplitterFamily(parseModelName(name)[0]) ? CNNSPLITTER_LR : modularLr;
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
    /** Only masked convs carry BN (CNNSplitter's models), rather than every conv. */
    private readonly batchNormWithMasksOnly: boolean,
    /** Plain convs take He init over the taps that see their input (the standard SimCNN; see buildArchitecture). */
    private readonly visibleTapInit: boolean,
  ) {
    [this.height, this.width, this.channels] = inputShape;
  }

  conv(filters: number): void {
    const first = this.convCount === 0 && this.residualCount === 0;
    this.convCount += 1;
    this.channels = filters;
    const masked = this.modular && !first;
    const batchNorm = this.batchNormWithMasksOnly ? masked : true;
    this.blocks.push({
      type: 'conv',
      name: `conv${this.convCount}`,
      filters,
      kernelSize: 3,
      stride: 1,
      masked,
      ...(batchNorm ? {} : { batchNorm }),
      ...(this.visibleTapInit ? { heInit: 'visible-taps' as const } : {}),
    });
  }

  residual(filters: number, stride: number, activation: 'after-add' | 'before-add'): void {
    this.residualCount += 1;
    const projection = stride !== 1 || this.channels !== filters;
    const batchNorm = this.batchNormWithMasksOnly ? this.modular : true;
    this.blocks.push({
      type: 'residual',
      name: `res${this.residualCount}`,
      filters,
      innerFilters: filters,
      stride,
      masked: this.modular,
      projection,
      ...(activation === 'before-add' ? { activation } : {}),
      ...(batchNorm ? {} : { batchNorm }),
    });
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
