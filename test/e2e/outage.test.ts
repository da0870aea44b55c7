/**
 * Redis and PostgreSQL going away under real API and worker processes. Redis: a private server,
 * killed and restarted empty (no persistence, as in CI) under a stream of submissions; every job
 * the API acknowledged must still complete. PostgreSQL: reached through a TCP proxy that the test
 * cuts; the API answers 503 on every route without hanging or dying, a worker waits, and both
 * recover by themselves once it is back. PostgreSQL gone silent (half-open connections: the proxy
 * stalls) must not hang the API either: its query timeout turns the silence into the same 503.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPrisma, type PrismaClient } from '@mwt/db';
import { createJobQueue, readConfig } from '@mwt/shared';
import { AUTH_ENV, apiClient, type Call, type ErrorBody, type JobView } from '../support/api-client.js';
import { FAST_RECOVERY_ENV, freePort, GaveUp, serviceEnv, startProcess, startWorker, waitFor, type ServiceProcess } from '../support/processes.js';
import { RedisServer } from '../support/redis-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const databaseUrl = readConfig().databaseUrl;
const prisma: PrismaClient = createPrisma(databaseUrl);
const jobIds: string[] = [];
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

after(async () => {
  await prisma.job.deleteMany({ where: { id: { in: jobIds } } });
  await prisma.$disconnect();
});

/** An API and a worker of their own (queue prefix, port) with `overrides` in their environment. */
async function startService(overrides: Record<string, string>, withWorker: boolean) {
  const port = await freePort();
  const env = { ...serviceEnv(port), ...AUTH_ENV, ...FAST_RECOVERY_ENV, ...overrides };
  const http = apiClient(`http://127.0.0.1:${port}`, 20_000);
  const api = startProcess('apps/api/src/main.ts', env);
  const worker = withWorker ? await startWorker(env) : undefined;
  await waitFor('the API', async () => ((await http('GET', '/healthz')).status === 200 ? true : undefined), 60_000);
  const config = readConfig({ ...process.env, ...env });
  const queue = createJobQueue(config);
  return {
    env,
    http,
    api,
    worker,
    queue,
    stop: async () => {
      await worker?.stop();
      await api.stop();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}

/** One request on each route that needs PostgreSQL, about job `id`. */
function databaseRoutes(id: string): [string, string, unknown?][] {
  return [
    ['GET', '/jobs'],
    ['GET', `/jobs/${id}`],
    ['POST', '/jobs', { type: 'train-standard' }],
    ['DELETE', `/jobs/${id}`],
    ['GET', `/runs/${id}/metrics`],
  ];
}

type Service = Awaited<ReturnType<typeof startService>>;

/**
 * Asserts that every route needing PostgreSQL answers 503 naming it, each within `maxMs`, that
 * /healthz reports it down and that the API lives on; returns each route's time to answer.
 */
async function assertDatabaseUnavailable({ http, api }: Service, jobId: string, maxMs: number): Promise<string[]> {
  const timings: string[] = [];
  for (const [method, path, body] of databaseRoutes(jobId)) {
    const reply = await http<ErrorBody>(method, path, body).catch((error: Error) => assert.fail(`${method} ${path}: no answer (${error.name}); the API hangs on PostgreSQL`));
    timings.push(`${method} ${path} ${reply.ms} ms`);
    assert.equal(reply.status, 503, `${method} ${path}: ${JSON.stringify(reply.body)}`);
    assert.equal(reply.body.message, 'PostgreSQL is unavailable; retry later', `${method} ${path}`);
    assert.equal(reply.headers.get('retry-after'), '5');
    assert.ok(reply.ms < maxMs, `${method} ${path} took ${reply.ms} ms`);
  }
  const health = await http<{ postgres: string; redis: string }>('GET', '/healthz');
  assert.equal(health.status, 503);
  assert.deepEqual([health.body.postgres, health.body.redis], ['down', 'ok']);
  assert.equal(api.child.exitCode, null, 'the API is still running');
  return timings;
}

/** Once PostgreSQL is back, the same API process answers again: no restart needed. */
async function assertRecovered({ http }: Service, jobId: string, timeoutMs: number): Promise<void> {
  await waitFor('GET /jobs to answer again', async () => ((await http('GET', '/jobs')).status === 200 ? true : undefined), timeoutMs);
  assert.equal((await http('GET', `/jobs/${jobId}`)).status, 200);
  assert.equal((await http('GET', '/healthz')).status, 200);
  assert.equal((await http('DELETE', `/jobs/${jobId}`)).status, 202);
}

/** An API (and no worker) whose PostgreSQL is reached through a proxy the test cuts or stalls. */
async function startBehindProxy(overrides: Record<string, string> = {}): Promise<{ proxy: TcpProxy; service: Service }> {
  const target = new URL(databaseUrl);
  const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  const proxied = new URL(databaseUrl);
  proxied.host = `127.0.0.1:${proxy.port}`;
  return { proxy, service: await startService({ DATABASE_URL: proxied.toString(), ...overrides }, false) };
}

async function waitCompleted(http: Call, ids: string[], worker: ServiceProcess | undefined, timeoutMs: number): Promise<void> {
  await waitFor(
    `${ids.length} jobs to complete`,
    async () => {
      for (const id of ids) {
        const { body } = await http<JobView>('GET', `/jobs/${id}`);
        if (body.state === 'failed' || body.state === 'cancelled') throw new GaveUp(`job ${id} ${body.state}: ${body.error}`);
        if (body.state !== 'completed') return undefined;
      }
      return true;
    },
    timeoutMs,
    500,
  ).catch((error: Error) => assert.fail(`${error.message}\n--- worker output ---\n${worker?.output() ?? ''}`));
}

describe('Redis killed and restarted empty under a stream of submissions', () => {
  const missing = RedisServer.missing();
  let redis: RedisServer;
  let service: Service;

  before(async () => {
    if (missing) return;
    redis = await RedisServer.start(await freePort());
    service = await startService({ REDIS_URL: redis.url }, true);
  });
  after(async () => {
    await service?.stop();
    await redis?.kill();
  });

  it('completes every job the API acknowledged; submissions during the outage get 503', { skip: missing ?? false }, async () => {
    const { http, api, worker } = service;
    const counts = { faults: 0, submissions: 0, acknowledged: 0, unavailable: 0, completed: 0, requeuedByReconciler: 0 };
    const acknowledged: string[] = [];
    // Redis goes down before submission 4 and 10, and comes back (empty) before 7 and 13.
    const outages = new Map([
      [4, 'kill'],
      [7, 'restart'],
      [10, 'kill'],
      [13, 'restart'],
    ]);
    // The two submissions before a kill go back to back: the worker (concurrency 1) takes the first,
    // so the second is still waiting in Redis when it dies, and only the reconciler can bring it
    // back. With a pause between them, a fast backend could finish every job before the kill.
    const beforeKill = (i: number) => outages.get(i + 1) === 'kill' || outages.get(i + 2) === 'kill';
    for (let i = 0; i < 16; i++) {
      const fault = outages.get(i);
      if (fault === 'kill') {
        await redis.kill();
        counts.faults += 1;
      } else if (fault === 'restart') {
        await redis.restart();
      }
      const reply = await http<JobView & ErrorBody>('POST', '/jobs', { type: 'train-standard', params: { epochs: 1, trainLimit: 100, testLimit: 50, seed: i } });
      counts.submissions += 1;
      if (reply.status === 201) {
        counts.acknowledged += 1;
        acknowledged.push(reply.body.id);
        jobIds.push(reply.body.id);
      } else {
        assert.equal(reply.status, 503, JSON.stringify(reply.body));
        assert.match(reply.body.message, /could not be queued/);
        counts.unavailable += 1;
        const id = /job ([0-9a-f-]{36})/.exec(reply.body.message)?.[1];
        if (id) jobIds.push(id);
      }
      if (!beforeKill(i)) await delay(400);
    }
    assert.ok(counts.unavailable > 0, 'some submissions met the outage');
    await waitCompleted(http, acknowledged, worker, 240_000);
    counts.completed = acknowledged.length;
    // Jobs waiting in Redis when it died exist only in PostgreSQL afterwards: the reconciler brought them back.
    for (const [, n] of worker?.output().matchAll(/reconciler: (\d+) job\(s\) put back/g) ?? []) counts.requeuedByReconciler += Number(n);
    console.log(`[outage] redis: ${JSON.stringify(counts)}`);
    assert.ok(counts.requeuedByReconciler > 0, 'the outage lost queued jobs that the reconciler put back');
    assert.equal(api.child.exitCode, null, 'the API survived');
    assert.equal(worker?.child.exitCode, null, 'the worker survived');
  });
});

describe('PostgreSQL cut off from the API and a worker', () => {
  let proxy: TcpProxy;
  let service: Service;

  before(async () => {
    ({ proxy, service } = await startBehindProxy());
  });
  after(async () => {
    await service?.stop();
    await proxy?.cut();
  });

  it('answers 503 naming PostgreSQL on every route, within a bounded time, and recovers without a restart', async () => {
    const created = await service.http<JobView>('POST', '/jobs', { type: 'train-standard', params: { epochs: 1, trainLimit: 100 } });
    assert.equal(created.status, 201);
    jobIds.push(created.body.id);

    await proxy.cut();
    await assertDatabaseUnavailable(service, created.body.id, 7_000);
    await proxy.restore();
    await assertRecovered(service, created.body.id, 15_000);
  });

  it('lets a training worker wait for PostgreSQL and resume from its checkpoint', async () => {
    const { http, env } = service;
    const worker = await startWorker(env);
    try {
      const created = await http<JobView>('POST', '/jobs', { type: 'train-standard', params: { epochs: 3, trainLimit: 400, testLimit: 100, seed: 2 } });
      assert.equal(created.status, 201);
      const jobId = created.body.id;
      jobIds.push(jobId);
      // The test reads the database directly, not through the proxy it cuts.
      await waitFor('epoch 1', async () => ((await prisma.run.findFirst({ where: { jobId } }))?.epochsDone ?? 0) >= 1 || undefined, 120_000, 100);
      await proxy.cut();
      await delay(4_000);
      await proxy.restore();
      await waitCompleted(http, [jobId], worker, 120_000);
      const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { runs: { include: { metrics: { orderBy: { epoch: 'asc' } } } } } });
      assert.ok(job.attempts >= 2, `started ${job.attempts} time(s): the outage interrupted it`);
      assert.deepEqual(
        job.runs[0].metrics.map((m) => m.epoch),
        [1, 2, 3],
      );
      const bull = await service.queue.getJob(jobId);
      assert.equal(bull?.attemptsMade, 1, 'waiting for PostgreSQL spent no attempt');
      assert.match(worker.output(), /waits for PostgreSQL/);
    } finally {
      await worker.stop();
    }
  });
});

