/**
 * npm run bench -- [--model simcnn-small] [--batches 64,128] [--cpu] [--reuse-epochs 1]
 *                  [--ratio-models vgg16,resnet18,simcnn,rescnn] [--ratio-batches 32,128] [--ratio-threads 1,2]
 *                  [--rounds 5] [--ratio-min-ms 1000] [--baseline-addon old/mwt_native.node] [--conv-model simcnn]
 *                  [--skip-training] [--skip-peer] [--skip-pipeline] [--skip-service] [--skip-streams]
 *
 * Sections live in their own files (training.ts, ratios.ts, conv-layer-times.ts, pipeline.ts, service.ts); this file only
 * runs them, prints one table and writes it to bench/results/latest.json. Each training backend runs
 * in a process of its own; the pipeline section runs on the backend `auto` picks.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { initBackend, isModelName, loadDataset, type BackendName } from '@mwt/core';
import { formatConvLayers, timeConvLayers, type ConvLayerTime } from './conv-layer-times.js';
import { measurePeak } from './peak.js';
import { benchRatios, projectedPaperRun, type RatioRow } from './ratios.js';
import { benchPipeline } from './pipeline.js';
import { benchService } from './service.js';
import { benchStreams } from './streams.js';
import { formatTable, type BenchRow } from './table.js';
import { benchTraining } from './training.js';
import { benchWebgpu } from './webgpu.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'simcnn-small' },
    batches: { type: 'string', default: '64,128' },
    'ratio-batch': { type: 'string', default: '128' },
    'ratio-models': { type: 'string', default: 'vgg16,resnet18,simcnn,rescnn' },
    'ratio-batches': { type: 'string', default: '32,128' },
    'ratio-threads': { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '5' },
    // Per side and round: a batch-32 step of the full-width models takes 0.3-1 s, and one step a
    // round let a single slow moment of the machine decide a row.
    'ratio-min-ms': { type: 'string', default: '1000' },
    'baseline-addon': { type: 'string' },
    // Its conv layers timed one by one at each --ratio-batches size, in this process (native backend).
    'conv-model': { type: 'string', default: 'simcnn' },
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

// Ours against PyTorch, interleaved round by round, on the full-width models and the bench model.
let ratios: RatioRow[] = [];
const ratioThreads = values['ratio-threads'].split(',').map(Number);
const peak = values['skip-peer'] ? undefined : measurePeak(ratioThreads);
if (!values['skip-peer']) {
  const ratioModels = [...new Set([...values['ratio-models'].split(','), model])];
  if (!ratioModels.every(isModelName)) throw new Error(`--ratio-models: unknown model in ${values['ratio-models']}`);
  console.log(`fp32 peak (FMA loop): ${[...(peak ?? new Map<number, number>())].map(([t, g]) => `${g.toFixed(0)} GFLOP/s at ${t} thr`).join(', ') || 'n/a (no compiler)'}`);
  ratios = await benchRatios({
    models: ratioModels,
    batches: values['ratio-batches'].split(',').map(Number),
    threads: ratioThreads,
    rounds: Number(values.rounds),
    minMs: Number(values['ratio-min-ms']),
    peak,
    baselineAddon: values['baseline-addon'],
  });
  // The paper's batch (128) where measured, else the largest batch measured; the fastest thread count.
  const vgg = ratios.filter((r) => r.model === 'vgg16' && r.kind === 'modular').sort((a, b) => b.batch - a.batch || a.oursMs - b.oursMs)[0];
  if (vgg) {
    const run = projectedPaperRun(vgg.oursMs, vgg.batch);
    console.log(
      `projected: 200 epochs of vgg16 (modular) on CIFAR-10's 50,000 images here, batch ${vgg.batch}, ${vgg.threads} thr, load ${vgg.load.toFixed(1)}: ${run.minutes.toFixed(0)} min (${run.epochMinutes.toFixed(1)} min/epoch); the paper: 108 min on a GPU (training + modularizing)`,
    );
  }
}

// The wide convolutions (256 output channels and more: 8x8 maps down to 2x2 on 32x32 inputs) one by
// one, at the thread count this process's backend runs, against the peak measured above.
let convLayers: ConvLayerTime[] = [];
const convModel = values['conv-model'];
if (!isModelName(convModel)) throw new Error(`--conv-model: unknown model ${convModel}`);
if (!values['skip-peer'] && backend.name === 'native') {
  const threads = backend.threads ?? 1;
  const convPeak = peak?.get(threads) ?? measurePeak([threads])?.get(threads);
  for (const batch of values['ratio-batches'].split(',').map(Number)) {
    const times = timeConvLayers({ model: convModel, inputShape: [32, 32, 3], batch, repeat: 20, threads, peak: convPeak });
    const wide = times.filter((t) => t.outChannels >= 256);
    const lowest = wide.reduce<ConvLayerTime | undefined>((low, t) => (low && (low.peakPct ?? Infinity) <= (t.peakPct ?? Infinity) ? low : t), undefined);
    console.log(
      `wide convolutions of ${convModel} (32x32x3), batch ${batch}, ${threads} thr, median of 20 calls, load ${os.loadavg()[0].toFixed(1)}: ` +
        (lowest
          ? `lowest ${lowest.peakPct?.toFixed(0) ?? '-'}% of the peak (${lowest.layer} ${lowest.pass}; useful products only)`
          : 'none (no layer of 256 output channels or more)'),
    );
    for (const line of formatConvLayers(wide)) console.log(`  ${line}`);
    convLayers = convLayers.concat(times);
  }
}
if (!values['skip-pipeline']) rows.push(...(await benchPipeline(dataset, model, Number(values['reuse-epochs']))));
if (!values['skip-service']) rows.push(...(await benchService()));
if (!values['skip-streams']) rows.push(...(await benchStreams()));

// The figure that matters: the backend `auto` picks here against PyTorch, measured in this run.
const headline = ratios.filter((r) => r.model === model && r.kind === 'modular' && r.batch === ratioBatch).at(-1);
const ratio = headline?.ratio;

console.log(`mwt bench: ${model} on MNIST, auto backend ${backend.name}, ${os.availableParallelism()} cores, node ${process.version}`);
console.log(formatTable(rows));
console.log(
  ratio === undefined
    ? 'ratio ours/pytorch: n/a (peer skipped or the bench model not measured at --ratio-batch)'
    : `ratio ours (native) / pytorch, ${model} modular step batch ${ratioBatch}, ${headline?.threads} thr, interleaved: ${ratio.toFixed(2)}x (${headline?.oursMs.toFixed(1)} ms vs ${headline?.peerMs.toFixed(1)} ms, load ${headline?.load.toFixed(1)})`,
);

mkdirSync(dirname(values.out), { recursive: true });
const report = {
  date: new Date().toISOString(),
  model,
  backend: backend.name,
  cores: os.availableParallelism(),
  node: process.version,
  ratio,
  peak: Object.fromEntries(peak ?? []),
  ratios,
  convLayers,
  rows,
};
writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`written ${values.out}`);
