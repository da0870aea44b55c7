/**
 * Training-step time on the active backend with an asynchronous read of each step's scalars (what
 * the trainer runs; a GPU backend cannot read synchronously in Node), on synthetic data of any input
 * shape: the rows of `npm run bench -- --backend webgpu` and of scripts/gpu-check.sh.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { BenchRow } from './table.js';
import { buildArchitecture, createModel, disposeModel, Sgd, trainStepAsync, type ModelName, type StepResult } from '@mwt/core';

export interface StepTiming {
  model: ModelName;
  modular: boolean;
  batch: number;
  inputShape: [number, number, number];
  /** Untimed steps first (shader compilation, buffer pools). */
  warmup: number;
  minSteps: number;
  minMs: number;
}

export interface StepMeasurement {
  msPerStep: number;
  steps: number;
  /** The first warmup step alone: pipeline compilation included. */
  firstStepMs: number;
  loss: number;
}

/** Deterministic inputs in [-1, 1) and labels cycling over the classes (every pair kind present). */
function syntheticBatch(batch: number, [h, w, c]: [number, number, number], classes: number): { images: Float32Array; labels: Int32Array } {
  const images = new Float32Array(batch * h * w * c);
  let state = 12345;
  for (let i = 0; i < images.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    images[i] = state / 2 ** 31 - 1;
  }
  return { images, labels: Int32Array.from({ length: batch }, (_, i) => i % classes) };
}

/** The fixed step of `options` (model, optimizer, batch), and how to free it. */
export function fixedStep(options: StepTiming & { widthMultiplier?: number }, classes: number): { step: () => Promise<StepResult>; dispose: () => void } {
  const arch = buildArchitecture(options.model, options.inputShape, classes, { modular: options.modular, widthMultiplier: options.widthMultiplier });
  const model = createModel(arch, 0);
  const optimizer = new Sgd(model.params, { momentum: 0.9, nesterov: true, weightDecay: 0 });
  const paramNameOf = new Map([...model.params].map(([name, v]) => [v.name, name]));
  const input = { ...syntheticBatch(options.batch, options.inputShape, classes), lr: 0.05, dropoutSeed: 1, alpha: 0.5, beta: 1.5, modular: options.modular };
  return {
    step: () => trainStepAsync(model, optimizer, paramNameOf, input),
    dispose: () => {
      optimizer.dispose();
      disposeModel(model);
    },
  };
}

export async function timeTrainStep(options: StepTiming, classes = 10): Promise<StepMeasurement> {
  const { step, dispose } = fixedStep(options, classes);
  try {
    let started = performance.now();
    let result = await step();
    const firstStepMs = performance.now() - started;
    for (let i = 1; i < options.warmup; i++) result = await step();
    const tensors = tf.memory().numTensors;
    started = performance.now();
    let steps = 0;
    while (steps < options.minSteps || performance.now() - started < options.minMs) {
      result = await step();
      steps++;
    }
    const msPerStep = (performance.now() - started) / steps;
    if (tf.memory().numTensors !== tensors) throw new Error(`training step leaks ${tf.memory().numTensors - tensors} tensors`);
    if (!Number.isFinite(result.loss)) throw new Error(`training step gave a non-finite loss (${result.loss})`);
    return { msPerStep, steps, firstStepMs, loss: result.loss };
  } finally {
    dispose();
  }
}

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

/**
 * Where one step's time goes, by tfjs kernel: device time from the backend's timer (WebGPU timestamp
 * queries; each kernel is then submitted on its own, so the total exceeds a normal step's time).
 * After one untimed step, so that no pipeline compilation is counted.
 */
export async function profileTrainStep(options: StepTiming, classes = 10): Promise<{ totalMs: number; kernels: KernelTime[] }> {
  const { step, dispose } = fixedStep(options, classes);
  try {
    await step();
    const profile = await tf.profile(async () => void (await step()));
    const byKernel = new Map<string, KernelTime>();
    for (const k of profile.kernels) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const entry = byKernel.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
      entry.calls += 1;
      entry.ms += ms;
      byKernel.set(k.name, entry);
    }
    const kernels = [...byKernel.values()].sort((a, b) => b.ms - a.ms);
    return { totalMs: kernels.reduce((sum, k) => sum + k.ms, 0), kernels };
  } finally {
    dispose();
  }
}

export interface HostWork {
  /** tfjs kernels of one step (tf.profile; nested ones and the engine's clones included), by name. */
  kernelsPerStep: number;
  kernels: Record<string, number>;
  /** Programs run through tfjs' runWebGPUProgram, by shader (the first part of its key). */
  programsPerStep: number;
  programs: Record<string, number>;
  /** Every dispatch (each binds a bind group): tfjs' programs and our own passes. */
  dispatchesPerStep: number;
  submitsPerStep: number;
  /** Host time to queue a step (trainStepAsync until it awaits the device) and the whole step's time. */
  hostMsPerStep: number;
  wallMsPerStep: number;
  firstStepMs: number;
}

