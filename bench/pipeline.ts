/** Modularization of 10,000 MNIST samples and building + fine-tuning one module (MWT.md sections 3-4). */
import * as tf from '@tensorflow/tfjs';
import { buildArchitecture, createModel, disposeModel, modularize, reuseModule, subTaskMask, type Dataset, type ModelName, type Split } from '@mwt/core';
import type { BenchRow } from './table.js';

function concatSplits(a: Split, b: Split): Split {
  const images = new Float32Array(a.images.length + b.images.length);
  images.set(a.images);
  images.set(b.images, a.images.length);
  const labels = new Int32Array(a.count + b.count);
  labels.set(a.labels);
  labels.set(b.labels, a.count);
  return { images, labels, count: a.count + b.count };
}

/**
 * The model is freshly initialised (training it first would dominate the benchmark): every kernel
 * is on, so the module keeps all kernels, the slowest case for reuse.
 */
export async function benchPipeline(dataset: Dataset, model: ModelName, reuseEpochs: number): Promise<BenchRow[]> {
  const arch = buildArchitecture(model, dataset.inputShape, dataset.numClasses, { modular: true });
  const modular = createModel(arch, 0);
  const backend = tf.getBackend();
  try {
    const all = concatSplits(dataset.train, dataset.test);
    const cpuMs = (since: NodeJS.CpuUsage) => (process.cpuUsage(since).user + process.cpuUsage(since).system) / 1000;
    let started = performance.now();
    let cpuStarted = process.cpuUsage();
    const result = await modularize(modular, all, { numClasses: dataset.numClasses });
    const modularizeMs = performance.now() - started;
    const modularizeCpuMs = cpuMs(cpuStarted);
    started = performance.now();
    cpuStarted = process.cpuUsage();
    const targetClasses = [0, 1];
    const reuse = await reuseModule({
      modular,
      layers: result.layers,
      mask: subTaskMask(result, targetClasses),
      targetClasses,
      dataset,
      config: { epochs: reuseEpochs, lr: 0.01, batchSize: 64, seed: 0 },
    });
    const reuseMs = performance.now() - started;
    const reuseCpuMs = cpuMs(cpuStarted);
    disposeModel(reuse.module);
    return [
      { section: 'pipeline', case: `modularize ${all.count} samples`, backend, wallMs: modularizeMs, cpuMs: modularizeCpuMs, samplesPerSec: (all.count * 1000) / modularizeMs },
      {
        section: 'pipeline',
        case: `reuseModule {0,1} ${reuseEpochs} epoch`,
        backend,
        batch: 64,
        wallMs: reuseMs,
        cpuMs: reuseCpuMs,
        note: `module keeps ${reuse.report.keptKernels}/${reuse.report.totalKernels} kernels (untrained model)`,
      },
    ];
  } finally {
    disposeModel(modular);
  }
}
