/** The `mwt` CLI end to end: the real bin against a real API process and worker, as a user runs it. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unpackTar } from '@mwt/shared';
import { AUTH_ENV, testApiKey } from '../support/api-client.js';
import { freePort, removeServiceKeys, serviceEnv, startProcess, waitFor, type ServiceProcess } from '../support/processes.js';

const BIN = 'apps/cli/bin/mwt.js';
/** A pipeline on a few hundred digits for one epoch: seconds of training, but every phase. */
const JOB_DEADLINE_MS = 420_000;

let api: ServiceProcess;
let worker: ServiceProcess;
let base: string;
let home: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `mwt args…` with the test's config folder (and no MWT_URL/MWT_KEY unless `env` gives them). */
function start(args: string[], env: Record<string, string> = {}) {
  const { MWT_URL: _url, MWT_KEY: _key, ...rest } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...rest, XDG_CONFIG_HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) => child.once('exit', (code) => resolve({ ...run, code })));
  return { child, run, done };
}

const mwt = (args: string[], env?: Record<string, string>) => start(args, env).done;

async function json<T>(path: string): Promise<T> {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${testApiKey()}` } });
  assert.equal(response.status, 200, path);
  return (await response.json()) as T;
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'mwt-cli-'));
  const port = await freePort();
  const env = { ...serviceEnv(port), ...AUTH_ENV };
  base = `http://127.0.0.1:${port}`;
  api = startProcess('apps/api/src/main.ts', env);
  worker = startProcess('apps/worker/src/main.ts', env);
  await waitFor('the API', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 120_000);
  await waitFor('the worker', async () => (worker.output().includes('worker ready') ? true : undefined), 120_000);
});

after(async () => {
  await worker?.stop();
  await api?.stop();
  await removeServiceKeys();
  await rm(home, { recursive: true, force: true });
});

