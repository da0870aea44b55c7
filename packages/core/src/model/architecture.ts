/**
 * A CNN described as data. One description serves every variant of a model: the modular
 * model (masked blocks), the standard model (no masks) and a pruned module (fewer kernels,
 * no masks, an extra head). The forward pass, the parameter initializer, the exporter to a
 * tfjs LayersModel and the FLOP counter all walk this same list, so they cannot disagree.
 */

/** conv (no bias) -> BatchNorm -> [* mask] -> ReLU. `masked` adds a per-sample mask generator. */
export interface ConvBlock {
  type: 'conv';
  name: string;
  filters: number;
  kernelSize: number;
  stride: number;
  masked: boolean;
}

/**
 * ResNet basic block: relu(mask2 * bn2(conv2(relu(mask1 * bn1(conv1(x)))))) + shortcut(x)).
 * The shortcut is identity, or conv1x1(stride) + BN (`projection`) when the shape changes.
 * In a pruned module a block's output channels are those that can be non-zero: the union of
 * conv2's kept kernels and the channels the shortcut carries. conv2 then computes only its kept
 * kernels and `conv2Kept` says where they land in the output; an identity shortcut whose input
 * is narrower than the output lands by `shortcutKept`.
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
  /** Output channels that conv2's kernels write to; absent = all, in order (full model). */
  conv2Kept?: number[];
  /** Output channels that an identity shortcut's input channels land in; absent = the same channels. */
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

/** Blocks that carry masks, in forward order: each yields one mask per masked conv. */
export function maskedConvNames(arch: Architecture): string[] {
  const names: string[] = [];
  for (const block of arch.blocks) {
    if (block.type === 'conv' && block.masked) names.push(block.name);
    if (block.type === 'residual' && block.masked) names.push(`${block.name}/conv1`, `${block.name}/conv2`);
  }
  return names;
}

export function isModular(arch: Architecture): boolean {
  return maskedConvNames(arch).length > 0;
}
