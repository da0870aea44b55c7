/**
 * npm run bench -- [--model simcnn-small] [--batches 64,128] [--cpu] [--reuse-epochs 1] [--skip-pipeline] [--skip-peer]
 *
 * Sections live in their own files (training.ts, peer.ts, pipeline.ts; service.ts later); this file
 * only runs them, prints one table and writes it to bench/results/latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend, isModelName, loadDataset } from '@mwt/core';
import { benchPeer } from './peer';
import { benchPipeline } from './pipeline';
import { formatTable, type BenchRow } from './table';
import { benchTraining, msPerTrainStep } from './training';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'simcnn-small' },
    batches: { type: 'string', default: '64,128' },
    'ratio-batch': { type: 'string', default: '128' },
    'reuse-epochs': { type: 'string', default: '1' },
    'min-ms': { type: 'string', default: '3000' },
    cpu: { type: 'boolean', default: false },
    'skip-pipeline': { type: 'boolean', default: false },
    'skip-peer': { type: 'boolean', default: false },
    out: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json') },
  },
});
if (!isModelName(values.model)) throw new Error(`--model: unknown model ${values.model}`);
const model = values.model;
const batches = values.batches.split(',').map(Number);
const ratioBatch = Number(values['ratio-batch']);
if (!batches.includes(ratioBatch)) batches.push(ratioBatch);
const timing = { warmup: 2, minSteps: 10, minMs: Number(values['min-ms']) };

const backend = await initBackend();
const dataset = await loadDataset('mnist', { seed: 0 });
const rows: BenchRow[] = benchTraining(dataset, { model, batches, ...timing });

// The pure-JS backend needs many seconds per step: one step, and only when asked for.
if (backend.name !== 'cpu') {
  if (values.cpu && (await tf.setBackend('cpu'))) {
    const ms = msPerTrainStep(dataset, model, true, ratioBatch, { warmup: 0, minSteps: 1, minMs: 0 });
    rows.push({ section: 'training', case: `modular step ${model}`, backend: 'cpu', batch: ratioBatch, msPerStep: ms, samplesPerSec: (ratioBatch * 1000) / ms, note: 'one step' });
    await tf.setBackend(backend.tfBackend);
  } else {
    rows.push({ section: 'training', case: `modular step ${model}`, backend: 'cpu', note: 'skipped: pure-JS backend takes many seconds per step (--cpu times one)' });
  }
}

if (!values['skip-peer']) rows.push(...benchPeer(dataset, model, ratioBatch, 2));
if (!values['skip-pipeline']) rows.push(...(await benchPipeline(dataset, model, Number(values['reuse-epochs']))));

const ours = rows.find((r) => r.section === 'training' && r.backend === backend.tfBackend && r.batch === ratioBatch && r.case.startsWith('modular'));
const peer = rows.find((r) => r.section === 'peer' && r.batch === ratioBatch && r.case.startsWith('modular'));
const ratio = ours?.msPerStep !== undefined && peer?.msPerStep !== undefined ? ours.msPerStep / peer.msPerStep : undefined;

const threads = backend.threads === undefined ? '' : `, ${backend.threads} thread(s)`;
console.log(`mwt bench: ${model} on MNIST, backend ${backend.name}${threads}, ${os.availableParallelism()} cores, node ${process.version}`);
console.log(formatTable(rows));
console.log(
  ratio === undefined
    ? 'ratio ours/pytorch: n/a (peer skipped)'
    : `ratio ours/pytorch, modular step batch ${ratioBatch}: ${ratio.toFixed(2)}x (${ours?.msPerStep?.toFixed(1)} ms vs ${peer?.msPerStep?.toFixed(1)} ms)`,
);

mkdirSync(dirname(values.out), { recursive: true });
const report = { date: new Date().toISOString(), model, backend: backend.name, cores: os.availableParallelism(), node: process.version, ratio, rows };
writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`written ${values.out}`);
