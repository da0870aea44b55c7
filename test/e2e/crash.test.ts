/**
 * Workers that die or are stopped mid-training, as real processes: SIGKILL, twice (each time another
 * worker takes the job over once its lock expires and resumes from the last epoch checkpoint, as
 * MWT_MAX_STALLED_COUNT allows) and SIGTERM (the job pauses at a batch boundary, is checkpointed
 * mid-epoch and goes back to the queue; the process exits 0). Either way the job completes once, with one metric row per epoch and each module once.
 * And a job that cannot work (its dataset files are missing) fails at once instead of retrying.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Queue } from 'bullmq';
import { checkpointPosition } from '@mwt/core';
import type { PrismaClient } from '@mwt/db';
import type { QueuedJob } from '@mwt/shared';
import type { Call, JobView } from '../support/api-client.js';
import { failedInQueue, FAST_RECOVERY_ENV, GaveUp, startWorker, waitFor, type ServiceProcess } from '../support/processes.js';
import { startTestApi, type TestApi } from '../support/test-api.js';

let service: TestApi | undefined;
let env: Record<string, string>;
/** An empty MWT_DATA_DIR: MNIST is bundled, CIFAR-10 and SVHN files are missing. */
const dataDir = mkdtempSync(join(tmpdir(), 'mwt-no-data-'));
let http: Call;
let prisma: PrismaClient;
let queue: Queue<QueuedJob>;
const workers: ServiceProcess[] = [];
const jobIds: string[] = [];

before(async () => {
  service = await startTestApi({ ...FAST_RECOVERY_ENV, MWT_DATA_DIR: dataDir });
  ({ env, http, prisma, queue } = service);
});

// Each test starts its own workers: one left over would take the next test's job.
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

after(async () => {
  await service?.stop(jobIds);
  rmSync(dataDir, { recursive: true, force: true });
});

async function worker(): Promise<ServiceProcess> {
  const started = await startWorker(env);
  workers.push(started);
  return started;
}

const nameOf = (w: ServiceProcess) => `${hostname()}:${w.child.pid}`;

async function submit(type: string, params: Record<string, unknown>): Promise<string> {
  const created = await http<{ id: string }>('POST', '/jobs', { type, params });
  assert.equal(created.status, 201);
  jobIds.push(created.body.id);
  return created.body.id;
}

/** Polls the job until it completes, collecting every message it showed on the way. */
async function completion(jobId: string, by: ServiceProcess): Promise<{ job: JobView; messages: Set<string> }> {
  const messages = new Set<string>();
  const job = await waitFor(
    `job ${jobId} to complete`,
    async () => {
      const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
      if (body.message) messages.add(body.message);
      if (body.state === 'failed') throw new GaveUp(`job failed: ${body.error}`);
      return body.state === 'completed' ? body : undefined;
    },
    300_000,
    150,
  ).catch((error: Error) => assert.fail(`${error.message}\n--- worker output ---\n${by.output()}`));
  return { job, messages };
}

async function epochsOf(runId: string): Promise<number[]> {
  const { body } = await http<{ metrics: { epoch: number }[] }>('GET', `/runs/${runId}/metrics`);
  return body.metrics.map((m) => m.epoch);
}

async function runOf(jobId: string, kind: 'modular' | 'standard' | 'module') {
  return prisma.run.findUnique({ where: { jobId_kind: { jobId, kind } } });
}

