/**
 * The MwT reproduction report for any dataset and model, as the paper reports it: standard vs
 * modular accuracy, KRR, cohesion and coupling; per sub-task the module's accuracy, KRR, params and
 * FLOPs vs the full model and the standard model's accuracy on it; the threshold study (per
 * threshold: KRR, cohesion, coupling, a 3-class module's accuracy); wall time per phase.
 * A table on stdout, JSON under reports/.
 *
 *   npm run report -- --dataset fashion-mnist --model simcnn-small [--epochs 30] [--batch 128] [--seed 0]
 *     [--thresholds 0.1,0.3,0.5,0.7,0.9] [--subtasks 0,1:2,5,7] [--reuse-epochs 10] [--threshold 0.9]
 *     [--train-limit N] [--test-limit N] [--baseline reference|without-masks] [--standard-lr X]
 *     [--augment none|crop-flip] [--out reports/x.json]
 *
 * `--augment` defaults to the dataset's (crop-flip for cifar10/svhn, none otherwise); it applies to
 * training, modularization and fine-tuning alike, as in the reference.
 *
 * `--baseline reference` trains the reference's standard model (for SimCNN and ResCNN: CNNSplitter's
 * BN-free network); `without-masks` trains the modular architecture without its mask generators
 * (BatchNorm kept), which is the reference's baseline for VGG16 and ResNet18 anyway.
 * `--standard-lr` defaults to the baseline's own: CNNSplitter's 0.01 for the reference's BN-free SimCNN
 * and ResCNN (standardBaselineLr), the paper's lr otherwise.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import {
  augmentSpec,
  augmentSplit,
  buildArchitecture,
  collectSampleMasks,
  createModel,
  defaultAugmentation,
  disposeModel,
  initBackend,
  isDatasetName,
  isModelName,
  loadDataset,
  modularizeMasks,
  PAPER_DEFAULTS,
  reuseForSubTask,
  standardBaselineLr,
  trainModel,
  Trainer,
  withoutMasks,
  type EpochMetrics,
  type Model,
  type Modularization,
  type ReuseReport,
  type TrainConfig,
} from '../src/index.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'mnist' },
    model: { type: 'string', default: 'simcnn-small' },
    epochs: { type: 'string', default: '30' },
    batch: { type: 'string', default: String(PAPER_DEFAULTS.batchSize) },
    seed: { type: 'string', default: '0' },
    threshold: { type: 'string', default: String(PAPER_DEFAULTS.threshold) },
    thresholds: { type: 'string', default: '0.1,0.3,0.5,0.7,0.9' },
    subtasks: { type: 'string', default: '0,1:2,5,7' },
    'reuse-epochs': { type: 'string', default: String(PAPER_DEFAULTS.reuseEpochs) },
    'train-limit': { type: 'string' },
    'test-limit': { type: 'string' },
    baseline: { type: 'string', default: 'reference' },
    'standard-lr': { type: 'string' },
    augment: { type: 'string' },
    out: { type: 'string' },
  },
});

function positiveInt(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${option}: expected a positive integer, got ${text}`);
  return value;
}
const fraction = (option: string, text: string) => {
  const value = Number(text);
  if (!(value > 0 && value <= 1)) throw new Error(`--${option}: expected numbers in (0, 1], got ${text}`);
  return value;
};

if (!isDatasetName(values.dataset)) throw new Error(`--dataset: unknown dataset ${values.dataset}`);
if (!isModelName(values.model)) throw new Error(`--model: unknown model ${values.model}`);
const datasetName = values.dataset;
const modelName = values.model;
const epochs = positiveInt('epochs', values.epochs) as number;
const reuseEpochs = positiveInt('reuse-epochs', values['reuse-epochs']) as number;
const batchSize = positiveInt('batch', values.batch) as number;
const seed = Number(values.seed);
const threshold = fraction('threshold', values.threshold);
const thresholds = values.thresholds.split(',').map((t) => fraction('thresholds', t));
const subTasks = values.subtasks.split(':').map((task) => task.split(',').map(Number));
const trainLimit = positiveInt('train-limit', values['train-limit']);
const baseline = values.baseline;
if (baseline !== 'reference' && baseline !== 'without-masks') throw new Error(`--baseline: expected reference or without-masks, got ${baseline}`);
const standardLr = values['standard-lr'] === undefined ? (baseline === 'reference' ? standardBaselineLr(modelName) : PAPER_DEFAULTS.lr) : Number(values['standard-lr']);
if (!(standardLr > 0)) throw new Error(`--standard-lr: expected a positive number, got ${values['standard-lr']}`);
const augmentKind = values.augment ?? defaultAugmentation(datasetName);
if (augmentKind !== 'none' && augmentKind !== 'crop-flip') throw new Error(`--augment: expected none or crop-flip, got ${augmentKind}`);
const testLimit = positiveInt('test-limit', values['test-limit']);

const startedAt = new Date();
const loadAtStart = loadavg();
const backend = await initBackend();
const dataset = await loadDataset(datasetName, { seed, trainLimit, testLimit });
for (const task of subTasks) {
  if (task.length < 2 || task.some((c) => !Number.isInteger(c) || c < 0 || c >= dataset.numClasses))
    throw new Error(`--subtasks: ${task.join(',')} is not a set of >= 2 classes of ${datasetName}`);
}
const studyTask = subTasks.find((task) => task.length === 3) ?? subTasks[subTasks.length - 1];
console.log(
  `${datasetName}: ${dataset.train.count} train / ${dataset.test.count} test, model ${modelName}, backend ${backend.name}, load ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`,
);

const augment = augmentSpec(augmentKind, dataset.preprocessing);
const config: TrainConfig = {
  epochs,
  batchSize,
  lr: PAPER_DEFAULTS.lr,
  momentum: PAPER_DEFAULTS.momentum,
  nesterov: true,
  weightDecay: PAPER_DEFAULTS.weightDecay,
  alpha: PAPER_DEFAULTS.alpha,
  beta: PAPER_DEFAULTS.beta,
  seed,
  augment,
};
const reuseConfig = { epochs: reuseEpochs, lr: PAPER_DEFAULTS.reuseLr, batchSize, seed, augment };
const logEpoch = (phase: string) => ({
  onEpoch: (m: { epoch: number; testAccuracy: number; loss: number; kernelRate?: number; durationMs: number }) =>
    console.log(
      `  ${phase} epoch ${m.epoch}/${epochs}: test ${(m.testAccuracy * 100).toFixed(2)}%, loss ${m.loss.toFixed(4)}` +
        (m.kernelRate === undefined ? '' : `, kernel rate ${(m.kernelRate * 100).toFixed(1)}%`) +
        ` (${(m.durationMs / 1000).toFixed(1)} s)`,
    ),
});
/** The baseline: the reference's standard network, or the modular one without its mask generators. */
async function trainStandard(): Promise<{ model: Model; history: EpochMetrics[]; wallMs: number }> {
  const standardConfig = { ...config, lr: standardLr };
  if (baseline === 'reference') return trainModel(modelName, dataset, standardConfig, { modular: false, callbacks: logEpoch('standard') });
  const started = performance.now();
  const arch = withoutMasks(buildArchitecture(modelName, dataset.inputShape, dataset.numClasses, { modular: true }));
  const model = createModel(arch, seed);
  const trainer = new Trainer(model, dataset, standardConfig);
  const history = await trainer.run(logEpoch('standard'));
  trainer.dispose();
  return { model, history, wallMs: Math.round(performance.now() - started) };
}
const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const started = performance.now();
  const value = await run();
  return { value, ms: Math.round(performance.now() - started) };
};

