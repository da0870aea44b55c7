/**
 * A pipeline interrupted once, in each of its four phases, by SIGKILL (the job's lock expires and
 * another worker takes it over) and by SIGTERM (the job pauses, goes back to the queue, and another
 * worker resumes it), ends exactly as the same pipeline run without interruption: the same job
 * row, runs (all completed), metric rows, modularization, modules and artifact contents (weights
 * byte for byte), apart from timestamps, durations, attempts, request ids and ids (which are mapped to names).
 *
 * The interrupted phase is hit for certain: the test polls the job's row until it shows the phase,
 * freezes the worker (SIGSTOP), checks from the database that the phase has not finished, and only
 * then sends the signal (and SIGCONT, so that a SIGTERM is handled).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPrisma, type PrismaClient } from '@mwt/db';
import { createJobQueue, readConfig, unpackTar, type JobQueue } from '@mwt/shared';
import { AUTH_ENV, apiClient, type Call } from '../support/api-client.js';
import { FAST_RECOVERY_ENV, freePort, GaveUp, serviceEnv, startProcess, startWorker, waitFor, type ServiceProcess } from '../support/processes.js';

const PARAMS = { model: 'simcnn-small', epochs: 2, batchSize: 16, trainLimit: 240, testLimit: 48, seed: 21, targetClasses: [0, 1], reuseEpochs: 2 };
const PHASES = ['train-standard', 'train-modular', 'modularize', 'reuse'] as const;
type Phase = (typeof PHASES)[number];

let env: Record<string, string>;
let api: ServiceProcess;
let http: Call;
let prisma: PrismaClient;
let queue: JobQueue;
/** The idle worker that takes the next job; a new one starts while a job runs, to take it over. */
let idle: Promise<ServiceProcess>;
const workers: ServiceProcess[] = [];
const jobIds: string[] = [];
let baseline: unknown;

function worker(): Promise<ServiceProcess> {
  return startWorker(env).then((w) => (workers.push(w), w));
}

before(async () => {
  const port = await freePort();
  env = { ...serviceEnv(port), ...AUTH_ENV, ...FAST_RECOVERY_ENV };
  const config = readConfig({ ...process.env, ...env });
  prisma = createPrisma(config.databaseUrl);
  queue = createJobQueue(config);
  http = apiClient(`http://127.0.0.1:${port}`);
  api = startProcess('apps/api/src/main.ts', env);
  idle = worker();
  await waitFor('the API', async () => ((await http('GET', '/healthz')).status === 200 ? true : undefined), 60_000);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await api?.stop();
  await prisma.job.deleteMany({ where: { id: { in: jobIds } } });
  await queue.obliterate({ force: true });
  await queue.close();
  await prisma.$disconnect();
});

async function submit(): Promise<string> {
  const created = await http<{ id: string }>('POST', '/jobs', { type: 'pipeline', params: PARAMS });
  assert.equal(created.status, 201);
  jobIds.push(created.body.id);
  return created.body.id;
}

async function completed(jobId: string, output: () => string): Promise<void> {
  const job = await waitFor(
    `job ${jobId} to finish`,
    async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { state: true, error: true } });
      return ['completed', 'failed', 'cancelled'].includes(row.state) ? row : undefined;
    },
    240_000,
    100,
  );
  assert.equal(job.state, 'completed', `${job.error}\n--- workers ---\n${output()}`);
}

async function allRunsCompleted(jobId: string): Promise<void> {
  const runs = await prisma.run.findMany({ where: { jobId }, select: { kind: true, status: true }, orderBy: { kind: 'asc' } });
  assert.deepEqual(runs, [
    { kind: 'modular', status: 'completed' },
    { kind: 'standard', status: 'completed' },
    { kind: 'module', status: 'completed' },
  ]);
}

/** Whether the phase has stored its result (the pipeline is past it). */
async function phaseDone(jobId: string, phase: Phase): Promise<boolean> {
  switch (phase) {
    case 'train-standard':
    case 'train-modular': {
      const kind = phase === 'train-standard' ? 'standard' : 'modular';
      const run = await prisma.run.findUnique({ where: { jobId_kind: { jobId, kind } }, select: { status: true } });
      return run?.status === 'completed';
    }
    case 'modularize':
      return (await prisma.modularization.count({ where: { jobId } })) > 0;
    case 'reuse':
      return (await prisma.module.count({ where: { jobId, kind: 'reused' } })) > 0;
  }
}

/** Waits for the job's row to show `phase`, freezes the worker there, then interrupts it with `signal`. */
async function interrupt(jobId: string, holder: ServiceProcess, phase: Phase, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const pid = holder.child.pid!;
  await waitFor('the first worker to take the job', async () => (holder.output().includes(`job ${jobId} started`) ? true : undefined), 60_000);
  await waitFor(
    `phase ${phase}`,
    async () => {
      const row = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { phase: true, state: true } });
      if (row.state !== 'running' && row.state !== 'queued') throw new GaveUp(`the job is ${row.state} before its ${phase} phase was seen`);
      return row.phase === phase ? true : undefined;
    },
    240_000,
    10,
  );
  process.kill(pid, 'SIGSTOP');
  const missed = await phaseDone(jobId, phase);
  if (missed) process.kill(pid, 'SIGCONT');
  assert.equal(missed, false, `the worker finished ${phase} before it could be frozen in it`);
  const exited = new Promise<number | null>((resolve) => holder.child.once('exit', resolve));
  process.kill(pid, signal);
  if (signal !== 'SIGKILL') process.kill(pid, 'SIGCONT');
  const code = await exited;
  if (signal === 'SIGTERM') assert.equal(code, 0, holder.output());
}

