import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import type { DatasetName } from '../catalog';
import type { Preprocessing } from '../data/dataset';
import type { Architecture } from '../model/architecture';
import type { Model } from '../model/model';
import { METADATA_JSON, jsonFile, loadLayersModel, readJsonFile, saveLayersModel, type ArtifactFiles } from './files';
import { paramsFromLayersModel, toLayersModel, type WeightPlan } from './layers-model';

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

export type MetadataInput = Omit<ArtifactMetadata, 'format' | 'architecture' | 'weightPlan' | 'versions' | 'createdAt' | 'inputShape'>;

/** model.json + weights.bin (a plain tfjs LayersModel) + metadata.json. */
export async function exportArtifact(model: Model, metadata: MetadataInput): Promise<ArtifactFiles> {
  const { model: layersModel, plan } = toLayersModel(model.arch, model.params);
  try {
    const files = await saveLayersModel(layersModel);
    const full: ArtifactMetadata = {
      format: 'mwt-artifact/1',
      ...metadata,
      inputShape: model.arch.inputShape,
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
