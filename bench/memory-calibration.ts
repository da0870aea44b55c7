/**
 * Measures a training job's peak RSS (VmHWM) next to the catalog's estimate: one model, one
 * batch size, synthetic CIFAR-shaped data, one epoch of `batches` steps. One process per case
 * (VmHWM is a high-water mark): `npx tsx bench/memory-calibration.ts vgg16-small 128 cifar10`.
 */
import { readFileSync } from 'node:fs';
import { buildArchitecture, estimateTrainingMemory, MB, type DatasetName, type ModelName } from '@mwt/catalog';
import { DATASETS, initBackend, makeDataset, trainModel } from '@mwt/core';

function peakRssBytes(): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line?.match(/\d+/)?.[0] ?? 0) * 1024;
}

const [model, batchArg, datasetArg, batchesArg] = process.argv.slice(2);
const batchSize = Number(batchArg);
const datasetName = (datasetArg ?? 'cifar10') as DatasetName;
const batches = Number(batchesArg ?? 2);
await initBackend('native');
const info = DATASETS[datasetName];
const [h, w, c] = info.inputShape;
const split = (count: number) => ({
  images: Float32Array.from({ length: count * h * w * c }, (_, i) => Math.sin(i) * 0.5),
  labels: Int32Array.from({ length: count }, (_, i) => i % info.numClasses),
  count,
});
const train = batchSize * batches;
const test = Math.min(256, batchSize);
const dataset = makeDataset(datasetName, info.classNames, info.preprocessing, split(train), split(test));
const started = performance.now();
await trainModel(
  model as ModelName,
  dataset,
  { epochs: 1, batchSize, lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4, alpha: 1, beta: 1, seed: 1, augment: undefined },
  { modular: true },
);
const arch = buildArchitecture(model as ModelName, info.inputShape, info.numClasses, { modular: true });
const estimate = estimateTrainingMemory({ arch, batchSize, trainSamples: train, testSamples: test });
const measured = peakRssBytes();
console.log(
  JSON.stringify({
    model,
    batchSize,
    dataset: datasetName,
    steps: batches,
    stepMs: Math.round((performance.now() - started) / batches),
    measuredMb: Math.round(measured / MB),
    estimateMb: Math.round(estimate.totalBytes / MB),
    ratio: +(estimate.totalBytes / measured).toFixed(2),
    activationMb: Math.round(estimate.activationBytes / MB),
  }),
);