/** Every row the job wrote, with ids replaced by what they name and time-dependent fields left out. */
async function snapshot(jobId: string): Promise<unknown> {
  const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
  const runs = await prisma.run.findMany({ where: { jobId }, include: { metrics: { orderBy: { epoch: 'asc' } }, checkpoint: true } });
  const modularizations = await prisma.modularization.findMany({ where: { jobId } });
  const modules = await prisma.module.findMany({ where: { jobId } });
  const artifacts = await prisma.artifact.findMany({ where: { jobId } });

  const names = new Map<string, string>([[jobId, 'job']]);
  for (const run of runs) {
    names.set(run.id, `run:${run.kind}`);
    for (const m of run.metrics) names.set(m.id, `metric:${run.kind}:${m.epoch}`);
  }
  for (const m of modularizations) names.set(m.id, 'modularization');
  for (const m of modules) names.set(m.id, `module:${m.kind}:${m.classes.join('-')}`);
  const rename = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => names.get(id) ?? id);
  for (const a of artifacts) names.set(a.id, `artifact:${rename(a.fileName)}`);

  const contents = await Promise.all(
    artifacts.map(async (a) => {
      const files: Record<string, unknown> = {};
      for (const [name, bytes] of await unpackTar(a.bytes)) {
        // The weights must be byte-identical; the JSON files are compared field by field (below).
        files[name] = name.endsWith('.json') ? JSON.parse(Buffer.from(bytes).toString('utf8')) : createHash('sha256').update(bytes).digest('hex');
      }
      return { ...a, bytes: files, sha256: undefined };
    }),
  );
  const byName = <T>(rows: T[], name: (row: T) => string) => [...rows].sort((a, b) => name(a).localeCompare(name(b)));
  const tree = {
    job: { ...job, ownerKeyId: undefined, idempotencyKey: undefined, requestHash: undefined },
    runs: byName(runs, (r) => r.kind),
    modularizations,
    modules: byName(modules, (m) => `${m.kind}:${m.classes.join('-')}`),
    artifacts: byName(contents, (a) => rename(a.fileName)),
  };
  return normalize(tree, rename);
}

/**
 * Timestamps, durations and attempts differ between any two runs of a job, and so does the id of the
 * HTTP request that submitted it (X-Request-Id, made per request); they are left out.
 */
const TIME_DEPENDENT = new Set(['createdAt', 'updatedAt', 'startedAt', 'finishedAt', 'dateSaved', 'wallMs', 'durationMs', 'attempts', 'requestId']);

function normalize(value: unknown, rename: (text: string) => string): unknown {
  if (typeof value === 'string') return rename(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return 'date';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map((v) => normalize(v, rename));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, v]) => v !== undefined && !TIME_DEPENDENT.has(key))
        .map(([key, v]) => [key, normalize(v, rename)]),
    );
  }
  return value;
}

/** The paths where two snapshots differ, with both values. */
function differ(actual: unknown, expected: unknown, path = ''): string[] {
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    return [...keys].flatMap((key) => differ((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}/${key}`));
  }
  return Object.is(actual, expected) ? [] : [`${path}: ${JSON.stringify(actual)?.slice(0, 200)} (uninterrupted: ${JSON.stringify(expected)?.slice(0, 200)})`];
}

describe('a pipeline interrupted in each phase', () => {
  it('runs uninterrupted once, for reference', async () => {
    const holder = await idle;
    const jobId = await submit();
    idle = worker();
    await completed(jobId, holder.output);
    assert.equal(await holder.stop(), 0, 'an idle worker exits 0 on SIGTERM');
    baseline = await snapshot(jobId);
    await allRunsCompleted(jobId);
  });

  for (const phase of PHASES) {
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      it(`${signal} during ${phase}: the resumed job stores exactly what the uninterrupted one did`, async () => {
        assert.ok(baseline, 'the reference job ran');
        const holder = await idle;
        const jobId = await submit();
        // The next worker starts while this one runs: it takes the job over after the interruption.
        idle = worker();
        await interrupt(jobId, holder, phase, signal);
        const next = await idle;
        idle = Promise.resolve(next);
        await completed(jobId, () => `${holder.output()}\n---\n${next.output()}`);
        await allRunsCompleted(jobId);
        const differences = differ(await snapshot(jobId), baseline);
        assert.deepEqual(differences, [], `rows that differ from the uninterrupted job's:\n${differences.join('\n')}`);
      });
    }
  }
});
