/**
 * One backend's training rows, in a process of its own (a process runs one tfjs backend):
 *   MWT_BACKEND=wasm tsx bench/training-child.ts '{"model":"simcnn-small","batches":[64,128],...}'
 * Prints the rows as one JSON line; bench/training.ts runs it once per backend.
 */
import { initBackend, isModelName, loadDataset } from '@mwt/core';
import { measureTraining, type TrainingBenchOptions } from './training.js';

const options = JSON.parse(process.argv[2] ?? '{}') as TrainingBenchOptions;
if (!isModelName(options.model)) throw new Error(`unknown model ${String(options.model)}`);
const backend = await initBackend();
const dataset = await loadDataset('mnist', { seed: 0 });
const rows = measureTraining(dataset, options).map((row) => ({ ...row, backend: backend.threads === undefined ? backend.name : `${backend.name} (${backend.threads} thr)` }));
console.log(JSON.stringify(rows));
