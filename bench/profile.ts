/**
 * Where a training step's time goes, per tfjs kernel: `npx tsx bench/profile.ts [--modular] [--batch 128] [--top 10]`.
 * tf.profile times each kernel as it runs; on wasm every kernel is synchronous, so the times are real.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend, loadDataset } from '@mwt/core';
import { fixedTrainStep } from './fixed-step.js';

const { values } = parseArgs({
  options: {
    standard: { type: 'boolean', default: false },
    batch: { type: 'string', default: '128' },
    top: { type: 'string', default: '10' },
    steps: { type: 'string', default: '3' },
    /** Group by kernel and input shapes instead of kernel name only. */
    shapes: { type: 'boolean', default: false },
  },
});
const modular = !values.standard;
const batch = Number(values.batch);
const steps = Number(values.steps);

await initBackend();
const dataset = await loadDataset('mnist', { seed: 0 });
const step = fixedTrainStep(dataset, 'simcnn-small', modular, batch);
step.run();

const totals = new Map<string, { ms: number; calls: number }>();
const started = performance.now();
const info = await tf.profile(() => {
  for (let i = 0; i < steps; i++) step.run();
});
const wall = (performance.now() - started) / steps;
for (const kernel of info.kernels) {
  const ms = await kernel.kernelTimeMs;
  const key = values.shapes ? `${kernel.name} ${JSON.stringify(kernel.inputShapes)}` : kernel.name;
  const entry = totals.get(key) ?? { ms: 0, calls: 0 };
  entry.ms += typeof ms === 'number' ? ms : 0;
  entry.calls += 1;
  totals.set(key, entry);
}
const sum = [...totals.values()].reduce((a, b) => a + b.ms, 0) / steps;
console.log(
  `${modular ? 'modular' : 'standard'} step, batch ${batch}, ${tf.getBackend()}: ${wall.toFixed(1)} ms/step profiled, ${sum.toFixed(1)} ms in kernels, ${info.kernels.length / steps} kernel calls/step`,
);
const sorted = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top));
for (const [name, { ms, calls }] of sorted) {
  console.log(
    `${name.padEnd(24)} ${(ms / steps).toFixed(1).padStart(8)} ms ${((100 * ms) / steps / sum).toFixed(1).padStart(5)}%  ${(calls / steps).toFixed(0).padStart(4)} calls`,
  );
}
step.dispose();
