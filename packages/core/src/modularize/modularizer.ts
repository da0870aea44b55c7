import type { Split } from '../data/dataset.js';
import type { Model } from '../model/model.js';
import { meanPairwiseJaccard, packMask, type PackedBits } from './bitset.js';
import { collectSampleMasks, type MaskedLayer, type SampleMasks } from './sample-masks.js';

/** Step by which a layer's threshold is lowered when it would keep no kernel. */
export const THRESHOLD_STEP = 0.05;

export interface ClassModule {
  classId: number;
  /** One byte per kernel (0/1), layers concatenated in forward order. */
  mask: Uint8Array;
  keptKernels: number;
  /** kept / all masked kernels. */
  retention: number;
  /** Threshold each layer ended up with (lower than asked where the fallback applied). */
  layerThresholds: number[];
}

export interface Modularization {
  threshold: number;
  layers: MaskedLayer[];
  totalKernels: number;
  modules: ClassModule[];
  /** Kernel retention rate: mean over modules of kept / all masked kernels. */
  krr: number;
  /** Mean over classes of the mean pairwise Jaccard of the class's sample masks ANDed with its module mask. */
  cohesion: number;
  /** Mean pairwise Jaccard index between different modules' masks. */
  coupling: number;
}

export interface ModularizeOptions {
  threshold?: number;
  numClasses: number;
  /**
   * Samples per class used for the cohesion metric (pairs grow quadratically); the module masks always
   * use every sample. Default 1,000: all of MNIST's classes here, a seeded-order prefix on larger sets.
   */
  cohesionSamplesPerClass?: number;
}

/** Modularizes a trained modular model on a split (the training set, in the paper). */
export async function modularize(model: Model, split: Split, options: ModularizeOptions): Promise<Modularization> {
  return modularizeMasks(await collectSampleMasks(model, split), options);
}

/** The pure part of modularization: module masks and metrics from binarized sample masks. */
export function modularizeMasks(samples: SampleMasks, options: ModularizeOptions): Modularization {
  const threshold = options.threshold ?? 0.9;
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  const rowsByClass = groupRows(samples.labels, options.numClasses);
  const modules = rowsByClass.map((rows, classId) => classModule(samples, rows, classId, threshold));
  const packed = modules.map((m) => packMask(m.mask));
  const perClass = options.cohesionSamplesPerClass ?? 1000;
  const cohesions = modules
    .filter((_, classId) => rowsByClass[classId].length > 0)
    .map((module) => {
      const rows = rowsByClass[module.classId].slice(0, perClass);
      return meanPairwiseJaccard(rows.map((row) => samples.bits.andRow(row, packed[module.classId])));
    });
  return {
    threshold,
    layers: samples.layers,
    totalKernels: samples.totalKernels,
    modules,
    krr: mean(modules.map((m) => m.retention)),
    cohesion: mean(cohesions),
    coupling: meanPairwiseJaccard(packed),
  };
}

function classModule(samples: SampleMasks, rows: number[], classId: number, threshold: number): ClassModule {
  const frequency = kernelFrequencies(samples.bits, rows);
  const mask = new Uint8Array(samples.totalKernels);
  const layerThresholds = samples.layers.map(({ kernels, offset }) => {
    // Lower the threshold in steps of 0.05 until the layer keeps a kernel; compare with a small
    // tolerance, because 0.9 - 0.05 * k is not exact in floating point.
    for (let step = 0; ; step++) {
      const layerThreshold = threshold - step * THRESHOLD_STEP;
      let kept = 0;
      for (let k = offset; k < offset + kernels; k++) {
        if (frequency[k] >= layerThreshold - 1e-9) {
          mask[k] = 1;
          kept++;
        }
      }
      if (kept > 0 || layerThreshold <= 0) return Math.max(0, layerThreshold);
    }
  });
  const keptKernels = mask.reduce((sum, bit) => sum + bit, 0);
  return { classId, mask, keptKernels, retention: keptKernels / samples.totalKernels, layerThresholds };
}

/** Fraction of the given samples whose mask has each kernel on. */
function kernelFrequencies(bits: PackedBits, rows: number[]): Float64Array {
  const counts = new Float64Array(bits.bits);
  for (const row of rows) for (let k = 0; k < bits.bits; k++) if (bits.get(row, k)) counts[k]++;
  return counts.map((count) => (rows.length === 0 ? 0 : count / rows.length));
}

function groupRows(labels: Int32Array, numClasses: number): number[][] {
  const groups: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((label, row) => {
    if (label < 0 || label >= numClasses) throw new RangeError(`label ${label} outside 0..${numClasses - 1}`);
    groups[label].push(row);
  });
  return groups;
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sub-task mask: OR of the module masks of the target classes (MWT.md section 4). */
export function subTaskMask(modularization: Modularization, targetClasses: number[]): Uint8Array {
  const mask = new Uint8Array(modularization.totalKernels);
  for (const classId of targetClasses) {
    const module = modularization.modules[classId];
    if (!module) throw new RangeError(`class ${classId} has no module`);
    module.mask.forEach((bit, k) => {
      if (bit) mask[k] = 1;
    });
  }
  return mask;
}
