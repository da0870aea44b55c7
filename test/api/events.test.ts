/** GET /jobs/:id/events: Server-Sent Events from the row and from Redis (progress, metrics), resumable; streams of revoked keys end. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { QueueEventsProducer } from 'bullmq';
import { EPOCH_METRICS_EVENT, type EpochMetricsData, type EpochMetricsPayload } from '@mwt/shared';
import { revokeApiKey } from '../../apps/api/src/auth/api-keys.js';
import type { JobView } from '../../apps/api/src/schemas/job.js';
import type { ApiKeyView } from '../../apps/api/src/schemas/keys.js';
import { insertRun, startApp, type Caller, type Harness } from './helpers.js';

/** Short, so that a revocation made elsewhere reaches this process in a second (the harness polls every 100 ms). */
const CACHE_TTL_MS = 1_000;
/**
 * How soon after a revocation a stream must have ended: the TTL, a poll, and a wide margin for
 * a busy machine. Without the re-check a stream never ends, so any bound tells the two apart.
 */
const REVOCATION_BOUND_MS = CACHE_TTL_MS + 2_000;
/** How long to wait for an event that should come, before failing rather than hanging. */
const DEADLINE_MS = 20_000;

let h: Harness;
before(async () => {
  h = await startApp('events', { keyCacheTtlMs: CACHE_TTL_MS });
});
after(() => h.close());

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** The fields of the last block `next()` returned, for the tests of ids and `retry:`. */
let lastFields: Record<string, string> = {};

/** Reads events as they arrive; `next()` resolves with the next one, or null once the stream ends. */
async function openEvents(path: string, as: Caller = 'admin', harness: Harness = h, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await harness.fetch(path, { signal: abort.signal, headers }, as);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const next = async (): Promise<SseEvent | null> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) continue; // keep-alive comment
        const field = (name: string) =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        lastFields = Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
        return { event: field('event') ?? 'message', data: JSON.parse(field('data') ?? 'null') };
      }
      const { value, done } = await reader.read();
      if (done) return null;
      buffer += value;
    }
  };
  return { next, close: () => abort.abort() };
}

const submit = async () => (await h.request<JobView>('POST', '/jobs', { type: 'train-modular' })).body;

test('first the current state, then live progress and row changes, then end when the job finishes', async () => {
  const job = await submit();
  const events = await openEvents(`/jobs/${job.id}/events`);
  try {
    const first = await events.next();
    assert.deepEqual(first, {
      event: 'state',
      data: { id: job.id, state: 'queued', progress: 0, phase: null, epoch: null, totalEpochs: null, message: null, error: null },
    });

    // What a worker does: flip the row, then publish progress through BullMQ.
    await h.prisma.job.update({ where: { id: job.id }, data: { state: 'running', phase: 'train-modular', startedAt: new Date() } });
    const running = await events.next();
    assert.equal(running?.event, 'state');
    assert.equal(running?.data.state, 'running');

    const progress = { percent: 25, phase: 'train-modular', epoch: 1, totalEpochs: 4, batch: 3, totalBatches: 10 };
    // The hub subscribes asynchronously; repeat until one gets through.
    const bullJob = (await h.queue.getJob(job.id))!;
    let forwarded: SseEvent | null = null;
    const publisher = setInterval(() => void bullJob.updateProgress(progress), 100);
    try {
      forwarded = await events.next();
    } finally {
      clearInterval(publisher);
    }
    assert.deepEqual(forwarded, { event: 'progress', data: progress });

    await h.prisma.job.update({ where: { id: job.id }, data: { state: 'completed', progress: 100, finishedAt: new Date() } });
    let last: SseEvent | null;
    do last = await events.next();
    while (last?.event === 'progress');
    assert.equal(last?.event, 'end');
    assert.equal(last?.data.state, 'completed');
    assert.equal(last?.data.progress, 100);
    assert.equal(await events.next(), null, 'server closed the stream');
  } finally {
    events.close();
  }
});

