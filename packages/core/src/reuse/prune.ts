import * as tf from '@tensorflow/tfjs';
import { hasBatchNorm, type Architecture, type Block } from '../model/architecture.js';
import type { Model } from '../model/model.js';
import { initialValue, type ParamStore } from '../model/params.js';
import { traceShapes } from '../model/shapes.js';
import type { MaskedLayer } from '../modularize/sample-masks.js';

/** Kept kernel indices of every masked layer under a concatenated module mask. */
export function keptKernelsByLayer(layers: MaskedLayer[], mask: Uint8Array): Map<string, number[]> {
  const kept = new Map<string, number[]>();
  for (const { name, kernels, offset } of layers) {
    const indices: number[] = [];
    for (let k = 0; k < kernels; k++) if (mask[offset + k]) indices.push(k);
    kept.set(name, indices);
  }
  return kept;
}

/** The module mask as the per-layer 0/1 vectors `forward`'s maskOverride takes. */
export function maskOverrides(layers: MaskedLayer[], mask: Uint8Array): Map<string, Float32Array> {
  return new Map(layers.map(({ name, kernels, offset }) => [name, Float32Array.from(mask.subarray(offset, offset + kernels))]));
}

/**
 * Physically removes the kernels a module mask drops (MWT.md section 4): fewer output channels in
 * that conv and its BN, fewer input channels in the next conv and in the first FC layer; mask
 * generators are dropped and the kept kernels run unmasked. The result computes exactly what the full
 * model computes with `maskOverrides(layers, mask)` (dropped kernels off, kept ones on).
 */
export function pruneModel(model: Model, layers: MaskedLayer[], mask: Uint8Array): Model {
  const keptByLayer = keptKernelsByLayer(layers, mask);
  const pruner = new Pruner(model.params, keptByLayer);
  const blocks: Block[] = [];
  // Channels of the current feature map that survive, as indices into the full model's channels.
  let channels: number[] | null = null;
  for (const { block, input } of traceShapes(model.arch)) {
    switch (block.type) {
      case 'conv': {
        const kept = block.masked ? pruner.kept(block.name) : range(block.filters);
        pruner.conv(block.name, channels, kept, hasBatchNorm(block));
        blocks.push({ ...block, filters: kept.length, masked: false });
        channels = kept;
        break;
      }
      case 'residual': {
        const batchNorm = hasBatchNorm(block);
        const keptInner = block.masked ? pruner.kept(`${block.name}/conv1`) : range(block.innerFilters);
        const keptBranch = block.masked ? pruner.kept(`${block.name}/conv2`) : range(block.filters);
        pruner.conv(`${block.name}/conv1`, channels, keptInner, batchNorm);
        pruner.conv(`${block.name}/conv2`, keptInner, keptBranch, batchNorm);
        // The shortcut's channels: a projection's kept kernels (all when unmasked), else the input's.
        const identity = channels ?? range(input[2]);
        const shortcutChannels = block.projection ? (block.masked ? pruner.kept(`${block.name}/shortcut`) : range(block.filters)) : identity;
        if (block.projection) pruner.conv(`${block.name}/shortcut`, channels, shortcutChannels, batchNorm);
        // The residual stream keeps every channel that either side writes (the reference's union).
        const output = union(keptBranch, shortcutChannels);
        const placement = (kept: number[]) => (kept.length === output.length ? undefined : kept.map((c) => output.indexOf(c)));
        const { conv2Kept, shortcutKept, ...full } = block;
        const conv2Placement = placement(keptBranch);
        const shortcutPlacement = placement(shortcutChannels);
        blocks.push({
          ...full,
          filters: output.length,
          innerFilters: keptInner.length,
          masked: false,
          ...(conv2Placement ? { conv2Kept: conv2Placement } : {}),
          ...(shortcutPlacement ? { shortcutKept: shortcutPlacement } : {}),
        });
        channels = output;
        break;
      }
      case 'flatten': {
        const [height, width, depth] = input;
        const kept: number[] = channels ?? range(depth);
        // NHWC flattening: feature (row * width + col) * depth + channel.
        channels = range(height * width).flatMap((position) => kept.map((channel): number => position * depth + channel));
        blocks.push(block);
        break;
      }
      case 'dense':
      case 'head':
        pruner.dense(block.name, channels);
        blocks.push(block);
        channels = null;
        break;
      default:
        blocks.push(block);
    }
  }
  return { arch: { ...model.arch, blocks }, params: pruner.params };
}

/**
 * Appends the module head of the paper, ReLU -> Linear(outputs -> |T|), with fresh (seeded) weights.
 * Takes ownership of `model.params`.
 */
export function addHead(model: Model, targetCount: number, seed: number): Model {
  const arch: Architecture = {
    ...model.arch,
    outputs: targetCount,
    blocks: [...model.arch.blocks, { type: 'head', name: 'head', units: targetCount }],
  };
  const params: ParamStore = new Map(model.params);
  const fan = model.arch.outputs;
  const init = (name: string, shape: number[], index: number) => {
    const value = initialValue({ name, shape, init: 'linearUniform', trainable: true }, seed * 1000 + index, fan);
    params.set(name, tf.variable(value, true));
    value.dispose();
  };
  init('head/kernel', [fan, targetCount], 1);
  init('head/bias', [targetCount], 2);
  return { arch, params };
}

/** Copies the kept slices of the full model's parameters into fresh variables. */
class Pruner {
  readonly params: ParamStore = new Map();

  constructor(
    private readonly source: ParamStore,
    private readonly keptByLayer: Map<string, number[]>,
  ) {}

  kept(layer: string): number[] {
    const kept = this.keptByLayer.get(layer);
    if (!kept) throw new Error(`the module mask has no layer ${layer}`);
    return kept;
  }

  /** Kernel [k, k, in, out] sliced on both channel axes; BN (or the bias) sliced on the output channels. */
  conv(prefix: string, inputs: number[] | null, outputs: number[], batchNorm: boolean): void {
    this.copy(`${prefix}/kernel`, (t) => gatherAxis(gatherAxis(t, inputs, 2), outputs, 3));
    const perChannel = batchNorm ? ['gamma', 'beta', 'mean', 'variance'].map((stat) => `${prefix}/bn/${stat}`) : [`${prefix}/bias`];
    for (const name of perChannel) this.copy(name, (t) => gatherAxis(t, outputs, 0));
  }

  dense(prefix: string, inputs: number[] | null): void {
    this.copy(`${prefix}/kernel`, (t) => gatherAxis(t, inputs, 0));
    this.copy(`${prefix}/bias`, (t) => t.clone());
  }

  private copy(name: string, slice: (t: tf.Tensor) => tf.Tensor): void {
    const variable = this.source.get(name);
    if (!variable) throw new Error(`missing parameter ${name}`);
    const value = tf.tidy(() => slice(variable));
    this.params.set(name, tf.variable(value, variable.trainable));
    value.dispose();
  }
}

function gatherAxis(t: tf.Tensor, indices: number[] | null, axis: number): tf.Tensor {
  return indices === null ? t.clone() : tf.gather(t, tf.tensor1d(indices, 'int32'), axis);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function union(a: number[], b: number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}
