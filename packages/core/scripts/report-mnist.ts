/**
 * The MwT report on the 10,000 bundled MNIST digits: standard training, modular training,
 * modularization, and module reuse on {0,1} and on a 3-class sub-task, with one table at the end.
 *
 *   npm run report:mnist -- [--model simcnn-small] [--epochs 25] [--reuse-epochs 5] [--batch 64] [--json out.json]
 *
 * Why 25 epochs at batch 64 rather than the paper's 200 at 128: kernels switch off gradually, over
 * optimizer steps, and 8,000 digits at batch 128 make 63 steps an epoch. Measured on simcnn-small,
 * KRR after 10 epochs at batch 128 was 60%, after 30 epochs 38%; 25 epochs at batch 64 (3,125
 * steps) reach 33% at the same accuracy. Everything else is the paper's (lr, momentum, alpha, beta,
 * threshold).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  disposeModel,
  initBackend,
  isModelName,
  loadDataset,
  modularizeModel,
  PAPER_DEFAULTS,
  reuseForSubTask,
  trainModel,
  type TrainConfig,
} from '../src/index';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'simcnn-small' },
    epochs: { type: 'string', default: '25' },
    'reuse-epochs': { type: 'string', default: '5' },
    batch: { type: 'string', default: '64' },
    threshold: { type: 'string', default: String(PAPER_DEFAULTS.threshold) },
    seed: { type: 'string', default: '0' },
    json: { type: 'string' },
  },
});
if (!isModelName(values.model)) throw new Error(`--model: unknown model ${values.model}`);
const modelName = values.model;
const epochs = Number(values.epochs);
const reuseEpochs = Number(values['reuse-epochs']);
const seed = Number(values.seed);

const backend = await initBackend();
const dataset = await loadDataset('mnist', { seed });
console.log(`MNIST: ${dataset.train.count} train / ${dataset.test.count} test digits, model ${modelName}, backend ${backend.name}`);

const config: TrainConfig = {
  epochs,
  batchSize: Number(values.batch),
  lr: PAPER_DEFAULTS.lr,
  momentum: PAPER_DEFAULTS.momentum,
  nesterov: true,
  weightDecay: 0,
  alpha: PAPER_DEFAULTS.alpha,
  beta: PAPER_DEFAULTS.beta,
  seed,
};
const logEpoch = (phase: string) => ({
  onEpoch: (m: { epoch: number; testAccuracy: number; loss: number; kernelRate?: number; durationMs: number }) =>
    console.log(
      `  ${phase} epoch ${m.epoch}/${epochs}: test ${(m.testAccuracy * 100).toFixed(2)}%, loss ${m.loss.toFixed(4)}` +
        (m.kernelRate === undefined ? '' : `, kernel rate ${(m.kernelRate * 100).toFixed(1)}%`) +
        ` (${(m.durationMs / 1000).toFixed(1)} s)`,
    ),
});

console.log('standard training');
const standard = await trainModel(modelName, dataset, config, { modular: false, callbacks: logEpoch('standard') });
console.log('modular training');
const modular = await trainModel(modelName, dataset, config, { modular: true, callbacks: logEpoch('modular') });
console.log('modularizing');
const modularization = await modularizeModel(modular.model, dataset, Number(values.threshold));

const subTasks = [[0, 1], [2, 5, 7]];
const reuses = [];
for (const targetClasses of subTasks) {
  console.log(`reusing modules on {${targetClasses.join(',')}}`);
  const reuse = await reuseForSubTask(modular.model, modularization, targetClasses, dataset, { epochs: reuseEpochs, lr: 0.01, batchSize: 64, seed }, { standard: standard.model });
  disposeModel(reuse.module);
  reuses.push(reuse);
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const last = <T>(xs: T[]) => xs[xs.length - 1];
const modelLoss = last(standard.history).testAccuracy - last(modular.history).testAccuracy;
const rows: [string, string][] = [
  ['backend', backend.name],
  ['model / data', `${modelName}, MNIST ${dataset.train.count}/${dataset.test.count}, ${epochs} epochs, batch ${config.batchSize}`],
  ['standard accuracy (10 classes)', pct(last(standard.history).testAccuracy)],
  ['modular accuracy (10 classes)', pct(last(modular.history).testAccuracy)],
  ['accuracy loss (standard - modular)', `${(modelLoss * 100).toFixed(2)} pp`],
  ['threshold', String(modularization.threshold)],
  ['KRR (mean over 10 class modules)', pct(modularization.krr)],
  ['cohesion', modularization.cohesion.toFixed(4)],
  ['coupling', modularization.coupling.toFixed(4)],
];
for (const { report, wallMs } of reuses) {
  const task = `{${report.targetClasses.join(',')}}`;
  rows.push(
    [`${task} module accuracy`, pct(report.moduleAccuracy)],
    [`${task} standard accuracy`, pct(report.standardAccuracy)],
    [`${task} accuracy loss`, report.accuracyLoss === null ? 'n/a' : `${(report.accuracyLoss * 100).toFixed(2)} pp`],
    [`${task} module kernels kept`, `${report.keptKernels}/${report.totalKernels} (${pct(report.kernelRetention)})`],
    [`${task} module params vs full`, `${report.module.params} / ${report.full.params} (${pct(report.module.params / report.full.params)})`],
    [`${task} module FLOPs vs full`, `${report.module.flops} / ${report.full.flops} (${pct(report.module.flops / report.full.flops)})`],
    [`${task} wall time (build + fine-tune)`, seconds(wallMs)],
  );
}
rows.push(
  ['wall time: standard training', seconds(standard.wallMs)],
  ['wall time: modular training', seconds(modular.wallMs)],
  ['wall time: modularization', seconds(modularization.wallMs)],
);
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`\n${'-'.repeat(width + 40)}`);
for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);

// The targets this report is held to (the issue's, after the paper's headline results).
const [pair] = reuses;
const worstLoss = Math.max(modelLoss, ...reuses.map(({ report }) => report.accuracyLoss ?? 0));
const targets: [string, boolean][] = [
  ['accuracy loss <= 1.5 pp (model and every sub-task)', worstLoss <= 0.015],
  ['KRR <= 35%', modularization.krr <= 0.35],
  ['cohesion > coupling', modularization.cohesion > modularization.coupling],
  ['{0,1} module accuracy >= 99%', pair.report.moduleAccuracy >= 0.99],
];
console.log('');
for (const [target, met] of targets) console.log(`${met ? 'met   ' : 'MISSED'}  ${target}`);
if (values.json) writeFileSync(values.json, JSON.stringify({ ...Object.fromEntries(rows), targets: Object.fromEntries(targets) }, null, 2));
disposeModel(standard.model);
disposeModel(modular.model);
