/**
 * npm run bench -- [--model simcnn-small] [--batches 64,128] [--cpu] [--reuse-epochs 1]
 *                  [--skip-training] [--skip-peer] [--skip-pipeline] [--skip-service] [--skip-streams]
 *
 * Sections live in their own files (training.ts, peer.ts, pipeline.ts, service.ts); this file only
 * runs them, prints one table and writes it to bench/results/latest.json. Each training backend runs
 * in a process of its own; the pipeline section runs on the backend `auto` picks.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { initBackend, isModelName, loadDataset, type BackendName } from '@mwt/core';
import { benchPeer } from './peer';
import { benchPipeline } from './pipeline';
import { benchService } from './service';
import { benchStreams } from './streams';
import { formatTable, type BenchRow } from './table';
import { benchTraining } from './training';
import { benchWebgpu } from './webgpu';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'simcnn-small' },
    batches: { type: 'string', default: '64,128' },
    'ratio-batch': { type: 'string', default: '128' },
    'reuse-epochs': { type: 'string', default: '1' },
    'min-ms': { type: 'string', default: '3000' },
    cpu: { type: 'boolean', default: false },
    // --backend webgpu adds training rows on the webgpu backend (bench/webgpu.ts).
    backend: { type: 'string', default: '' },
    'skip-training': { type: 'boolean', default: false },
    'skip-pipeline': { type: 'boolean', default: false },
    'skip-peer': { type: 'boolean', default: false },
    'skip-service': { type: 'boolean', default: false },
    'skip-streams': { type: 'boolean', default: false },
    out: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json') },
  },
});
if (!isModelName(values.model)) throw new Error(`--model: unknown model ${values.model}`);
const model = values.model;
const batches = values.batches.split(',').map(Number);
const ratioBatch = Number(values['ratio-batch']);
if (!batches.includes(ratioBatch)) batches.push(ratioBatch);

const backend = await initBackend();
const dataset = await loadDataset('mnist', { seed: 0 });
// The pure-JS backend needs many seconds per step: only when asked for, and one batch size.
const trainingBackends: BackendName[] = ['native', 'wasm'];
const rows: BenchRow[] = [];
if (!values['skip-training']) {
  rows.push(...benchTraining(trainingBackends, { model, batches, warmup: 2, minSteps: 10, minMs: Number(values['min-ms']) }));
  if (values.cpu) rows.push(...benchTraining(['cpu'], { model, batches: [ratioBatch], warmup: 0, minSteps: 1, minMs: 0 }));
  else rows.push({ section: 'training', case: `modular step ${model}`, backend: 'cpu', note: 'skipped: pure-JS backend takes many seconds per step (--cpu times one)' });
  // The GPU backend on whatever adapter Dawn finds (see bench/webgpu.ts).
  if (values.backend === 'webgpu') rows.push(...benchWebgpu(model, batches, dataset.inputShape, Number(values['min-ms'])));
}

if (!values['skip-peer']) rows.push(...benchPeer(dataset, model, ratioBatch, os.availableParallelism()));
if (!values['skip-pipeline']) rows.push(...(await benchPipeline(dataset, model, Number(values['reuse-epochs']))));
if (!values['skip-service']) rows.push(...(await benchService()));
if (!values['skip-streams']) rows.push(...(await benchStreams()));

// The figure that matters: the backend `auto` picks here against PyTorch, measured in this run.
const ours = rows.find((r) => r.section === 'training' && r.backend.startsWith(backend.name) && r.batch === ratioBatch && r.case.startsWith('modular') && r.msPerStep !== undefined);
const peer = rows.find((r) => r.section === 'peer' && r.batch === ratioBatch && r.case.startsWith('modular'));
const ratio = ours?.msPerStep !== undefined && peer?.msPerStep !== undefined ? ours.msPerStep / peer.msPerStep : undefined;

console.log(`mwt bench: ${model} on MNIST, auto backend ${backend.name}, ${os.availableParallelism()} cores, node ${process.version}`);
console.log(formatTable(rows));
console.log(
  ratio === undefined
    ? 'ratio ours/pytorch: n/a (peer skipped)'
    : `ratio ours (${backend.name}) / pytorch, modular step batch ${ratioBatch}: ${ratio.toFixed(2)}x (${ours?.msPerStep?.toFixed(1)} ms vs ${peer?.msPerStep?.toFixed(1)} ms)`,
);

mkdirSync(dirname(values.out), { recursive: true });
const report = { date: new Date().toISOString(), model, backend: backend.name, cores: os.availableParallelism(), node: process.version, ratio, rows };
writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`written ${values.out}`);
