/**
 * Cancelling a running job, with a real API and worker: the cancel channel belongs to the
 * deployment (a cancel published by another deployment on the same Redis is not heard), and a
 * cancel whose pub/sub message is lost still stops the job, found by the worker's heartbeat.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createPrisma, type PrismaClient } from '@mwt/db';
import { cancelChannel, createJobQueue, readConfig, type Config, type JobQueue } from '@mwt/shared';
import { AUTH_ENV, apiClient, type Call, type JobView } from '../support/api-client.js';
import { freePort, GaveUp, removeServiceKeys, serviceEnv, startProcess, startWorker, waitFor, type ServiceProcess } from '../support/processes.js';

/** A 4 s lock: the worker beats every second. */
const LOCK_MS = 4_000;
const HEARTBEAT_MS = LOCK_MS / 4;

let config: Config;
let api: ServiceProcess;
let worker: ServiceProcess;
let http: Call;
let prisma: PrismaClient;
let redis: Redis;
let queue: JobQueue;
const jobIds: string[] = [];

before(async () => {
  const port = await freePort();
  const env = { ...serviceEnv(port), ...AUTH_ENV, MWT_LOCK_DURATION_MS: String(LOCK_MS) };
  config = readConfig({ ...process.env, ...env });
  prisma = createPrisma(config.databaseUrl);
  redis = new Redis(config.redisUrl);
  queue = createJobQueue(config);
  http = apiClient(`http://127.0.0.1:${port}`);
  api = startProcess('apps/api/src/main.ts', env);
  await waitFor('the API', async () => ((await http('GET', '/healthz')).status === 200 ? true : undefined), 60_000);
  worker = await startWorker(env);
});

after(async () => {
  await Promise.all([worker?.stop(), api?.stop()]);
  await prisma.job.deleteMany({ where: { id: { in: jobIds } } });
  await queue.obliterate({ force: true });
  await removeServiceKeys();
  await Promise.all([queue.close(), redis.quit(), prisma.$disconnect()]);
});

/** A training long enough (thousands of batches) to be still running when the test cancels it. */
async function startLongJob(): Promise<string> {
  const created = await http<{ id: string }>('POST', '/jobs', {
    type: 'train-standard',
    params: { model: 'simcnn-small', epochs: 20, batchSize: 16, trainLimit: 2000, testLimit: 50, seed: 5 },
  });
  assert.equal(created.status, 201);
  jobIds.push(created.body.id);
  await waitFor(
    'the job to train',
    async () => {
      const { body } = await http<JobView>('GET', `/jobs/${created.body.id}`);
      if (body.state !== 'queued' && body.state !== 'running') throw new GaveUp(`job is ${body.state}: ${body.error}`);
      return body.state === 'running' && body.progress > 0 ? true : undefined;
    },
    120_000,
  );
  return created.body.id;
}

/** Waits for the job to end; returns its final view and how long that took. */
async function ending(jobId: string): Promise<{ job: JobView; ms: number }> {
  const since = Date.now();
  const job = await waitFor(
    'the job to end',
    async () => {
      const { body } = await http<JobView>('GET', `/jobs/${jobId}`);
      return ['cancelled', 'completed', 'failed'].includes(body.state) ? body : undefined;
    },
    300_000,
    100,
  );
  return { job, ms: Date.now() - since };
}

describe('cancelling a running job', () => {
  it('ignores a cancel published for another deployment, and acts on one whose message was lost within a heartbeat or two', async () => {
    const jobId = await startLongJob();
    const other = cancelChannel({ queuePrefix: `${config.queuePrefix}-other`, queueName: config.queueName });
    assert.notEqual(other, cancelChannel(config));
    await redis.publish(other, jobId);
    // Three beats and many batches: time for a wrongly heard cancel to stop the job.
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
    const still = await http<JobView>('GET', `/jobs/${jobId}`);
    assert.equal(still.body.state, 'running', `another deployment's cancel stopped the job: ${still.body.message}`);

    // A DELETE whose pub/sub message is lost: the row is flagged, nothing is published.
    await prisma.job.update({ where: { id: jobId }, data: { cancelRequested: true } });
    const { job, ms } = await ending(jobId);
    console.log(`[cancel] a cancel with no message stopped the job after ${ms} ms (heartbeat ${HEARTBEAT_MS} ms)`);
    assert.equal(job.state, 'cancelled', `${job.state}: ${job.message ?? job.error}\n${worker.output()}`);
    // Two beats, plus the batch in flight and the final writes on a loaded machine.
    assert.ok(ms < 2 * HEARTBEAT_MS + 10_000, `took ${ms} ms`);
    // The row moves first; the worker logs once BullMQ has the processor's result.
    await waitFor('the worker to log the cancel', async () => (worker.output().includes(`job ${jobId} cancelled`) ? true : undefined), 10_000).catch((error: Error) =>
      assert.fail(`${error.message}\n${worker.output()}`),
    );
    assert.doesNotMatch(worker.output(), new RegExp(`job ${jobId} finished`));
  });
});