describe('workers killed with SIGKILL in the middle of a pipeline, twice', () => {
  it('each loses at most the epoch it was in: the next worker resumes, and every metric and module is stored once', async () => {
    const params = { model: 'simcnn-small', epochs: 5, batchSize: 32, trainLimit: 400, testLimit: 100, seed: 11, targetClasses: [0, 1], reuseEpochs: 2 };
    const jobId = await submit('pipeline', params);
    // In the second of the pipeline's two trainings, once its checkpoint of an epoch is stored (an
    // epoch's metrics are written just before its checkpoint: a kill in between redoes that epoch).
    const modularCheckpoint = async () => (await prisma.checkpoint.findFirst({ where: { run: { jobId, kind: 'modular' } }, select: { epoch: true } }))?.epoch ?? 0;
    const killAfterEpoch = async (w: ServiceProcess, epoch: number): Promise<number> => {
      await waitFor(`modular epoch ${epoch}`, async () => (await modularCheckpoint()) >= epoch || undefined, 300_000, 50);
      await w.stop('SIGKILL');
      const checkpoint = await modularCheckpoint();
      assert.ok(checkpoint >= epoch && checkpoint < params.epochs, `killed after epoch ${checkpoint}`);
      return checkpoint;
    };
    const first = await worker();
    const firstCheckpoint = await killAfterEpoch(first, 2);
    // The second loss of the same job: within MWT_MAX_STALLED_COUNT (2), so it is resumed again, not failed.
    const second = await worker();
    const secondCheckpoint = await killAfterEpoch(second, firstCheckpoint + 1);

    const third = await worker();
    const { job, messages } = await completion(jobId, third);
    assert.ok(messages.has(`resuming after epoch ${secondCheckpoint}`), `messages: ${[...messages].join(' | ')}`);
    assert.equal(job.attempts, 3, 'one start per worker');
    const bull = await queue.getJob(jobId);
    assert.equal(bull?.processedBy, nameOf(third), 'BullMQ records the worker that finished it');
    assert.match(first.output(), new RegExp(`job ${jobId} started`));
    assert.match(second.output(), new RegExp(`job ${jobId} started`));

    const [standard, modular, module] = await Promise.all((['standard', 'modular', 'module'] as const).map((kind) => runOf(jobId, kind)));
    assert.ok(standard && modular && module);
    assert.deepEqual(await epochsOf(standard.id), [1, 2, 3, 4, 5]);
    assert.deepEqual(await epochsOf(modular.id), [1, 2, 3, 4, 5]);
    assert.deepEqual(await epochsOf(module.id), [1, 2]);
    assert.equal(await prisma.modularization.count({ where: { jobId } }), 1);
    assert.equal(await prisma.module.count({ where: { jobId, kind: 'class' } }), 10);
    assert.equal(await prisma.module.count({ where: { jobId, kind: 'reused' } }), 1);
    // Artifacts name their run: the modular model, the module set and ten class modules; one model each for the others.
    const artifacts = async (runId: string) => prisma.artifact.count({ where: { fileName: { contains: runId } } });
    assert.deepEqual(await Promise.all([modular, standard, module].map((r) => artifacts(r.id))), [12, 1, 1]);
    assert.equal(await prisma.checkpoint.count({ where: { run: { jobId } } }), 0, 'checkpoints go once the model is stored');
  });
});

describe('a worker stopped with SIGTERM in the middle of an epoch', () => {
  it('exits 0 within a batch or two, the job goes back to the queue, and another worker resumes it mid-epoch', async () => {
    // Epochs long enough (250 batches) that progress, published at most once a second, shows the
    // middle of epoch 2 on any backend.
    const params = { model: 'simcnn-small', epochs: 2, batchSize: 16, trainLimit: 4000, testLimit: 100, seed: 12 };
    const jobId = await submit('train-modular', params);
    const first = await worker();
    // At least two batches into epoch 2, at least two before its end.
    const batchShare = 100 / params.epochs / Math.ceil(params.trainLimit / params.batchSize);
    await waitFor(
      'the middle of epoch 2',
      async () => {
        const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
        return body.progress > 100 / params.epochs + 2 * batchShare && body.progress < 200 / params.epochs - 2 * batchShare ? true : undefined;
      },
      300_000,
      100,
    );
    const signalled = Date.now();
    const code = await first.stop('SIGTERM');
    const exitMs = Date.now() - signalled;
    console.log(`[crash] SIGTERM mid-epoch: the worker exited ${code} after ${exitMs} ms`);
    assert.equal(code, 0, first.output());
    assert.ok(exitMs < 10_000, `exit took ${exitMs} ms`);

    const paused = await http<JobView>('GET', `/jobs/${jobId}`);
    assert.equal(paused.body.state, 'queued');
    assert.match(paused.body.message ?? '', /shut down \(training paused before batch \d+ of epoch 2\); queued to resume/);
    const checkpoint = await prisma.checkpoint.findFirstOrThrow({ where: { run: { jobId } } });
    const position = checkpointPosition(new Uint8Array(checkpoint.state));
    assert.equal(position.epochsDone, 1);
    assert.ok(position.batchesDone >= 2, `paused after ${position.batchesDone} batches`);
    const bull = await queue.getJob(jobId);
    assert.ok(bull);
    assert.ok(['delayed', 'waiting', 'prioritized'].includes(await bull.getState()), 'back in the queue');
    assert.equal(bull.attemptsMade, 0, 'the pause spent no attempt');

    const second = await worker();
    const { job, messages } = await completion(jobId, second);
    const resumed = `resuming epoch 2 at batch ${position.batchesDone + 1} of ${position.totalBatches}`;
    assert.ok(messages.has(resumed), `expected "${resumed}" among: ${[...messages].join(' | ')}`);
    assert.equal(job.attempts, 2);
    assert.equal((await queue.getJob(jobId))?.processedBy, nameOf(second));
    const run = await runOf(jobId, 'modular');
    assert.ok(run);
    assert.deepEqual(await epochsOf(run.id), [1, 2]);
  });
});

