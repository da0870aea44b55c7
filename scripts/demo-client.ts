/**
 * The demo's client: what a user's script does. Submits a pipeline job, streams its progress and
 * prints the result table from the API's own endpoints. The demo's API runs with MWT_AUTH=disabled;
 * against a real one, set MWT_KEY to an API key and it is sent as `Authorization: Bearer`.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    model: { type: 'string', default: 'simcnn-small' },
    // Two to three minutes on the native backend: long enough for modules to form (see report:mnist for the full run).
    epochs: { type: 'string', default: '6' },
    batch: { type: 'string', default: '64' },
    'train-limit': { type: 'string', default: '8000' },
    'test-limit': { type: 'string', default: '2000' },
    classes: { type: 'string', default: '0,1' },
    'reuse-epochs': { type: 'string', default: '5' },
  },
});
const base = values.url;

const auth: Record<string, string> = process.env.MWT_KEY ? { authorization: `Bearer ${process.env.MWT_KEY}` } : {};
if (!process.env.MWT_KEY) console.log('no MWT_KEY: sending requests without an API key (the demo API runs with MWT_AUTH=disabled)');

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${base}${path}`, { ...init, headers: { 'content-type': 'application/json', ...auth } });
  const body = (await response.json()) as T & { message?: string };
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${response.status} ${body.message ?? ''}`);
  return body;
}

for (let i = 0; ; i++) {
  const ok = await fetch(`${base}/healthz`)
    .then((r) => r.ok)
    .catch(() => false);
  if (ok) break;
  if (i > 120) throw new Error(`the API at ${base} did not become healthy`);
  await new Promise((resolve) => setTimeout(resolve, 500));
}

const params = {
  dataset: 'mnist',
  model: values.model,
  epochs: Number(values.epochs),
  batchSize: Number(values.batch),
  trainLimit: Number(values['train-limit']),
  testLimit: Number(values['test-limit']),
  targetClasses: values.classes.split(',').map(Number),
  reuseEpochs: Number(values['reuse-epochs']),
};
console.log(`POST /jobs pipeline ${JSON.stringify(params)}`);
const job = await call<{ id: string }>('/jobs', { method: 'POST', body: JSON.stringify({ type: 'pipeline', params }) });
console.log(`job ${job.id}`);

interface JobView {
  state: string;
  progress: number;
  phase: string | null;
  epoch: number | null;
  totalEpochs: number | null;
  error: string | null;
  result: Record<string, string | number | null> | null;
}
let last = '';
let view: JobView;
const started = Date.now();
for (;;) {
  view = await call<JobView>(`/jobs/${job.id}`);
  const line = `${view.state} ${view.progress.toFixed(1).padStart(5)}% ${view.phase ?? ''}${view.epoch ? ` epoch ${view.epoch}/${view.totalEpochs}` : ''}`;
  if (line !== last) console.log(`  [${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  last = line;
  if (['completed', 'failed', 'cancelled'].includes(view.state)) break;
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
if (view.state !== 'completed' || !view.result) throw new Error(`job ${view.state}: ${view.error ?? ''}`);

const r = view.result;
interface Run {
  testAccuracy: number | null;
  wallMs: number | null;
  params: number | null;
  flops: string | number | null;
}
interface ModuleView {
  accuracy: number | null;
  standardAccuracy: number | null;
  accuracyLoss: number | null;
  kernelRetention: number;
  params: number | null;
  flops: string | number | null;
  fullParams: number | null;
  fullFlops: string | number | null;
}
const standard = await call<Run>(`/runs/${r.standardRunId}`);
const modular = await call<Run>(`/runs/${r.modularRunId}`);
const module = await call<ModuleView>(`/modules/${r.moduleId}`);
const modularization = await call<{ krr: number; cohesion: number; coupling: number; wallMs: number }>(`/modularizations/${r.modularizationId}`);
const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const ratio = (a: unknown, b: unknown) => `${a} / ${b} (${pct(Number(a) / Number(b))})`;
const rows: [string, string][] = [
  ['standard accuracy (all classes)', pct(standard.testAccuracy)],
  ['modular accuracy (all classes)', pct(modular.testAccuracy)],
  ['KRR / cohesion / coupling', `${pct(modularization.krr)} / ${modularization.cohesion.toFixed(4)} / ${modularization.coupling.toFixed(4)}`],
  [`module accuracy on {${params.targetClasses.join(',')}}`, pct(module.accuracy)],
  [`standard accuracy on {${params.targetClasses.join(',')}}`, pct(module.standardAccuracy)],
  ['accuracy loss', module.accuracyLoss === null ? 'n/a' : `${(module.accuracyLoss * 100).toFixed(2)} pp`],
  ['module kernels kept', pct(module.kernelRetention)],
  ['module params vs full', ratio(module.params, module.fullParams)],
  ['module FLOPs vs full', ratio(module.flops, module.fullFlops)],
  ['wall time: standard / modular training', `${((standard.wallMs ?? 0) / 1000).toFixed(1)} s / ${((modular.wallMs ?? 0) / 1000).toFixed(1)} s`],
  ['wall time: modularization', `${(modularization.wallMs / 1000).toFixed(1)} s`],
  ['module id', `${r.moduleId} (GET /modules/<id>/download while an API runs; the demo's stops with it)`],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log('');
for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
console.log('');
console.log(`Dashboard: ${base}/ui/jobs/${job.id} (curves, modules, try a module in the browser)`);