/**
 * The host's work in a webgpu training step: kernel, program, dispatch and submit counts (exact on
 * any adapter, lavapipe included) and host milliseconds per step (a real GPU's are the ones to trust).
 * Counts by wrapping the backend's and the device's own methods for the duration of the call.
 */
export async function measureHostWork(options: StepTiming & { widthMultiplier?: number }, classes = 10): Promise<HostWork> {
  const backend = tf.backend() as WebGPUBackend;
  const device = backend.device;
  const queue = device.queue;
  let programs = 0;
  let bindGroups = 0;
  let submits = 0;
  const programsByKey = new Map<string, number>();
  const runProgram = backend.runWebGPUProgram;
  const createBindGroup = device.createBindGroup;
  const submit = queue.submit;
  backend.runWebGPUProgram = (program, ...rest) => {
    programs++;
    const key = program.shaderKey.split('_')[0];
    programsByKey.set(key, (programsByKey.get(key) ?? 0) + 1);
    return runProgram.call(backend, program, ...rest);
  };
  device.createBindGroup = (descriptor) => {
    bindGroups++;
    return createBindGroup.call(device, descriptor);
  };
  queue.submit = (buffers) => {
    submits++;
    submit.call(queue, buffers);
  };
  const { step, dispose } = fixedStep(options, classes);
  try {
    let started = performance.now();
    await step();
    const firstStepMs = performance.now() - started;
    programs = 0;
    bindGroups = 0;
    programsByKey.clear();
    const profile = await tf.profile(async () => void (await step()));
    const kernels = new Map<string, number>();
    for (const k of profile.kernels) kernels.set(k.name, (kernels.get(k.name) ?? 0) + 1);
    const programsPerStep = programs;
    const programsSeen = new Map(programsByKey);
    // Dispatches and submits of plain steps (under tf.profile each kernel is submitted alone).
    const steps = Math.max(1, options.minSteps);
    bindGroups = 0;
    submits = 0;
    let hostMs = 0;
    started = performance.now();
    for (let i = 0; i < steps; i++) {
      const queued = performance.now();
      const pending = step();
      hostMs += performance.now() - queued;
      await pending;
    }
    const byCount = (m: Map<string, number>) => Object.fromEntries([...m.entries()].sort((a, b) => b[1] - a[1]));
    return {
      kernelsPerStep: profile.kernels.length,
      kernels: byCount(kernels),
      programsPerStep,
      programs: byCount(programsSeen),
      dispatchesPerStep: bindGroups / steps,
      submitsPerStep: submits / steps,
      hostMsPerStep: hostMs / steps,
      wallMsPerStep: (performance.now() - started) / steps,
      firstStepMs,
    };
  } finally {
    dispose();
    backend.runWebGPUProgram = runProgram;
    device.createBindGroup = createBindGroup;
    queue.submit = submit;
  }
}

const CHECK = join(dirname(fileURLToPath(import.meta.url)), 'gpu-check.ts');

/**
 * `npm run bench -- --backend webgpu`: the bench model's modular and standard steps on webgpu, in a
 * process of its own per case (as the other training rows), on synthetic data of the dataset's shape.
 * Whatever adapter Dawn has is used and named in the row (a software one included, so it is visible).
 */
export function benchWebgpu(model: ModelName, batches: number[], inputShape: [number, number, number], minMs: number): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const batch of batches) {
    for (const variant of ['modular', 'standard']) {
      const args = [
        '--import',
        'tsx',
        CHECK,
        'step',
        '--backend',
        'webgpu',
        '--model',
        model,
        '--variant',
        variant,
        '--batch',
        String(batch),
        '--input',
        inputShape.join(','),
        '--min-ms',
        String(minMs),
        '--min-steps',
        '5',
        '--warmup',
        '2',
      ];
      const child = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, MWT_QUIET: '1' }, maxBuffer: 16 * 1024 * 1024 });
      const last = child.stdout.trim().split('\n').pop() ?? '';
      const parsed = child.status === 0 && last.startsWith('{') ? (JSON.parse(last) as { msPerStep: number; adapter?: { device: string; software: boolean } }) : undefined;
      if (!parsed) {
        const reason =
          child.stderr
            .trim()
            .split('\n')
            .find((line) => line.includes('Error')) ?? `exit ${child.status}`;
        rows.push({ section: 'training', case: `${variant} step ${model}`, backend: 'webgpu', batch, note: `skipped: ${reason.slice(0, 160)}` });
        continue;
      }
      const adapter = parsed.adapter ? ` (${parsed.adapter.device}${parsed.adapter.software ? ', software' : ''})` : '';
      rows.push({
        section: 'training',
        case: `${variant} step ${model}`,
        backend: `webgpu${adapter}`,
        batch,
        msPerStep: parsed.msPerStep,
        samplesPerSec: (batch * 1000) / parsed.msPerStep,
      });
    }
  }
  return rows;
}
