/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core) against a real API
 * and worker with authentication on: sign in; submit a small pipeline job from the form (after a 400
 * shown next to its field); follow it live to completion; its curves hold the API's values; the
 * modularization's heatmap; and a module, fetched and run in the browser, classifies a test digit
 * as the same module does in Node.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadLayersModel, loadMnistPixels, normalizeInterleaved, readJsonFile, type ArtifactMetadata } from '@mwt/core';
import { unpackTar } from '@mwt/shared';
import { AUTH_ENV, apiClient, testApiKey, type Call } from '../support/api-client.js';
import { freePort, GaveUp, removeServiceKeys, serviceEnv, startProcess, waitFor, type ServiceProcess } from '../support/processes.js';
import { setupBackend } from '../support/tf.js';
import { greyPng } from './png.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const missing = !existsSync(CHROMIUM)
  ? `no ${CHROMIUM}: install Debian's chromium (scripts/prepare.sh does, as root with apt) to run the dashboard's browser tests`
  : !existsSync('apps/ui/dist/index.html')
    ? 'apps/ui/dist is not built: run `npm run build:ui` (scripts/prepare.sh does)'
    : null;
if (missing) console.log(`[test/ui] skipped: ${missing}`);

/** Small enough for a couple of minutes on two busy cores, big enough for every phase and series. */
const PIPELINE = { dataset: 'mnist', epochs: '2', batchSize: '32', trainLimit: '300', testLimit: '200', seed: '5', targetClasses: '0,1', reuseEpochs: '1' };

// In-page expressions (strings: this project's TypeScript has no DOM types outside apps/ui).
/** The text of a fact (<dt>name</dt><dd>value</dd>) on the page. */
const fact = (name: string, scope = '') =>
  `[...document.querySelectorAll('${scope} .facts dt')].find((dt) => dt.textContent === ${JSON.stringify(name)})?.nextElementSibling?.textContent ?? null`;
/** The job page's state badge, progress bar and epoch counter. */
const LIVE_VIEW = `({
  state: document.querySelector('h1 .badge')?.textContent ?? '',
  percent: document.querySelector('.live progress')?.value ?? null,
  epoch: ${fact('Epoch', '.live')},
})`;
/** What each uPlot chart holds: [epochs, series 1, series 2, ...], by the series' key. */
const CHART_DATA = `Object.fromEntries([...document.querySelectorAll('[data-chart]')].map((el) => [el.getAttribute('data-chart'), el.uplot.data]))`;

interface JobView {
  id: string;
  state: string;
  runs: string[];
  modularizations: string[];
  result: Record<string, string | number | null> | null;
}
type Metric = Record<string, number | null>;

