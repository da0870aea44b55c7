/**
 * The native conv kernels on the layer shapes of a model at a training batch, each timed alone
 * (bench/conv-layer-times.ts says what is measured):
 *   npx tsx bench/conv-layers.ts [--model simcnn-small] [--input 28x28x1] [--batch 128] [--repeat 20]
 * (MWT_NATIVE_DNNL=0 times the addon's own kernels where it was built with oneDNN; MWT_BENCH_CPU_TIME=1
 * times by this process's CPU time instead of the wall clock: on a busy machine and at 1 thread, what
 * the kernel costs without the time it waited for a core.)
 */
import { parseArgs } from 'node:util';
import { initBackend, isModelName } from '@mwt/core';
import { formatConvLayers, timeConvLayers } from './conv-layer-times.js';
import { measurePeak } from './peak.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'simcnn-small' },
    input: { type: 'string', default: '28x28x1' },
    batch: { type: 'string', default: '128' },
    repeat: { type: 'string', default: '20' },
  },
});
if (!isModelName(values.model)) throw new Error(`--model: unknown model ${values.model}`);
const inputShape = values.input.split('x').map(Number) as [number, number, number];
const cpuTime = process.env.MWT_BENCH_CPU_TIME === '1';

const backend = await initBackend('native');
const threads = backend.threads ?? 1;
const repeat = Number(values.repeat);
console.log(`${values.model} conv layers, batch ${values.batch}, ${backend.name} (${threads} threads), median of ${repeat} calls each, ${cpuTime ? 'CPU' : 'wall'} time`);
const peak = measurePeak([threads])?.get(threads);
console.log(`fp32 peak (FMA loop, ${threads} thr): ${peak?.toFixed(0) ?? 'n/a'} GFLOP/s`);
const times = timeConvLayers({ model: values.model, inputShape, batch: Number(values.batch), repeat, threads, peak, cpuTime });
for (const line of formatConvLayers(times)) console.log(line);
console.log(`all conv work of one training step: ${times.reduce((sum, t) => sum + t.ms, 0).toFixed(1)} ms`);