describe('PostgreSQL gone silent under the API (half-open connections)', () => {
  /** Short, so that the test is quick, and well under the 10 s the replies are held to. */
  const QUERY_TIMEOUT_MS = 1_500;
  let proxy: TcpProxy;
  let service: Service;

  before(async () => {
    ({ proxy, service } = await startBehindProxy({ MWT_DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) }));
  });
  after(async () => {
    await service?.stop();
    await proxy?.cut();
  });

  it('answers 503 naming PostgreSQL within a bounded time instead of hanging, and recovers without a restart', { timeout: 180_000 }, async () => {
    const created = await service.http<JobView>('POST', '/jobs', { type: 'train-standard', params: { epochs: 1, trainLimit: 100 } });
    assert.equal(created.status, 201);
    jobIds.push(created.body.id);

    // The API's pooled connections stay open and silent: without a query timeout the first request
    // would wait for ever (here, until the client gives up after 20 s). On a pooled connection the
    // API answers after the query timeout, on a new one after the 5 s connection timeout.
    proxy.stall();
    const timings = await assertDatabaseUnavailable(service, created.body.id, 10_000);
    console.log(`[outage] postgres silent, time to 503: ${timings.join(', ')}`);

    // New connections get through again; the stalled ones stay silent, as half-open ones do.
    await proxy.restore();
    await assertRecovered(service, created.body.id, 30_000);
  });
});
