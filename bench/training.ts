/** Training throughput of the bench model: modular and standard SGD steps, per tfjs backend. */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { BackendName, Dataset, ModelName } from '@mwt/core';
import { fixedTrainStep } from './fixed-step.js';
import { timeSteps, type BenchRow } from './table.js';

export interface TrainingBenchOptions {
  model: ModelName;
  batches: number[];
  /** Timed steps at least (after warmup). */
  minSteps: number;
  minMs: number;
  warmup: number;
}

/** ms per step of one model variant at one batch size on the active backend, with tensor-leak detection. */
export function msPerTrainStep(dataset: Dataset, model: ModelName, modular: boolean, batch: number, timing: { warmup: number; minSteps: number; minMs: number }): number {
  const step = fixedTrainStep(dataset, model, modular, batch);
  try {
    step.run();
    const tensors = tf.memory().numTensors;
    const ms = timeSteps(step.run, timing);
    if (tf.memory().numTensors !== tensors) throw new Error(`training step leaks ${tf.memory().numTensors - tensors} tensors`);
    return ms;
  } finally {
    step.dispose();
  }
}

/** Rows for every batch size and variant on the active backend. */
export function measureTraining(dataset: Dataset, options: TrainingBenchOptions): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const batch of options.batches) {
    for (const modular of [true, false]) {
      const ms = msPerTrainStep(dataset, options.model, modular, batch, options);
      rows.push({
        section: 'training',
        case: `${modular ? 'modular' : 'standard'} step ${options.model}`,
        backend: tf.getBackend(),
        batch,
        msPerStep: ms,
        samplesPerSec: (batch * 1000) / ms,
      });
    }
  }
  return rows;
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'training-child.ts');

/** Runs the training rows on each backend in its own process; a backend that cannot load gets a note. */
export function benchTraining(backends: BackendName[], options: TrainingBenchOptions): BenchRow[] {
  return backends.flatMap((backend): BenchRow[] => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(options)], {
      encoding: 'utf8',
      env: { ...process.env, MWT_BACKEND: backend, MWT_QUIET: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const last = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status === 0 && last.startsWith('[')) return JSON.parse(last) as BenchRow[];
    const reason =
      child.stderr
        .trim()
        .split('\n')
        .find((line) => line.includes('Error')) ?? `exit ${child.status}`;
    return [{ section: 'training', case: `modular step ${options.model}`, backend, note: `skipped: ${reason.slice(0, 160)}` }];
  });
}