describe('a worker stopped with SIGTERM mid-epoch, again and again', () => {
  it('exits 0 within a bounded time every time, its job back in the queue', async () => {
    // One long job, taken up and stopped by five workers in turn, each while it trains.
    const params = { model: 'simcnn-small', epochs: 20, batchSize: 16, trainLimit: 2000, testLimit: 50, seed: 13 };
    const jobId = await submit('train-standard', params);
    // Reaching the next batch (the existing test allows 10 s) plus the worker's close deadline (5 s).
    const boundMs = 15_000;
    let progress = 0;
    for (let round = 1; round <= 5; round++) {
      const w = await worker();
      progress = await waitFor(
        `round ${round}: the job training past ${progress}%`,
        async () => {
          const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
          if (body.state === 'completed' || body.state === 'failed') throw new GaveUp(`job is ${body.state}: ${body.error}`);
          return body.state === 'running' && body.progress > progress ? body.progress : undefined;
        },
        120_000,
        100,
      ).catch((error: Error) => assert.fail(`${error.message}\n${w.output()}`));
      const signalled = Date.now();
      w.child.kill('SIGTERM');
      const code = await Promise.race([
        new Promise<number | null>((resolve) => w.child.once('exit', resolve)),
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), boundMs)),
      ]);
      const exitMs = Date.now() - signalled;
      console.log(`[crash] round ${round}: SIGTERM at ${progress.toFixed(1)}%, the worker exited ${code} after ${exitMs} ms`);
      assert.equal(code, 0, `round ${round}: ${code === 'hung' ? `still running ${boundMs} ms after SIGTERM` : `exited ${code}`}\n${w.output()}`);
      assert.equal((await http<JobView>('GET', `/jobs/${jobId}`)).body.state, 'queued', w.output());
    }
    // Not left for another test's worker.
    assert.equal((await http('DELETE', `/jobs/${jobId}`)).status, 202);
  });
});

describe('a job whose dataset files are missing', () => {
  it('fails once, naming the files and where they were looked for, without retries', async () => {
    const jobId = await submit('train-standard', { dataset: 'cifar10', model: 'simcnn-small', epochs: 1 });
    const started = await worker();
    const job = await waitFor(
      'the job to fail',
      async () => {
        const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
        return body.state === 'failed' ? body : undefined;
      },
      60_000,
    ).catch((error: Error) => assert.fail(`${error.message}\n${started.output()}`));
    assert.match(job.error ?? '', /^CIFAR-10 files not found in .*no-data.*data_batch_1\.bin/);
    assert.equal(job.attempts, 1);
    const bull = await failedInQueue(queue, jobId);
    assert.equal(bull.attemptsMade, 1, 'BullMQ did not retry it');
  });
});
