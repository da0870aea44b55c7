import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@mwt/core';

/** The backend the whole suite runs on: whatever `MWT_BACKEND` selects (wasm on these machines). */
export async function setupBackend(): Promise<void> {
  process.env.MWT_QUIET ??= '1';
  await initBackend();
}

/** A deterministic NHWC batch. */
export function randomImages(count: number, shape: [number, number, number], seed: number): tf.Tensor4D {
  return tf.randomNormal([count, ...shape], 0, 1, 'float32', seed) as tf.Tensor4D;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