console.log(`standard training (${baseline} baseline, lr ${standardLr})`);
const standard = await trainStandard();
console.log('modular training');
const modular = await trainModel(modelName, dataset, config, { modular: true, callbacks: logEpoch('modular') });
console.log('modularizing');
// The sample masks are the expensive part (a pass over the training set); each threshold reuses them.
const masks = await timed(() => collectSampleMasks(modular.model, augmentSplit(dataset.train, dataset.inputShape, augment, seed)));
const modularizeAt = (t: number) => modularizeMasks(masks.value, { threshold: t, numClasses: dataset.numClasses });
const main = await timed(async () => modularizeAt(threshold));
const modularization = main.value;

async function reuse(modz: Modularization, targetClasses: number[]): Promise<{ report: ReuseReport; wallMs: number }> {
  console.log(`reusing modules on {${targetClasses.join(',')}} (threshold ${modz.threshold})`);
  const { module, report, wallMs } = await reuseForSubTask(modular.model, modz, targetClasses, dataset, reuseConfig, { standard: standard.model });
  disposeModel(module);
  return { report, wallMs };
}
const reuses = [];
for (const task of subTasks) reuses.push(await reuse(modularization, task));

const study = [];
for (const t of thresholds) {
  const modz = modularizeAt(t);
  const same = t === threshold && subTasks.some((task) => task === studyTask);
  const result = same ? reuses[subTasks.indexOf(studyTask)] : await reuse(modz, studyTask);
  study.push({
    threshold: t,
    krr: modz.krr,
    cohesion: modz.cohesion,
    coupling: modz.coupling,
    moduleAccuracy: result.report.moduleAccuracy,
    standardAccuracy: result.report.standardAccuracy,
    reuseWallMs: result.wallMs,
  });
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const pp = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)} pp`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const last = <T>(xs: T[]) => xs[xs.length - 1];
const standardAccuracy = last(standard.history).testAccuracy;
const modularAccuracy = last(modular.history).testAccuracy;
const loadAtEnd = loadavg();

const summary: [string, string][] = [
  ['backend', backend.name],
  ['standard baseline', `${baseline === 'reference' ? "the reference's standard network" : 'the modular network without mask generators'}, lr ${standardLr}`],
  [
    'model / data',
    `${modelName}, ${datasetName} ${dataset.train.count}/${dataset.test.count}${trainLimit ? ` (trainLimit ${trainLimit})` : ''}, ${epochs} epochs, batch ${batchSize}, seed ${seed}, augment ${augmentKind}`,
  ],
  ['standard accuracy', pct(standardAccuracy)],
  ['modular accuracy', pct(modularAccuracy)],
  ['accuracy loss (standard - modular)', pp(standardAccuracy - modularAccuracy)],
  ['threshold', String(threshold)],
  [`KRR (mean over ${dataset.numClasses} class modules)`, pct(modularization.krr)],
  ['cohesion', modularization.cohesion.toFixed(4)],
  ['coupling', modularization.coupling.toFixed(4)],
];
const printTable = (title: string, header: string[], rows: string[][]) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
};
printTable('MwT report', ['', ''], summary);
printTable(
  `Sub-tasks (threshold ${threshold}, ${reuseEpochs} fine-tuning epochs, lr ${reuseConfig.lr})`,
  ['classes', 'module acc', 'standard acc', 'loss', 'KRR', 'params vs full', 'FLOPs vs full', 'wall'],
  reuses.map(({ report, wallMs }) => [
    `{${report.targetClasses.join(',')}}`,
    pct(report.moduleAccuracy),
    pct(report.standardAccuracy),
    pp(report.accuracyLoss),
    pct(report.kernelRetention),
    `${report.module.params}/${report.full.params} (${pct(report.module.params / report.full.params)})`,
    `${report.module.flops}/${report.full.flops} (${pct(report.module.flops / report.full.flops)})`,
    seconds(wallMs),
  ]),
);
printTable(
  `Threshold study (module on {${studyTask.join(',')}})`,
  ['threshold', 'KRR', 'cohesion', 'coupling', 'module acc', 'standard acc'],
  study.map((s) => [String(s.threshold), pct(s.krr), s.cohesion.toFixed(4), s.coupling.toFixed(4), pct(s.moduleAccuracy), pct(s.standardAccuracy)]),
);
const phases: [string, number][] = [
  ['standard training', standard.wallMs],
  ['modular training', modular.wallMs],
  ['modularization: sample masks', masks.ms],
  ['modularization: modules and metrics', main.ms],
  ...reuses.map(({ report, wallMs }): [string, number] => [`reuse {${report.targetClasses.join(',')}}`, wallMs]),
];
printTable(
  'Wall time per phase',
  ['phase', 'time'],
  phases.map(([p, ms]) => [p, seconds(ms)]),
);
console.log(`\nload average: ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at start, ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')} at end`);

