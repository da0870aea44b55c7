import type { Split } from '../data/dataset.js';
import { maskedConvNames } from '../model/architecture.js';
import type { Model } from '../model/model.js';
import { forEachBatch } from '../train/evaluate.js';
import { PackedBits } from './bitset.js';

/** A masked conv layer as the modularizer sees it. */
export interface MaskedLayer {
  name: string;
  kernels: number;
  /** Index of the layer's first kernel in a concatenated module mask. */
  offset: number;
}

/** Binarized (m > 0) masks of every sample, the layers concatenated in forward order. */
export interface SampleMasks {
  layers: MaskedLayer[];
  totalKernels: number;
  bits: PackedBits;
  labels: Int32Array;
}

/** Runs the model in eval mode over a split and binarizes every sample's masks (MWT.md section 3). */
export async function collectSampleMasks(model: Model, split: Split): Promise<SampleMasks> {
  const names = maskedConvNames(model.arch);
  if (names.length === 0) throw new Error(`model ${model.arch.model} has no masked layers: modularize a modular (MwT-trained) model`);
  let layers: MaskedLayer[] = [];
  let bits: PackedBits | undefined;
  await forEachBatch(model.arch, model.params, split, async ({ masks }, start) => {
    const read = await Promise.all(masks.map((mask) => mask.data()));
    if (!bits) {
      let offset = 0;
      layers = masks.map((mask, index) => {
        const layer = { name: names[index], kernels: mask.shape[1], offset };
        offset += layer.kernels;
        return layer;
      });
      bits = new PackedBits(split.count, offset);
    }
    masks.forEach((mask, index) => {
      const { kernels, offset } = layers[index];
      const values = read[index];
      const rows = mask.shape[0];
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < kernels; k++) if (values[r * kernels + k] > 0) bits?.set(start + r, offset + k);
      }
    });
  });
  if (!bits) throw new Error('cannot modularize on an empty split');
  return { layers, totalKernels: bits.bits, bits, labels: split.labels };
}
