/**
 * The Node side of scripts/gpu-check.sh, bundled by scripts/gpu-pack.sh into one file that runs
 * without node_modules on a machine that has no Node.js install (see the pack script):
 *
 *   gpu-check.mjs adapter                          the adapter Dawn picks, as JSON
 *   gpu-check.mjs arch --model vgg16 --out DIR     modular.json and standard.json for the PyTorch peer
 *   gpu-check.mjs step --backend webgpu|native --model vgg16 --variant modular|standard
 *                      [--batch 128] [--warmup 3] [--min-steps 10] [--min-ms 3000] [--input 32,32,3]
 *   gpu-check.mjs profile --backend webgpu --model vgg16 --variant modular [--batch 128]
 *                                                  one step's device time by tfjs kernel
 *   gpu-check.mjs host-work --model vgg16 --variant modular [--batch 128] [--min-steps 5]
 *                                                  tfjs kernels, GPU dispatches and submits per step,
 *                                                  host ms to queue a step (bench/webgpu-profile.ts)
 *   gpu-check.mjs summary --results results.jsonl --out gpu-check.json
 *                                                  the table of ms/step and ratios, and the JSON report
 *
 * Each prints one JSON line last; gpu-check.sh runs each in its own process under a timeout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildArchitecture, initBackend, isModelName, readPreference } from '@mwt/core';
import { summarize } from './gpu-summary.js';
import { measureHostWork, profileTrainStep, timeTrainStep } from './webgpu.js';

/** The paper's setting: CIFAR-10's 32x32x3 inputs and 10 classes. */
const INPUT_SHAPE: [number, number, number] = [32, 32, 3];
const CLASSES = 10;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    backend: { type: 'string', default: 'webgpu' },
    model: { type: 'string', default: 'vgg16' },
    variant: { type: 'string', default: 'modular' },
    batch: { type: 'string', default: '128' },
    warmup: { type: 'string', default: '3' },
    'min-steps': { type: 'string', default: '10' },
    'min-ms': { type: 'string', default: '3000' },
    out: { type: 'string', default: '.' },
    input: { type: 'string', default: INPUT_SHAPE.join(',') },
    results: { type: 'string', default: 'results.jsonl' },
  },
});
const command = positionals[0];
if (!isModelName(values.model)) throw new Error(`--model: unknown model ${values.model}`);
const model = values.model;

if (command === 'adapter') {
  const info = await initBackend('webgpu');
  console.log(JSON.stringify({ adapter: info.adapter }));
} else if (command === 'arch') {
  mkdirSync(values.out, { recursive: true });
  for (const modular of [true, false]) {
    const arch = buildArchitecture(model, INPUT_SHAPE, CLASSES, { modular });
    writeFileSync(join(values.out, `${modular ? 'modular' : 'standard'}.json`), JSON.stringify(arch));
  }
  console.log(JSON.stringify({ written: values.out }));
} else if (command === 'step') {
  const info = await initBackend(readPreference({ MWT_BACKEND: values.backend }));
  const modular = values.variant === 'modular';
  const batch = Number(values.batch);
  const [h, w, c] = values.input.split(',').map(Number);
  const measured = await timeTrainStep(
    { model, modular, batch, inputShape: [h, w, c], warmup: Number(values.warmup), minSteps: Number(values['min-steps']), minMs: Number(values['min-ms']) },
    CLASSES,
  );
  console.log(
    JSON.stringify({ backend: info.name, adapter: info.adapter, threads: info.threads, cores: os.availableParallelism(), model, variant: values.variant, batch, ...measured }),
  );
} else if (command === 'profile') {
  const info = await initBackend(readPreference({ MWT_BACKEND: values.backend }));
  const timing = { model, modular: values.variant === 'modular', batch: Number(values.batch), inputShape: INPUT_SHAPE, warmup: 1, minSteps: 1, minMs: 0 };
  const { totalMs, kernels } = await profileTrainStep(timing, CLASSES);
  for (const k of kernels.slice(0, 15))
    console.log(`${k.kernel.padEnd(28)} ${String(k.calls).padStart(5)} calls ${k.ms.toFixed(2).padStart(10)} ms ${((100 * k.ms) / totalMs).toFixed(1).padStart(5)}%`);
  console.log(JSON.stringify({ backend: info.name, model, variant: values.variant, batch: timing.batch, totalKernelMs: totalMs, kernels }));
} else if (command === 'host-work') {
  const info = await initBackend(readPreference({ MWT_BACKEND: values.backend }));
  const options = {
    model,
    modular: values.variant === 'modular',
    batch: Number(values.batch),
    inputShape: INPUT_SHAPE,
    warmup: 1,
    minSteps: Number(values['min-steps']),
    minMs: 0,
  };
  const work = await measureHostWork(options, CLASSES);
  console.log(
    `per step: ${work.kernelsPerStep} tfjs kernels, ${work.dispatchesPerStep} dispatches, ${work.submitsPerStep.toFixed(1)} submits; ` +
      `host ${work.hostMsPerStep.toFixed(1)} ms to queue, ${work.wallMsPerStep.toFixed(1)} ms in all`,
  );
  console.log(
    `kernels by name: ${Object.entries(work.kernels)
      .map(([name, calls]) => `${name} ${calls}`)
      .join(', ')}`,
  );
  console.log(JSON.stringify({ backend: info.name, model, variant: values.variant, batch: options.batch, ...work }));
} else if (command === 'summary') {
  const lines = readFileSync(values.results, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  const { table, report } = summarize(lines.map((line) => JSON.parse(line) as unknown));
  console.log(table);
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
} else {
  throw new Error(`unknown command ${String(command)} (adapter, arch, step, profile, host-work, summary)`);
}
