import * as tf from '@tensorflow/tfjs';

/** The files of an artifact by name (model.json, weights.bin, metadata.json). */
export type ArtifactFiles = Map<string, Uint8Array>;

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const METADATA_JSON = 'metadata.json';

/** Serializes a LayersModel to the standard tfjs files: model.json + one weights.bin shard. */
export async function saveLayersModel(model: tf.LayersModel): Promise<ArtifactFiles> {
  const files: ArtifactFiles = new Map();
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      if (!weightData || !artifacts.weightSpecs) throw new Error('model has no weights to save');
      const buffers = Array.isArray(weightData) ? weightData : [weightData];
      const weights = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
      let offset = 0;
      for (const buffer of buffers) {
        weights.set(new Uint8Array(buffer), offset);
        offset += buffer.byteLength;
      }
      const modelJson = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
      };
      files.set(MODEL_JSON, new TextEncoder().encode(JSON.stringify(modelJson)));
      files.set(WEIGHTS_BIN, weights);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return files;
}

/**
 * Loads model.json + weights.bin with `tf.loadLayersModel`, from memory: what a user does with
 * `tf.loadLayersModel('file://…/model.json')` (tfjs-node) or an http(s) URL in a browser.
 */
export async function loadLayersModel(files: ArtifactFiles): Promise<tf.LayersModel> {
  const modelJson = files.get(MODEL_JSON);
  const weights = files.get(WEIGHTS_BIN);
  if (!modelJson || !weights) throw new Error(`an artifact needs ${MODEL_JSON} and ${WEIGHTS_BIN}`);
  const parsed = JSON.parse(new TextDecoder().decode(modelJson)) as {
    modelTopology: object;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const weightSpecs = parsed.weightsManifest.flatMap((group) => group.weights);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: parsed.modelTopology, weightSpecs, weightData }));
}

export function jsonFile(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2));
}

export function readJsonFile<T>(files: ArtifactFiles, name: string): T {
  const bytes = files.get(name);
  if (!bytes) throw new Error(`artifact has no ${name}`);
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}