test('a cancelled queued job ends the stream', async () => {
  const job = await submit();
  const events = await openEvents(`/jobs/${job.id}/events`);
  try {
    assert.equal((await events.next())?.data.state, 'queued');
    assert.equal((await h.request('DELETE', `/jobs/${job.id}`)).status, 202);
    const end = await events.next();
    assert.equal(end?.event, 'end');
    assert.equal(end?.data.state, 'cancelled');
    assert.equal(await events.next(), null);
  } finally {
    events.close();
  }
});

test('a finished job: its state, then end at once', async () => {
  const job = await submit();
  await h.prisma.job.update({ where: { id: job.id }, data: { state: 'failed', error: 'out of memory', finishedAt: new Date() } });
  const events = await openEvents(`/jobs/${job.id}/events`);
  try {
    assert.equal((await events.next())?.event, 'state');
    const end = await events.next();
    assert.equal(end?.event, 'end');
    assert.equal(end?.data.error, 'out of memory');
    assert.equal(await events.next(), null);
  } finally {
    events.close();
  }
});

test('a client that disconnects leaves nothing behind that blocks shutdown', async () => {
  const job = await submit();
  const events = await openEvents(`/jobs/${job.id}/events`);
  assert.equal((await events.next())?.event, 'state');
  events.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  // A second stream, left open: app.close() in after() must end it rather than hang.
  const open = await openEvents(`/jobs/${job.id}/events`);
  assert.equal((await open.next())?.event, 'state');
});

/** What a worker's publish() does: the row's progress fields, then the same Progress through BullMQ. */
async function workerPublish(jobId: string, progress: { percent: number; phase: string; epoch: number; totalEpochs: number }) {
  await h.prisma.job.update({ where: { id: jobId }, data: { progress: progress.percent, phase: progress.phase, epoch: progress.epoch, totalEpochs: progress.totalEpochs } });
  await (await h.queue.getJob(jobId))!.updateProgress(progress);
}

test('one event per change: a progress update is one `progress` event, not also a `state`; every event has an id, the first `retry:`', async () => {
  const job = await submit();
  const events = await openEvents(`/jobs/${job.id}/events`);
  try {
    assert.equal((await events.next())?.event, 'state');
    assert.equal(lastFields.retry, '2000');
    const ids = [lastFields.id];
    await h.prisma.job.update({ where: { id: job.id }, data: { state: 'running', startedAt: new Date() } });
    assert.equal((await events.next())?.data.state, 'running');
    ids.push(lastFields.id);

    const first = { percent: 30, phase: 'train-standard', epoch: 1, totalEpochs: 3 };
    await workerPublish(job.id, first);
    assert.deepEqual(await events.next(), { event: 'progress', data: first });
    ids.push(lastFields.id);
    // Several polls (100 ms) see the changed row; none of them may repeat the update as a `state`.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const second = { ...first, percent: 60, epoch: 2 };
    await workerPublish(job.id, second);
    assert.deepEqual(await events.next(), { event: 'progress', data: second });
    ids.push(lastFields.id);

    for (const id of ids) assert.match(id, /^\d+-\d+$/);
    const progressIds = ids.slice(2);
    assert.notEqual(progressIds[0], progressIds[1], 'each Redis event has an id of its own');
  } finally {
    events.close();
  }
});

const metricsOf = (runId: string, epoch: number): EpochMetricsData => ({
  // Binary fractions: they survive PostgreSQL's columns exactly.
  runId,
  runKind: 'modular',
  epoch,
  lr: 0.0625,
  trainAccuracy: 0.5 + epoch / 64,
  testAccuracy: 0.25 + epoch / 64,
  loss: 2 - epoch / 8,
  ceLoss: 1.5,
  cohesionLoss: 0.25,
  couplingLoss: 0.125,
  kernelRate: 0.375,
  batchCohesion: 0.75,
  batchCoupling: 0.25,
  durationMs: 1000 + epoch,
});

