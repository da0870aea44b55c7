/**
 * The API as a user meets it, against a real API process and worker: a client generated from the live
 * OpenAPI document (openapi-typescript + openapi-fetch) compiles under `tsc --strict` and drives a
 * pipeline job to completion, reading `result.moduleId` without a cast; then the README's "Using a
 * downloaded module" snippet, taken verbatim from README.md, classifies the job's test digits with the
 * module it downloaded and gets the accuracy the job reported.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { loadDataset, subsetClasses } from '@mwt/core';
import { unpackTar } from '@mwt/shared';
import { testApiKey } from '../support/api-client.js';
import { startWorker, type ServiceProcess } from '../support/processes.js';
import { startTestApi, type TestApi } from '../support/test-api.js';

const run = promisify(execFile);
const REPO = resolve('.');
const bin = (name: string) => join(REPO, 'node_modules', '.bin', name);

/** Small enough to train in seconds, but every phase; no testLimit, so the module is scored on every test digit of its classes. */
const PARAMS = { dataset: 'mnist', model: 'simcnn-small', epochs: 2, batchSize: 32, trainLimit: 1000, seed: 3, targetClasses: [0, 1], reuseEpochs: 2 } as const;
const REQUEST_ID = 'generated-client-pipeline-1';

/** The program a user writes against the generated types: no casts, no `any`. */
const CLIENT = `
import createClient from 'openapi-fetch';
import type { components, paths } from './api';

type Job = components['schemas']['Job'];
const [baseUrl, key] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${key}\` } });

const submitted = await client.POST('/jobs', {
  params: { header: { 'X-Request-Id': ${JSON.stringify(REQUEST_ID)} } },
  body: { type: 'pipeline', params: ${JSON.stringify(PARAMS)} },
});
if (!submitted.data) throw new Error(\`submit: \${submitted.response.status} \${submitted.error?.message}\`);
let job: Job = submitted.data;
while (job.state === 'queued' || job.state === 'running') {
  await new Promise((done) => setTimeout(done, 500));
  const { data, error } = await client.GET('/jobs/{id}', { params: { path: { id: job.id } } });
  if (!data) throw new Error(error.message);
  job = data;
}
if (job.type !== 'pipeline' || job.state !== 'completed' || job.result === null) throw new Error(\`the job ended \${job.state}: \${job.error}\`);
// Narrowed by \`type\`: a pipeline's result, every field typed.
const { moduleId, moduleAccuracy, modularRunId } = job.result;
const epochs: number | undefined = job.params.epochs;
const module = await client.GET('/modules/{id}', { params: { path: { id: moduleId } } });
if (!module.data) throw new Error(module.error.message);
const metrics = await client.GET('/runs/{id}/metrics', { params: { path: { id: modularRunId } } });
const download = await client.GET('/modules/{id}/download', { params: { path: { id: moduleId } }, parseAs: 'arrayBuffer' });
console.log(JSON.stringify({
  jobId: job.id, requestId: job.requestId, epochs, moduleId, moduleAccuracy, classes: module.data.classes,
  metricEpochs: metrics.data?.metrics.map((m) => m.epoch), contentType: download.response.headers.get('content-type'), bytes: download.data?.byteLength,
}));
`;

interface ClientOutput {
  jobId: string;
  requestId: string | null;
  epochs: number;
  moduleId: string;
  moduleAccuracy: number;
  classes: number[];
  metricEpochs: number[];
  contentType: string;
  bytes: number;
}

let service: TestApi;
let worker: ServiceProcess;
let dir: string;
let output: ClientOutput;

before(async () => {
  service = await startTestApi();
  worker = await startWorker(service.env);
  dir = await mkdtemp(join(tmpdir(), 'mwt-client-'));
  // The generated client and the snippet resolve openapi-fetch, tsx and @tensorflow/tfjs from the repository.
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
});

