/**
 * Where a training step's time goes on the native backend, per C++ kernel and outside them:
 *   npx tsx bench/native-kernels.ts [--model simcnn-small] [--standard] [--batch 128] [--steps 30]
 * simcnn-small and the other small variants train on MNIST-shaped digits, the full-width models on
 * synthetic CIFAR-10-shaped samples (32x32x3), as in the ratio bench.
 * Wraps every function of the addon with a timer (they are synchronous, so the times are real and,
 * unlike tf.profile's, undisturbed); "outside" is the rest of the step: tfjs' engine and tape, the
 * JS side of kernels, the cpu backend's own kernels.
 */
import { parseArgs } from 'node:util';
import { initBackend, isModelName, loadDataset } from '@mwt/core';
import { nativeKernels } from '@mwt/native';
import { fixedTrainStep, syntheticDataset } from './fixed-step.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'simcnn-small' },
    standard: { type: 'boolean', default: false },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '30' },
  },
});
const modular = !values.standard;
const batch = Number(values.batch);
const steps = Number(values.steps);
const model = values.model;
if (!isModelName(model)) throw new Error(`unknown model ${model}`);

const backend = await initBackend('native');
const dataset = model.endsWith('-small') ? await loadDataset('mnist', { seed: 0 }) : syntheticDataset(batch);
const step = fixedTrainStep(dataset, model, modular, batch);
for (let i = 0; i < 5; i++) step.run();

// The addon's functions are writable properties (addon.cc), so that they can be wrapped here.
const kernels = nativeKernels() as unknown as Record<string, (...args: unknown[]) => unknown>;
const totals = new Map<string, { ms: number; calls: number }>();
for (const [name, kernel] of Object.entries(kernels)) {
  kernels[name] = (...args: unknown[]) => {
    const started = performance.now();
    const result = kernel(...args);
    const entry = totals.get(name) ?? { ms: 0, calls: 0 };
    entry.ms += performance.now() - started;
    entry.calls += 1;
    totals.set(name, entry);
    return result;
  };
}
const started = performance.now();
for (let i = 0; i < steps; i++) step.run();
const wall = (performance.now() - started) / steps;
const inKernels = [...totals.values()].reduce((sum, { ms }) => sum + ms, 0) / steps;
console.log(
  `${model} ${modular ? 'modular' : 'standard'} step, batch ${batch}, ${backend.name} (${backend.threads} threads): ${wall.toFixed(1)} ms/step, ${inKernels.toFixed(1)} ms in native kernels, ${(wall - inKernels).toFixed(1)} ms outside`,
);
for (const [name, { ms, calls }] of [...totals].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(
    `${name.padEnd(24)} ${(ms / steps).toFixed(2).padStart(7)} ms ${((100 * ms) / steps / wall).toFixed(1).padStart(5)}%  ${(calls / steps).toFixed(0).padStart(4)} calls`,
  );
}
step.dispose();