/** What a worker's publishEpochMetrics() adds to the queue's event stream. */
async function publishMetrics(producer: QueueEventsProducer, jobId: string, metrics: EpochMetricsData) {
  const payload: EpochMetricsPayload = { metrics, worker: 'test:1', samplesPerSecond: 100 };
  await producer.publishEvent({ eventName: EPOCH_METRICS_EVENT, jobId, data: JSON.stringify(payload) });
}

test('a `metrics` event per finished epoch; a client reconnecting with Last-Event-ID gets the state, then the metrics it missed', async () => {
  const producer = new QueueEventsProducer(h.queue.name, { connection: h.redis, prefix: h.queue.opts.prefix });
  const job = await submit();
  const runId = '00000000-0000-4000-8000-000000000001';
  const first = await openEvents(`/jobs/${job.id}/events`);
  let seen: string;
  try {
    assert.equal((await first.next())?.event, 'state');
    await publishMetrics(producer, job.id, metricsOf(runId, 1));
    assert.deepEqual(await first.next(), { event: 'metrics', data: metricsOf(runId, 1) });
    seen = lastFields.id;
  } finally {
    first.close();
  }
  // While the client is away: two epochs, a progress update, and another job's epoch.
  await publishMetrics(producer, job.id, metricsOf(runId, 2));
  await (await h.queue.getJob(job.id))!.updateProgress({ percent: 50, phase: 'train-modular' });
  await publishMetrics(producer, (await submit()).id, metricsOf(runId, 9));
  await publishMetrics(producer, job.id, metricsOf(runId, 3));

  const resumed = await openEvents(`/jobs/${job.id}/events`, 'admin', h, { 'last-event-id': seen });
  try {
    assert.equal((await resumed.next())?.event, 'state');
    assert.deepEqual(await resumed.next(), { event: 'metrics', data: metricsOf(runId, 2) });
    assert.deepEqual(await resumed.next(), { event: 'metrics', data: metricsOf(runId, 3) });
    // Then live as usual.
    await publishMetrics(producer, job.id, metricsOf(runId, 4));
    assert.deepEqual(await resumed.next(), { event: 'metrics', data: metricsOf(runId, 4) });
  } finally {
    resumed.close();
    await producer.close();
  }
});

test('resuming from an id older than Redis keeps replays the metric rows from PostgreSQL; an id not of ours is a first connection', async () => {
  const { jobId, runId } = await insertRun(h, { status: 'running' });
  h.trackJob(jobId);
  const rows = [1, 2].map((epoch) => metricsOf(runId, epoch));
  await h.prisma.epochMetric.createMany({ data: rows.map(({ runKind: _kind, ...m }) => m) });

  const resumed = await openEvents(`/jobs/${jobId}/events`, 'admin', h, { 'last-event-id': '0-1' });
  try {
    assert.equal((await resumed.next())?.event, 'state');
    assert.deepEqual(await resumed.next(), { event: 'metrics', data: rows[0] });
    assert.deepEqual(await resumed.next(), { event: 'metrics', data: rows[1] });
  } finally {
    resumed.close();
  }
  const fresh = await openEvents(`/jobs/${jobId}/events`, 'admin', h, { 'last-event-id': 'not-an-id' });
  try {
    assert.equal((await fresh.next())?.event, 'state');
    await h.prisma.job.update({ where: { id: jobId }, data: { state: 'completed', finishedAt: new Date() } });
    assert.equal((await fresh.next())?.event, 'end', 'no metrics replayed');
  } finally {
    fresh.close();
  }
});

/** `promise`, or a failure naming `what` once `ms` have passed. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `ms` have passed since `since` (at once if they already have). */
const until = (since: number, ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, since + ms - Date.now())));