after(async () => {
  await worker?.stop();
  await service?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a client generated from /docs/json', () => {
  it('compiles under tsc --strict and drives a pipeline job to completion', async () => {
    const base = `http://127.0.0.1:${service.env.PORT}`;
    const doc = await fetch(`${base}/docs/json`);
    assert.equal(doc.status, 200);
    await writeFile(join(dir, 'openapi.json'), await doc.text());
    // --default-non-nullable false: a param with a default may be left out of a request (as the README says).
    await run(bin('openapi-typescript'), ['openapi.json', '--default-non-nullable', 'false', '-o', 'api.d.ts'], { cwd: dir });
    await writeFile(join(dir, 'client.mts'), CLIENT);
    const tsc = await run(
      bin('tsc'),
      ['--strict', '--noEmit', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--types', 'node', '--skipLibCheck', 'client.mts'],
      { cwd: dir },
    ).catch((error: { stdout: string }) => assert.fail(`tsc --strict:\n${error.stdout}`));
    assert.equal(tsc.stdout, '');

    const client = await run(process.execPath, ['--import', 'tsx', 'client.mts', base, testApiKey()], { cwd: dir, timeout: 420_000 }).catch((error: { stderr: string }) =>
      assert.fail(`${error.stderr}\n--- worker output ---\n${worker.output()}`),
    );
    output = JSON.parse(client.stdout.trim().split('\n').at(-1) ?? '') as ClientOutput;
    assert.match(output.moduleId, /^[0-9a-f-]{36}$/);
    assert.equal(output.requestId, REQUEST_ID, 'the job shows the X-Request-Id it was submitted with');
    assert.equal(output.epochs, PARAMS.epochs);
    assert.deepEqual(output.classes, [0, 1]);
    assert.deepEqual(output.metricEpochs, [1, 2]);
    assert.equal(output.contentType, 'application/x-tar', 'served as documented');
    assert.ok(output.bytes > 1000);
    // A module that learned (seeded: 96% here), so that a wrong input transform in the snippet shows.
    assert.ok(output.moduleAccuracy > 0.8, `module accuracy ${output.moduleAccuracy}`);
  });
});

describe("the README's module snippet", () => {
  it('classifies the test digits with the accuracy the job reported, in plain @tensorflow/tfjs', async () => {
    assert.ok(output, 'the pipeline job ran');
    const readme = await readFile('README.md', 'utf8');
    const snippet = /<!-- module-snippet:start -->\n```js\n([\s\S]*?)```\n<!-- module-snippet:end -->/.exec(readme)?.[1];
    assert.ok(snippet, 'README.md has the snippet between its markers');

    // As the README says: mkdir module && tar xf module.tar -C module.
    const response = await fetch(`http://127.0.0.1:${service.env.PORT}/modules/${output.moduleId}/download`, { headers: { authorization: `Bearer ${testApiKey()}` } });
    assert.equal(response.status, 200);
    const files = await unpackTar(new Uint8Array(await response.arrayBuffer()));
    await mkdir(join(dir, 'module'));
    for (const [name, bytes] of files) await writeFile(join(dir, 'module', name), bytes);
    await writeFile(join(dir, 'use-module.mjs'), snippet);

    // The job's test digits of classes 0 and 1, as raw 0..255 pixels (the loader's normalization undone:
    // it maps each byte through (p * scale - mean) / std, so rounding recovers the byte exactly).
    const data = await loadDataset('mnist', { seed: PARAMS.seed, trainLimit: PARAMS.trainLimit });
    const test = subsetClasses(data.test, [0, 1], false);
    const meta = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as {
      preprocessing: { scale: number; mean: number[]; std: number[] };
      input: { transform: string[] };
      metrics: { accuracy: number };
    };
    const { scale, mean, std } = meta.preprocessing;
    assert.deepEqual(meta.input.transform, [`x = (pixel / 255 - ${mean[0]}) / ${std[0]}`], 'the metadata states the transform over raw pixels');
    assert.ok(Math.abs(meta.metrics.accuracy - output.moduleAccuracy) < 1e-9, 'the metadata carries the accuracy the job reported');
    const pixels = Uint8Array.from(test.images, (x) => Math.round((x * std[0] + mean[0]) / scale));
    await writeFile(join(dir, 'pixels.bin'), pixels);

    const driver = [
      "import { readFile } from 'node:fs/promises';",
      "import { classify } from './use-module.mjs';",
      "const pixels = new Uint8Array(await readFile('pixels.bin'));",
      `console.log(JSON.stringify(classify(pixels, ${test.count})));`,
    ].join('\n');
    const classified = await run(process.execPath, ['--input-type=module', '-e', driver], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    const predicted = JSON.parse(classified.stdout.trim().split('\n').at(-1) ?? '[]') as number[];
    assert.equal(predicted.length, test.count);
    const correct = predicted.filter((label, i) => label === test.labels[i]).length;
    const accuracy = correct / test.count;
    // The worker's backend and tfjs' cpu backend may round a borderline digit differently.
    assert.ok(Math.abs(accuracy - output.moduleAccuracy) <= 1 / test.count + 1e-9, `measured ${accuracy}, reported ${output.moduleAccuracy} (${test.count} digits)`);
  });
});