describe('mwt', () => {
  let jobId: string;
  let result: { modularRunId: string; moduleId: string };

  it('login checks the URL and key, then stores them readable by the user only', async () => {
    const bad = await mwt(['login', '--url', base, '--key', 'mwt_not-a-real-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /401/);

    const ok = await mwt(['login', '--url', `${base}/`, '--key', testApiKey()]);
    assert.equal(ok.code, 0, ok.stderr);
    const file = join(home, 'mwt', 'config.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { url: base, key: testApiKey() });
  });

  it('submit --follow runs a pipeline to completion with a progress line per change, and exits 0', async () => {
    const flags = ['--model', 'simcnn-small', '--epochs', '1', '--batch-size', '32', '--train-limit', '200', '--test-limit', '100'];
    const run = await mwt(['submit', 'pipeline', ...flags, '--target-classes', '0,1', '--reuse-epochs', '1', '--follow']);
    assert.equal(run.code, 0, `${run.stderr}\n--- worker ---\n${worker.output()}`);
    jobId = run.stdout.trim();
    assert.match(jobId, /^[0-9a-f-]{36}$/);
    assert.match(run.stderr, new RegExp(`job ${jobId} completed`));
    assert.match(run.stderr, /\[#+\.*\]\s+\d+\.\d%.*epoch 1\/1/, 'a progress line with the epoch');
    assert.match(run.stderr, /\[#{24}\] 100\.0%/);
    assert.match(run.stderr, /\| e1 loss \d+\.\d{3} train \d+\.\d% test \d+\.\d%/, "the epoch's metrics, from the worker through the event stream");
    const job = await json<{ params: Record<string, unknown>; result: typeof result }>(`/jobs/${jobId}`);
    assert.equal(job.params.trainLimit, 200);
    assert.deepEqual(job.params.targetClasses, [0, 1]);
    result = job.result;
  });

  it("the worker's training samples/s reached GET /metrics through Redis (the same worker and API, seen by an operator)", async () => {
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${testApiKey()}` } });
    assert.equal(response.status, 200);
    const line = (await response.text()).split('\n').find((l) => l.startsWith('mwt_worker_training_samples_per_second{worker='));
    assert.ok(line, 'a samples/s series');
    assert.ok(Number(line.split(' ').at(-1)) > 0, line);
  });

  it("the worker logged the job in pino JSON lines, each naming the worker, the job's lines its jobId", async () => {
    const lines = worker
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string; worker: string; jobId?: string; time: string });
    assert.ok(entries.some((e) => e.msg.startsWith('worker ready')));
    for (const entry of entries) assert.match(entry.worker, /^.+:\d+$/, JSON.stringify(entry));
    const started = entries.find((e) => e.msg === `job ${jobId} started (pipeline)`);
    assert.equal(started?.jobId, jobId);
    assert.equal(started?.level, 30, 'info');
    assert.ok(entries.some((e) => e.jobId === jobId && e.msg === `job ${jobId} finished`));
  });

  it('the worker log honours LOG_LEVEL', async () => {
    // As main.ts makes it: from the process's configuration.
    const script = [
      "const { readConfig } = await import('@mwt/shared');",
      "const { createWorkerLogger } = await import('./apps/worker/src/logger.ts');",
      "const logger = createWorkerLogger(readConfig().logLevel, 'host:1');",
      "logger.info('an info line'); logger.warn('a warning');",
    ].join(' ');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    const messages = out
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    assert.deepEqual(messages, ['a warning']);
  });

  it('jobs lists it in a table', async () => {
    const run = await mwt(['jobs', '--type', 'pipeline']);
    assert.equal(run.code, 0, run.stderr);
    const [header, ...rows] = run.stdout.trim().split('\n');
    assert.match(header, /^ID\s+TYPE\s+STATE\s+PROGRESS/);
    assert.ok(
      rows.some((row) => row.startsWith(jobId) && /\bpipeline\s+completed\s+100%/.test(row)),
      run.stdout,
    );
  });

  it('metrics shows the per-epoch rows, as a table or as JSON', async () => {
    const asJson = await mwt(['metrics', result.modularRunId, '--json']);
    assert.equal(asJson.code, 0, asJson.stderr);
    const rows = JSON.parse(asJson.stdout) as { epoch: number; testAccuracy: number; kernelRate: number }[];
    const expected = await json<{ metrics: unknown[] }>(`/runs/${result.modularRunId}/metrics`);
    assert.deepEqual(rows, expected.metrics);
    assert.deepEqual(
      rows.map((r) => r.epoch),
      [1],
    );

    const asTable = await mwt(['metrics', result.modularRunId]);
    const [header, first] = asTable.stdout.trim().split('\n');
    assert.match(header, /^EPOCH\s+LR\s+LOSS/);
    assert.match(first, new RegExp(`^1\\s.*${rows[0].testAccuracy.toFixed(4)}`));
  });

  it('modules lists the modules cut from the modular run', async () => {
    const run = await mwt(['modules', result.modularRunId, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const modules = JSON.parse(run.stdout) as { id: string; kind: string }[];
    const expected = await json<{ items: { id: string }[] }>(`/runs/${result.modularRunId}/modules`);
    assert.deepEqual(
      modules.map((m) => m.id),
      expected.items.map((m) => m.id),
    );
    assert.ok(modules.length >= 2);
    const table = await mwt(['modules', result.modularRunId]);
    assert.equal(table.stdout.trim().split('\n').length, modules.length + 1);
  });

  it('download unpacks the module archive into a folder, byte for byte', async () => {
    const dir = join(home, 'module');
    const run = await mwt(['download', result.moduleId, dir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /sha256 [0-9a-f]{64} verified/);
    const response = await fetch(`${base}/modules/${result.moduleId}/download`, { headers: { authorization: `Bearer ${testApiKey()}` } });
    const files = await unpackTar(new Uint8Array(await response.arrayBuffer()));
    assert.deepEqual([...files.keys()].sort(), ['metadata.json', 'model.json', 'weights.bin']);
    for (const [name, bytes] of files) assert.deepEqual(new Uint8Array(await readFile(join(dir, name))), bytes, name);
  });

  it('watch: Ctrl-C exits 130 and leaves the job running; a cancelled job exits 1', async () => {
    const file = join(home, 'job.json');
    await writeFile(file, JSON.stringify({ type: 'train-standard', params: { model: 'simcnn-small', epochs: 20, trainLimit: 2000, batchSize: 16 } }));
    const submitted = await mwt(['submit', '--file', file]);
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = submitted.stdout.trim();

    const interrupted = start(['watch', id]);
    const watching = start(['watch', id]);
    await waitFor('a progress line', async () => (interrupted.run.stderr.includes('%') ? true : undefined), 60_000);
    interrupted.child.kill('SIGINT');
    const stopped = await interrupted.done;
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /interrupted/);
    assert.notEqual((await json<{ state: string }>(`/jobs/${id}`)).state, 'cancelled');

    const cancelled = await mwt(['cancel', id]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const watched = await watching.done;
    assert.equal(watched.code, 1, watched.stderr);
    assert.match(watched.stderr, new RegExp(`job ${id} cancelled`));
  });

  it('keys: an admin creates, lists and revokes a key; MWT_URL/MWT_KEY override the stored login', async () => {
    const name = `cli test ${process.pid}-${Date.now()}`;
    const created = await mwt(['keys', 'create', '--name', name, '--scopes', 'read']);
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(secret, /^mwt_/);
    const asReader = { MWT_URL: base, MWT_KEY: secret };
    assert.equal((await mwt(['jobs'], asReader)).code, 0);
    const denied = await mwt(['keys', 'list'], asReader);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /403/);

    const listed = JSON.parse((await mwt(['keys', 'list', '--json'])).stdout) as { id: string; name: string; revokedAt: string | null }[];
    const key = listed.find((k) => k.name === name);
    assert.ok(key);
    assert.equal(key.revokedAt, null);
    const revoked = await mwt(['keys', 'revoke', key.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked at \d{4}-/);
  });

  it('usage errors exit 2', async () => {
    assert.equal((await mwt(['frobnicate'])).code, 2);
    assert.equal((await mwt(['watch'])).code, 2);
  });
});
