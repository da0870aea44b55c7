import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import type { DatasetName } from '../catalog.js';
import type { Preprocessing } from '../data/dataset.js';
import type { Architecture } from '../model/architecture.js';
import type { Model } from '../model/model.js';
import { METADATA_JSON, jsonFile, loadLayersModel, readJsonFile, saveLayersModel, type ArtifactFiles } from './files.js';
import { paramsFromLayersModel, toLayersModel, type WeightPlan } from './layers-model.js';

export type ArtifactKind = 'model' | 'module-set' | 'module';

/** One module of a module set: the class it serves and its kernel mask as a '0'/'1' string. */
export interface SavedModuleMask {
  classId: number;
  mask: string;
  keptKernels: number;
  retention: number;
}

/** metadata.json of every artifact: enough to use the model without this service. */
export interface ArtifactMetadata {
  format: 'mwt-artifact/1';
  kind: ArtifactKind;
  dataset: DatasetName;
  /** [height, width, channels] of one input, NHWC. */
  inputShape: [number, number, number];
  /** How to turn 0..255 pixels into inputs: (pixel * scale - mean[c]) / std[c]. */
  preprocessing: Preprocessing;
  /** The same, spelled out, so that applying it literally to one's own images gives the reported accuracy. */
  input: InputDescription;
  /** Dataset class id of each output, in output order (a module's target classes). */
  outputClasses: number[];
  outputClassNames: string[];
  architecture: Architecture;
  /** Which layer holds which parameter, to restore the exact parameters (see paramsFromLayersModel). */
  weightPlan: WeightPlan;
  hyperParameters: Record<string, unknown>;
  metrics: Record<string, number | null>;
  /** module-set: the modularization; module: its mask over the full model's masked kernels. */
  modularization?: {
    threshold: number;
    krr: number;
    cohesion: number;
    coupling: number;
    layers: { name: string; kernels: number; offset: number }[];
    modules: SavedModuleMask[];
  };
  moduleMask?: string;
  backend?: string;
  versions: Record<string, string>;
  createdAt: string;
}

export type MetadataInput = Omit<ArtifactMetadata, 'format' | 'architecture' | 'weightPlan' | 'versions' | 'createdAt' | 'inputShape' | 'input'>;

export interface InputDescription {
  /** Raw pixel values the transform starts from. */
  pixelRange: [0, 255];
  layout: 'NHWC';
  /** Per channel, e.g. `x = (pixel / 255 - 0.1307) / 0.3081`. */
  transform: string[];
  note: string;
}

/** The preprocessing as formulas over raw 0..255 pixels (a 0..1 image must be multiplied by 255 first). */
export function describeInput(preprocessing: Preprocessing): InputDescription {
  const divisor = Math.round(1 / preprocessing.scale);
  const scaled = Math.abs(divisor * preprocessing.scale - 1) < 1e-12 ? `pixel / ${divisor}` : `pixel * ${preprocessing.scale}`;
  return {
    pixelRange: [0, 255],
    layout: 'NHWC',
    transform: preprocessing.mean.map((mean, c) => `x = (${scaled} - ${mean}) / ${preprocessing.std[c]}`),
    note: 'Inputs are raw 0..255 pixels (uint8), transformed per channel as given: values already scaled to 0..1 must be multiplied by 255 first.',
  };
}

/** model.json + weights.bin (a plain tfjs LayersModel) + metadata.json. */
export async function exportArtifact(model: Model, metadata: MetadataInput): Promise<ArtifactFiles> {
  const { model: layersModel, plan } = toLayersModel(model.arch, model.params);
  try {
    const files = await saveLayersModel(layersModel);
    const full: ArtifactMetadata = {
      format: 'mwt-artifact/1',
      ...metadata,
      inputShape: model.arch.inputShape,
      input: describeInput(metadata.preprocessing),
      architecture: model.arch,
      weightPlan: plan,
      versions: packageVersions(),
      createdAt: new Date().toISOString(),
    };
    files.set(METADATA_JSON, jsonFile(full));
    return files;
  } finally {
    layersModel.dispose();
  }
}

/** Loads an artifact back into a Model with exactly the saved parameters. */
export async function importArtifact(files: ArtifactFiles): Promise<{ model: Model; metadata: ArtifactMetadata }> {
  const metadata = readJsonFile<ArtifactMetadata>(files, METADATA_JSON);
  if (metadata.format !== 'mwt-artifact/1') throw new Error(`unknown artifact format ${String(metadata.format)}`);
  const layersModel = await loadLayersModel(files);
  try {
    const isStatistic = (name: string) => name.endsWith('/bn/mean') || name.endsWith('/bn/variance');
    const params = paramsFromLayersModel(layersModel, metadata.weightPlan, (name) => !isStatistic(name));
    return { model: { arch: metadata.architecture, params }, metadata };
  } finally {
    layersModel.dispose();
  }
}

export function maskToString(mask: Uint8Array): string {
  return Array.from(mask, (bit) => (bit ? '1' : '0')).join('');
}

export function maskFromString(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => (ch === '1' ? 1 : 0));
}

function packageVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const version = (path: string) => (require(path) as { version: string }).version;
  return {
    '@mwt/core': version('../../package.json'),
    '@tensorflow/tfjs': tf.version.tfjs,
    backend: tf.getBackend(),
    node: process.versions.node,
  };
}
