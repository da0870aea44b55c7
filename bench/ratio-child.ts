/**
 * Our side of the interleaved ratio bench (bench/ratios.ts): a long-lived process that speaks the
 * same JSON-lines protocol as `peer_torch.py --serve`, so both sides are timed alike.
 *   {"prepare": arch, "batch": 128, "modular": true, "warmup": 2} -> {"ready": true}
 *   {"time": 400} -> {"ms": per-step ms, "steps": n}   (steps until at least 400 ms have passed)
 *   {"prepare": null} -> {"freed": true}
 * The backend comes from MWT_BACKEND and its threads from MWT_NATIVE_THREADS, set by the parent.
 */
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { initBackend, isModelName, type Architecture } from '@mwt/core';
import { nativeKernels } from '@mwt/native';
import { fixedTrainStep, syntheticDataset, type FixedStep } from './fixed-step.js';

interface Prepare {
  /** null: free the current network. */
  prepare: Architecture | null;
  batch: number;
  modular: boolean;
  warmup?: number;
}

const backend = await initBackend();
const dataset = syntheticDataset(128);
// An addon built before oneDNN (MWT_NATIVE_ADDON, to compare) has no convUsesDnnl.
const dnnl = backend.name === 'native' && typeof nativeKernels().convUsesDnnl === 'function' && nativeKernels().convUsesDnnl();
process.stdout.write(`${JSON.stringify({ backend: backend.name, threads: backend.threads, dnnl })}\n`);
let step: FixedStep | undefined;
for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Prepare | { time: number };
  if ('prepare' in request) {
    step?.dispose();
    step = undefined;
    const { prepare: arch, batch, modular } = request;
    if (arch === null) {
      process.stdout.write(`${JSON.stringify({ freed: true })}\n`);
      continue;
    }
    if (!isModelName(arch.model)) throw new Error(`unknown model ${arch.model}`);
    step = fixedTrainStep(dataset, arch.model, modular, batch);
    for (let i = 0; i < (request.warmup ?? 2); i++) step.run();
    process.stdout.write(`${JSON.stringify({ ready: true, tensors: tf.memory().numTensors })}\n`);
  } else {
    if (!step) throw new Error('time before prepare');
    const started = performance.now();
    let steps = 0;
    while (steps < 1 || performance.now() - started < request.time) {
      step.run();
      steps++;
    }
    process.stdout.write(`${JSON.stringify({ ms: (performance.now() - started) / steps, steps })}\n`);
  }
}