describe('the dashboard in headless Chromium', { skip: missing ?? false }, () => {
  let api: ServiceProcess;
  let worker: ServiceProcess;
  let base: string;
  let call: Call;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let jobId: string;
  let job: JobView;

  before(async () => {
    await setupBackend();
    const port = await freePort();
    const env = { ...serviceEnv(port), ...AUTH_ENV };
    base = `http://127.0.0.1:${port}`;
    call = apiClient(base);
    api = startProcess('apps/api/src/main.ts', env);
    worker = startProcess('apps/worker/src/main.ts', env);
    await waitFor('the API', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 60_000);
    await waitFor('the worker', async () => (worker.output().includes('worker ready') ? true : undefined), 60_000);
    profile = await mkdtemp(join(tmpdir(), 'mwt-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 900 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(60_000);
  });

  after(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await worker?.stop();
    await api?.stop();
    await removeServiceKeys();
  });

  it('signs in with an API key, kept in sessionStorage and out of the URL', async () => {
    await page.goto(`${base}/ui/`);
    await page.fill('#api-key', 'mwt_not-a-key');
    await page.click('button[type=submit]');
    assert.match((await page.textContent('#key-error')) ?? '', /did not accept/);
    await page.fill('#api-key', testApiKey());
    await page.click('button[type=submit]');
    await page.waitForSelector('h1:text("Jobs")');
    assert.ok(!page.url().includes(testApiKey()));
    assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('mwt.apiKey')"), testApiKey());
    assert.equal(await page.evaluate<number>('localStorage.length'), 0);
  });

  it("submits a pipeline job from the form, after showing the API's 400 next to its field", async () => {
    await page.click('button:text("New job")');
    await page.waitForSelector('#field-epochs');
    assert.equal(await page.inputValue('#field-type'), 'pipeline');
    await page.fill('#field-epochs', '9999');
    await page.click('button:text("Submit job")');
    assert.match((await page.textContent('#field-epochs-error')) ?? '', /params\/epochs must be <= 500/);
    for (const [field, value] of Object.entries(PIPELINE)) {
      if (field === 'dataset') await page.selectOption(`#field-${field}`, value);
      else await page.fill(`#field-${field}`, value);
    }
    await page.click('button:text("Submit job")');
    await page.waitForURL(/\/ui\/jobs\/[0-9a-f-]{36}$/);
    jobId = page.url().split('/').at(-1) ?? '';
    const stored = await call<{ params: Record<string, unknown> }>('GET', `/jobs/${jobId}`);
    assert.equal(stored.status, 200);
    assert.equal(stored.body.params.epochs, 2);
    assert.deepEqual(stored.body.params.targetClasses, [0, 1]);
  });

  it("follows the running job's progress live to completion", async () => {
    const seen = { percents: new Set<number>(), epochs: new Set<string>() };
    await waitFor(
      'the job to complete on the page',
      async () => {
        const view = await page.evaluate<{ state: string; percent: number | null; epoch: string | null }>(LIVE_VIEW);
        if (view.percent !== null && view.percent > 0 && view.percent < 100) seen.percents.add(Math.round(view.percent));
        if (view.epoch && /^\d+ \/ \d+$/.test(view.epoch)) seen.epochs.add(view.epoch);
        if (view.state === 'failed') throw new GaveUp(`job failed:\n${worker.output()}`);
        return view.state === 'completed' ? true : undefined;
      },
      300_000,
      100,
    );
    assert.ok(seen.percents.size >= 3, `saw progress ${[...seen.percents].join(', ')}`);
    assert.ok(seen.epochs.size >= 1, 'saw the epoch counter');
    job = (await call<JobView>('GET', `/jobs/${jobId}`)).body;
    assert.equal(job.state, 'completed');
    assert.equal(await page.$('.live'), null, 'the live section goes once the job is finished');
  });

  it("draws every series' curve with the API's values, one line per run", async () => {
    const metrics = await Promise.all(job.runs.map(async (id) => (await call<{ metrics: Metric[] }>('GET', `/runs/${id}/metrics`)).body.metrics));
    const keys = ['trainAccuracy', 'testAccuracy', 'ceLoss', 'loss', 'cohesionLoss', 'couplingLoss', 'kernelRate', 'batchCohesion', 'batchCoupling'];
    // Polled with evaluate: waitForFunction's string form runs through eval, which the page's CSP forbids.
    const drawn = `document.querySelector('[data-chart="testAccuracy"]')?.uplot?.series.length === ${job.runs.length + 1} || undefined`;
    await waitFor('every run in the charts', () => page.evaluate<true | undefined>(drawn), 30_000);
    const charts = await page.evaluate<Record<string, (number | null)[][]>>(CHART_DATA);
    assert.deepEqual(Object.keys(charts).sort(), [...keys].sort(), 'one chart per series');
    for (const key of keys) {
      const epochs = [...new Set(metrics.flatMap((rows) => rows.map((m) => Number(m.epoch))))].sort((a, b) => a - b);
      const expected = [epochs, ...metrics.map((rows) => epochs.map((e) => rows.find((m) => m.epoch === e)?.[key] ?? null))];
      assert.deepEqual(charts[key], expected, key);
    }
  });

  it('shows the modularization: its figures and a heatmap row per class module', async () => {
    const id = String(job.result?.modularizationId);
    await page.goto(`${base}/ui/modularizations/${id}`);
    await page.waitForSelector('#heatmap');
    const modz = (await call<{ krr: number }>('GET', `/modularizations/${id}`)).body;
    const krr = await page.evaluate<string | undefined>(fact('KRR'));
    assert.equal(krr, `${(modz.krr * 100).toFixed(1)} %`);
    assert.equal(await page.locator('details table tbody tr').count(), 10);
  });

  for (const which of ['reused', 'class'] as const) {
    it(`classifies a test digit in the browser as the same ${which} module does in Node`, async () => {
      const modules = (await call<{ items: { id: string; kind: string; classes: number[] }[] }>('GET', `/runs/${job.result?.modularRunId}/modules`)).body.items;
      const module = which === 'reused' ? modules.find((m) => m.id === job.result?.moduleId) : modules.find((m) => m.kind === 'class' && m.classes[0] === 7);
      assert.ok(module, `a ${which} module`);
      const digitClass = module.classes.at(-1);
      const { pixels, labels } = await loadMnistPixels();
      const index = labels.findLastIndex((label) => label === digitClass);
      const digit = pixels.subarray(index * 784, (index + 1) * 784);

      // Node: the downloaded module with plain tfjs, the digit with the module's own preprocessing.
      const archive = await fetch(`${base}/modules/${module.id}/download`, { headers: { authorization: `Bearer ${testApiKey()}` } });
      const files = await unpackTar(new Uint8Array(await archive.arrayBuffer()));
      const metadata = readJsonFile<ArtifactMetadata>(files, 'metadata.json');
      const model = await loadLayersModel(files);
      const scores = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(normalizeInterleaved(digit, metadata.preprocessing), [1, 28, 28, 1])) as tf.Tensor2D).dataSync());
      model.dispose();
      const best = scores.indexOf(Math.max(...scores));

      await page.goto(`${base}/ui/modules/${module.id}`);
      await page.setInputFiles('#image-file', { name: `digit-${digitClass}.png`, mimeType: 'image/png', buffer: greyPng(digit, 28, 28) });
      const prediction = page.locator('#prediction');
      await prediction.waitFor();
      assert.equal(Number(await prediction.getAttribute('data-class')), metadata.outputClasses[best]);
      const score = Number(await prediction.getAttribute('data-score'));
      assert.ok(Math.abs(score - scores[best]) < 1e-4, `browser ${score}, Node ${scores[best]}`);
    });
  }
});
