/**
 * A module in the browser: the artifact's model.json + weights.bin loaded with plain tfjs
 * (tf.io.fromMemory, as packages/core's loadLayersModel does in Node), and images turned into
 * inputs with the artifact's own preprocessing, `(pixel * scale - mean[c]) / std[c]`, as
 * packages/core/src/data/normalize.ts does. tfjs is loaded only when a module page needs it.
 */
import type * as Tf from '@tensorflow/tfjs';
import { readJson, readTar } from './tar.js';
import type { ArtifactMetadata } from './types.js';

type TfModule = typeof Tf;
let tfLoaded: Promise<TfModule> | null = null;

/** The cpu backend: exact float32 arithmetic, fast enough for one small image, and no GPU needed. */
function loadTf(): Promise<TfModule> {
  tfLoaded ??= import('@tensorflow/tfjs').then(async (tf) => {
    await tf.setBackend('cpu');
    await tf.ready();
    return tf;
  });
  return tfLoaded;
}

export interface Classifier {
  metadata: ArtifactMetadata;
  /** Class scores (softmax of the outputs) for one image's inputs, in output order. */
  predict(inputs: Float32Array): Promise<number[]>;
  dispose(): void;
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { weights: Tf.io.WeightsManifestEntry[] }[];
}

export async function loadClassifier(archive: Uint8Array): Promise<Classifier> {
  const files = readTar(archive);
  const metadata = readJson<ArtifactMetadata>(files, 'metadata.json');
  const modelJson = readJson<ModelJson>(files, 'model.json');
  const weights = files.get('weights.bin');
  if (!weights) throw new Error('the archive has no weights.bin');
  const tf = await loadTf();
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    }),
  );
  const [height, width, channels] = metadata.inputShape;
  return {
    metadata,
    predict: async (inputs) => {
      const scores = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(inputs, [1, height, width, channels])) as Tf.Tensor2D));
      const values = Array.from(await scores.data());
      scores.dispose();
      return values;
    },
    dispose: () => model.dispose(),
  };
}

/** table[c * 256 + p] = (p * scale - mean[c]) / std[c], in float32 like Node's pixelLookup. */
function pixelLookup({ scale, mean, std }: ArtifactMetadata['preprocessing']): Float32Array {
  const table = new Float32Array(256 * mean.length);
  for (let c = 0; c < mean.length; c++) for (let p = 0; p < 256; p++) table[c * 256 + p] = (p * scale - mean[c]) / std[c];
  return table;
}

/**
 * RGBA pixels of a width x height image -> the model's NHWC inputs. One channel: the grey level
 * (ITU-R 601 luma, which is the value itself for a grey image); three: R, G, B.
 */
export function toInputs(rgba: Uint8ClampedArray, metadata: ArtifactMetadata, invert = false): Float32Array {
  const [height, width, channels] = metadata.inputShape;
  const table = pixelLookup(metadata.preprocessing);
  const out = new Float32Array(height * width * channels);
  for (let i = 0; i < height * width; i++) {
    const [r, g, b] = [rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]];
    const pixel = channels === 1 ? [Math.round(0.299 * r + 0.587 * g + 0.114 * b)] : [r, g, b];
    for (let c = 0; c < channels; c++) out[i * channels + c] = table[c * 256 + (invert ? 255 - pixel[c] : pixel[c])];
  }
  return out;
}