/** A fresh key (read, submit) with one queued job of its own and an open stream of that job's events. */
async function keyWithStream(name: string) {
  const { body: key } = await h.request<ApiKeyView & { key: string }>('POST', '/keys', { name, scopes: ['read', 'submit'] });
  const as = { secret: key.key };
  const { body: job } = await h.request<JobView>('POST', '/jobs', { type: 'train-modular' }, { as });
  const events = await openEvents(`/jobs/${job.id}/events`, as);
  assert.equal((await events.next())?.data.state, 'queued');
  return { key, job, events };
}

const REVOKED_EVENT: SseEvent = { event: 'error', data: { statusCode: 401, error: 'Unauthorized', message: 'the API key was revoked' } };

/** Asserts the stream's next event is the revocation and then it ends; returns ms since `revokedAt`. */
async function expectRevoked(events: Awaited<ReturnType<typeof openEvents>>, revokedAt: number): Promise<number> {
  assert.deepEqual(await within(DEADLINE_MS, 'the revocation event', events.next()), REVOKED_EVENT);
  assert.equal(await within(DEADLINE_MS, 'the end of the stream', events.next()), null, 'server closed the stream');
  return Date.now() - revokedAt;
}

test("a key revoked elsewhere (the CLI, another API process) ends its streams within the cache TTL and a poll; another key's stream stays open", async (t) => {
  const doomed = await keyWithStream('events doomed');
  const kept = await keyWithStream('events kept');
  try {
    const revokedAt = Date.now();
    await revokeApiKey(h.db, doomed.key.id); // what `npm run keys -- revoke` runs; this process's cache still holds the key
    const took = await expectRevoked(doomed.events, revokedAt);
    t.diagnostic(`revocation to end of stream: ${took} ms (cache TTL ${CACHE_TTL_MS} ms, poll 100 ms)`);
    assert.ok(took <= REVOCATION_BOUND_MS, `took ${took} ms`);

    // The other key's stream outlives the whole window (its own cache entry expired and was re-read
    // meanwhile) and is still live: it reports a row change.
    await until(revokedAt, REVOCATION_BOUND_MS);
    await h.prisma.job.update({ where: { id: kept.job.id }, data: { state: 'running', startedAt: new Date() } });
    const running = await within(DEADLINE_MS, 'the kept stream to report the change', kept.events.next());
    assert.equal(running?.event, 'state');
    assert.equal(running?.data.state, 'running');
  } finally {
    doomed.events.close();
    kept.events.close();
  }
});

test('a key revoked through DELETE /keys/:id ends its streams at their next poll', async (t) => {
  const doomed = await keyWithStream('events doomed by admin');
  try {
    const revokedAt = Date.now();
    assert.equal((await h.request('DELETE', `/keys/${doomed.key.id}`)).status, 200);
    const took = await expectRevoked(doomed.events, revokedAt);
    t.diagnostic(`revocation to end of stream: ${took} ms (this process forgot the key; poll 100 ms)`);
    assert.ok(took <= REVOCATION_BOUND_MS, `took ${took} ms`);
  } finally {
    doomed.events.close();
  }
});

test('with MWT_AUTH=disabled a stream has no key to revoke: it stays open across polls', async () => {
  const open = await startApp('events-noauth', { env: { MWT_AUTH: 'disabled' }, keyCacheTtlMs: CACHE_TTL_MS });
  try {
    const { body: job } = await open.request<JobView>('POST', '/jobs', { type: 'train-modular' }, { as: null });
    const events = await openEvents(`/jobs/${job.id}/events`, null, open);
    try {
      assert.equal((await events.next())?.data.state, 'queued');
      const opened = Date.now();
      // Past a cache TTL and many polls: a stream that took "no key" for "revoked" would be gone.
      await until(opened, REVOCATION_BOUND_MS);
      await open.prisma.job.update({ where: { id: job.id }, data: { state: 'running', startedAt: new Date() } });
      const running = await within(DEADLINE_MS, 'the stream to report the change', events.next());
      assert.equal(running?.data.state, 'running');
    } finally {
      events.close();
    }
  } finally {
    await open.close();
  }
});
