/**
 * What one training step costs the host on the webgpu backend, without a real GPU (lavapipe will do):
 * tfjs kernels per step by name, GPU programs and dispatches and queue submits per step, and the host's
 * milliseconds to queue a step (the synchronous part of trainStepAsync, before it awaits the device)
 * next to the wall-clock milliseconds of the whole step.
 *
 *   npx tsx bench/webgpu-profile.ts [--model vgg16-small] [--variant modular] [--batch 8] [--steps 3]
 *                                   [--width 0.25] [--top 40] [--json]
 *
 * Kernel counts come from one step under tf.profile; the times from `--steps` plain steps after a
 * warm-up step. On lavapipe the "GPU" is the same CPU, so host and wall times are a loaded CPU's; the
 * counts are exact and the same on any adapter.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { initBackend, isModelName } from '@mwt/core';
import { fixedStep } from './webgpu';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'vgg16-small' },
    variant: { type: 'string', default: 'modular' },
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '3' },
    width: { type: 'string' },
    input: { type: 'string', default: '32,32,3' },
    top: { type: 'string', default: '40' },
    json: { type: 'boolean', default: false },
  },
});
if (!isModelName(values.model)) throw new Error(`--model: unknown model ${values.model}`);
const info = await initBackend('webgpu');
const backend = tf.backend() as WebGPUBackend;

/**
 * Counts tfjs' GPU programs, all dispatches (each binds one bind group: tfjs' programs and our own
 * passes, such as the in-place updates) and queue submits, by wrapping the backend's and device's methods.
 */
let programs = 0;
let submits = 0;
let bindGroups = 0;
const programsByKey = new Map<string, number>();
const runProgram = backend.runWebGPUProgram.bind(backend);
backend.runWebGPUProgram = (program, ...rest) => {
  programs++;
  const key = program.shaderKey.split('_')[0];
  programsByKey.set(key, (programsByKey.get(key) ?? 0) + 1);
  return runProgram(program, ...rest);
};
const device = backend.device;
const createBindGroup = device.createBindGroup.bind(device);
device.createBindGroup = (descriptor) => {
  bindGroups++;
  return createBindGroup(descriptor);
};
const queue = device.queue;
const submit = queue.submit.bind(queue);
queue.submit = (buffers) => {
  submits++;
  submit(buffers);
};

const [h, w, c] = values.input.split(',').map(Number);
const options = {
  model: values.model,
  modular: values.variant === 'modular',
  batch: Number(values.batch),
  inputShape: [h, w, c] as [number, number, number],
  warmup: 1,
  minSteps: Number(values.steps),
  minMs: 0,
  widthMultiplier: values.width === undefined ? undefined : Number(values.width),
};
const { step, dispose } = fixedStep(options, 10);

let started = performance.now();
await step();
const firstStepMs = performance.now() - started;

// Kernel counts of one step (tf.profile records every kernel, nested ones included).
programs = 0;
submits = 0;
bindGroups = 0;
programsByKey.clear();
const profile = await tf.profile(async () => void (await step()));
const kernels = new Map<string, number>();
for (const k of profile.kernels) kernels.set(k.name, (kernels.get(k.name) ?? 0) + 1);
const programsPerStep = programs;
const dispatchesPerStep = bindGroups;
const programKeys = new Map(programsByKey);

// Host and wall time of plain steps.
const steps = Number(values.steps);
let hostMs = 0;
programs = 0;
submits = 0;
started = performance.now();
for (let i = 0; i < steps; i++) {
  const queued = performance.now();
  const pending = step();
  hostMs += performance.now() - queued;
  await pending;
}
const wallMs = (performance.now() - started) / steps;
const submitsPerStep = submits / steps;
dispose();

const sorted = [...kernels.entries()].sort((a, b) => b[1] - a[1]);
const total = profile.kernels.length;
const report = {
  backend: info.name,
  adapter: info.adapter,
  model: values.model,
  width: options.widthMultiplier,
  variant: values.variant,
  batch: options.batch,
  kernelsPerStep: total,
  programsPerStep,
  dispatchesPerStep,
  submitsPerStep,
  hostMsPerStep: hostMs / steps,
  wallMsPerStep: wallMs,
  firstStepMs,
  kernels: Object.fromEntries(sorted),
  programs: Object.fromEntries([...programKeys.entries()].sort((a, b) => b[1] - a[1])),
};
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  const adapter = info.adapter ? `${info.adapter.device}${info.adapter.software ? ' (software)' : ''}` : '?';
  console.log(`${values.model}${options.widthMultiplier ? ` x${options.widthMultiplier}` : ''} ${values.variant} step, batch ${options.batch}, webgpu on ${adapter}`);
  console.log(`tfjs kernels/step ${total}; tfjs GPU programs/step ${programsPerStep}; dispatches/step (all) ${dispatchesPerStep}; queue submits/step ${submitsPerStep.toFixed(1)}`);
  console.log(`host ms/step (queueing) ${report.hostMsPerStep.toFixed(1)}; wall ms/step ${wallMs.toFixed(1)} (${steps} steps; first step ${firstStepMs.toFixed(0)} ms)`);
  for (const [name, calls] of sorted.slice(0, Number(values.top))) console.log(`  ${name.padEnd(28)} ${String(calls).padStart(6)}`);
  console.log(`GPU programs by shader: ${[...programKeys.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
}