const [pair] = reuses.filter(({ report }) => report.targetClasses.length === 2);
const targets: [string, boolean][] = [
  ['accuracy loss <= 1.5 pp', standardAccuracy - modularAccuracy <= 0.015],
  ['KRR <= 40%', modularization.krr <= 0.4],
  ['cohesion > coupling', modularization.cohesion > modularization.coupling],
];
if (pair) targets.push([`{${pair.report.targetClasses.join(',')}} module within 1 pp of the standard model`, (pair.report.accuracyLoss ?? 1) <= 0.01]);
console.log('');
for (const [target, met] of targets) console.log(`${met ? 'met   ' : 'MISSED'}  ${target}`);

const out = values.out ?? `reports/${datasetName}-${modelName}-e${epochs}${trainLimit ? `-n${trainLimit}` : ''}.json`;
mkdirSync(dirname(out), { recursive: true });
const report = {
  command: `npm run report -- ${process.argv.slice(2).join(' ')}`,
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  loadAverage: { start: loadAtStart, end: loadAtEnd },
  backend: backend.name,
  dataset: { name: datasetName, train: dataset.train.count, test: dataset.test.count, trainLimit: trainLimit ?? null, testLimit: testLimit ?? null },
  model: modelName,
  baseline,
  config: { ...config, augment: augmentKind, standardLr, reuse: { ...reuseConfig, augment: augmentKind } },
  standard: { accuracy: standardAccuracy, history: standard.history },
  modular: { accuracy: modularAccuracy, history: modular.history },
  accuracyLoss: standardAccuracy - modularAccuracy,
  modularization: {
    threshold,
    krr: modularization.krr,
    cohesion: modularization.cohesion,
    coupling: modularization.coupling,
    modules: modularization.modules.map((m) => ({ classId: m.classId, keptKernels: m.keptKernels, retention: m.retention })),
  },
  subTasks: reuses.map(({ report, wallMs }) => ({ ...report, wallMs })),
  thresholdStudy: { targetClasses: studyTask, rows: study },
  wallMs: Object.fromEntries(phases),
  targets: Object.fromEntries(targets),
};
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`JSON: ${out}`);
disposeModel(standard.model);
disposeModel(modular.model);
