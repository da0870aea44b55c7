/**
 * A CNN described as data. One description serves every variant of a model: the modular
 * model (masked blocks), the standard model (no masks) and a pruned module (fewer kernels,
 * no masks, an extra head). The forward pass, the parameter initializer, the exporter to a
 * tfjs LayersModel and the FLOP counter all walk this same list, so they cannot disagree.
 */

/**
 * conv (no bias) -> BatchNorm -> [* mask] -> ReLU. `masked` adds a per-sample mask generator.
 * `batchNorm: false` is conv (with bias) -> [* mask] -> ReLU: CNNSplitter's first conv and the
 * convs of its BN-free standard SimCNN and ResCNN (MWT.md section 6). Absent means true.
 */
export interface ConvBlock {
  type: 'conv';
  name: string;
  filters: number;
  kernelSize: number;
  stride: number;
  masked: boolean;
  batchNorm?: boolean;
  /**
   * `visible-taps`: He init counts, in the kernel's fan-in, only the taps that see the input map on
   * average (zero padding excluded) instead of all k*k. The same on big maps; on a 1x1 map a 3x3
   * 'same' conv uses only its centre tap, and the usual 2/(9 Cin) variance shrinks the signal 9x.
   * Absent: all taps (He's fan-in).
   */
  heInit?: 'visible-taps';
}

/**
 * Average number of a `kernelSize` kernel's taps (along one side) that fall inside a map of `size`
 * pixels under 'same' padding, stride 1: sum over offsets j of (size - |j|)+ / size.
 */
export function visibleTaps(kernelSize: number, size: number): number {
  const half = Math.floor(kernelSize / 2);
  let taps = 0;
  for (let offset = -half; offset <= kernelSize - 1 - half; offset++) taps += Math.max(0, size - Math.abs(offset)) / size;
  return taps;
}

/**
 * A residual block of two 3x3 convs and a shortcut, in one of two orders:
 * - `after-add` (ResNet's BasicBlock): relu(mask2 * bn2(conv2(relu(mask1 * bn1(conv1(x))))) + shortcut(x)).
 *   The shortcut is identity, or conv1x1(stride) + BN (`projection`) when the shape changes; in a
 *   modular model the projection is masked like the convs (the reference's masked downsample).
 * - `before-add` (CNNSplitter's ResCNN): relu(conv2(relu(conv1(x)))) + x, no ReLU after the add.
 * In a pruned module a block's output channels are those that can be non-zero: the union of
 * conv2's kept kernels and the channels the shortcut carries. conv2 and a projection then compute
 * only their kept kernels; `conv2Kept` and `shortcutKept` say where they land in the output
 * (channel re-indexing, no arithmetic).
 */
export interface ResidualBlock {
  type: 'residual';
  name: string;
  /** Width of the residual stream (the output of the block). */
  filters: number;
  /** Kernels of conv1 (== filters in the full model, fewer in a pruned module). */
  innerFilters: number;
  stride: number;
  masked: boolean;
  /** conv1x1 + BN shortcut instead of identity. */
  projection: boolean;
  /** Absent means `after-add`. */
  activation?: 'after-add' | 'before-add';
  /** As in ConvBlock, for all convs of the block. Absent means true. */
  batchNorm?: boolean;
  /** Output channels that conv2's kernels write to; absent = all, in order (full model). */
  conv2Kept?: number[];
  /**
   * Output channels that the shortcut's channels (a projection's kept kernels, or an identity
   * shortcut's input channels) land in; absent = the same channels.
   */
  shortcutKept?: number[];
}

export interface MaxPoolBlock {
  type: 'maxPool';
  name: string;
  size: number;
}

export interface FlattenBlock {
  type: 'flatten';
  name: string;
}

export interface GlobalAvgPoolBlock {
  type: 'globalAvgPool';
  name: string;
}

/** [dropout ->] dense (with bias) [-> relu]. Dropout is active in training only. */
export interface DenseBlock {
  type: 'dense';
  name: string;
  units: number;
  relu: boolean;
  dropout: number;
}

/** Module head of the paper: ReLU on the old logits, then Linear(numClasses -> |T|). */
export interface HeadBlock {
  type: 'head';
  name: string;
  units: number;
}

export type Block = ConvBlock | ResidualBlock | MaxPoolBlock | FlattenBlock | GlobalAvgPoolBlock | DenseBlock | HeadBlock;

export interface Architecture {
  /** Zoo name, e.g. `simcnn-small`. */
  model: string;
  /** [height, width, channels] */
  inputShape: [number, number, number];
  /** Number of outputs of the final layer. */
  outputs: number;
  blocks: Block[];
}

/** Names of the masked layers, in forward order: each yields one mask per sample. */
export function maskedConvNames(arch: Architecture): string[] {
  return maskedLayers(arch).map((layer) => layer.name);
}

export function isModular(arch: Architecture): boolean {
  return maskedConvNames(arch).length > 0;
}

/** Masked layers with their kernel counts, in forward order (the order of a concatenated module mask). */
export function maskedLayers(arch: Architecture): { name: string; kernels: number }[] {
  const layers: { name: string; kernels: number }[] = [];
  for (const block of arch.blocks) {
    if (block.type === 'conv' && block.masked) layers.push({ name: block.name, kernels: block.filters });
    if (block.type === 'residual' && block.masked) {
      const kernels = residualKernels(block);
      layers.push({ name: `${block.name}/conv1`, kernels: block.innerFilters }, { name: `${block.name}/conv2`, kernels: kernels.conv2 });
      if (block.projection) layers.push({ name: `${block.name}/shortcut`, kernels: kernels.shortcut });
    }
  }
  return layers;
}

/** Kernels of conv2 and of the shortcut conv of a residual block (fewer than `filters` once pruned). */
export function residualKernels(block: ResidualBlock): { conv2: number; shortcut: number } {
  return { conv2: block.conv2Kept?.length ?? block.filters, shortcut: block.projection ? (block.shortcutKept?.length ?? block.filters) : 0 };
}

/** Whether a conv block or a residual block's convs are followed by BatchNorm (absent = yes). */
export function hasBatchNorm(block: ConvBlock | ResidualBlock): boolean {
  return block.batchNorm !== false;
}
