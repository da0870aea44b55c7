/** Operations: GET /metrics (Prometheus text, admin scope) and X-Request-Id (accepted or made, echoed, stored on the job). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { QueueEventsProducer } from 'bullmq';
import { EPOCH_METRICS_EVENT, type EpochMetricsPayload } from '@mwt/shared';
import type { JobView } from '../../apps/api/src/schemas/job.js';
import { startApp, type Harness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startApp('operations');
});
after(() => h.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The value of one sample line (`name{labels} value`) of a Prometheus text body, or undefined. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(): Promise<string> {
  const res = await h.fetch('/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

describe('GET /metrics', () => {
  it('needs the admin scope', async () => {
    assert.equal((await h.fetch('/metrics', {}, null)).status, 401);
    assert.equal((await h.fetch('/metrics', {}, 'reader')).status, 403);
  });

  it('counts requests by route pattern and status, queue entries by state and jobs by type and state', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await h.request('POST', '/jobs', { type: 'train-standard', params: { epochs: 1 } })).status, 201);
    assert.equal((await h.request('GET', `/jobs/${randomUUID()}`)).status, 404);
    const body = await scrape();

    const series = 'mwt_http_request_duration_seconds_count{method="POST",route="/jobs",status="201"}';
    assert.ok((sample(body, series) ?? 0) >= 3, series);
    assert.equal(sample(body, 'mwt_http_request_duration_seconds_count{method="GET",route="/jobs/:id",status="404"}'), 1, 'the pattern, not the id');
    assert.ok(body.includes('mwt_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/jobs",status="201"}'));

    const counts = await h.queue.getJobCounts('waiting', 'active');
    assert.equal(sample(body, 'mwt_queue_jobs{state="waiting"}'), counts.waiting);
    assert.equal(sample(body, 'mwt_queue_jobs{state="active"}'), counts.active);
    const queued = await h.prisma.job.count({ where: { type: 'train_standard', state: 'queued' } });
    assert.ok(queued >= 3);
    assert.equal(sample(body, 'mwt_jobs{type="train-standard",state="queued"}'), queued);
    assert.equal(typeof sample(body, 'mwt_jobs{type="reuse",state="failed"}'), 'number', 'zeros are reported too');
    assert.equal(typeof sample(body, 'mwt_api_process_resident_memory_bytes'), 'number');
  });

  it("reports each worker's training samples/s from the epochs workers publish through Redis", async () => {
    const producer = new QueueEventsProducer(h.queue.name, { connection: h.redis, prefix: h.queue.opts.prefix });
    try {
      const publish = async (worker: string, samplesPerSecond: number) => {
        const metrics = {
          runId: randomUUID(),
          runKind: 'standard',
          epoch: 1,
          lr: 0.05,
          trainAccuracy: 0.9,
          testAccuracy: 0.9,
          loss: 0.3,
          ceLoss: 0.3,
          cohesionLoss: null,
          couplingLoss: null,
          kernelRate: null,
          batchCohesion: null,
          batchCoupling: null,
          durationMs: 1000,
        } as const;
        const payload: EpochMetricsPayload = { metrics, worker, samplesPerSecond };
        await producer.publishEvent({ eventName: EPOCH_METRICS_EVENT, jobId: randomUUID(), data: JSON.stringify(payload) });
      };
      await publish('host-a:1', 100);
      await publish('host-b:2', 250.5);
      await publish('host-a:1', 120); // its latest epoch wins
      const body = await scrape();
      assert.equal(sample(body, 'mwt_worker_training_samples_per_second{worker="host-a:1"}'), 120);
      assert.equal(sample(body, 'mwt_worker_training_samples_per_second{worker="host-b:2"}'), 250.5);
      const at = sample(body, 'mwt_worker_last_epoch_timestamp_seconds{worker="host-a:1"}') ?? 0;
      assert.ok(Math.abs(at - Date.now() / 1000) < 60, `reported at ${at}`);
    } finally {
      await producer.close();
    }
  });
});

describe('X-Request-Id', () => {
  const submit = (requestId?: string) => h.request<JobView>('POST', '/jobs', { type: 'train-standard' }, { headers: requestId === undefined ? {} : { 'x-request-id': requestId } });
  const storedRequestId = async (jobId: string) => (await h.prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { requestId: true } })).requestId;

  it("a caller's id is echoed and stored on the job it submitted", async () => {
    const sent = `trace-${randomUUID()}:span/7`;
    const { status, headers, body } = await submit(sent);
    assert.equal(status, 201);
    assert.equal(headers.get('x-request-id'), sent);
    assert.equal(await storedRequestId(body.id), sent);
  });

  it('without one, or with one that is not visible ASCII of at most 128 characters, a UUID is made, echoed and stored', async () => {
    for (const sent of [undefined, 'x'.repeat(129), 'two words', 'caf\u00e9']) {
      const { status, headers, body } = await submit(sent);
      assert.equal(status, 201);
      const made = headers.get('x-request-id') ?? '';
      assert.match(made, UUID, `for ${JSON.stringify(sent)}`);
      assert.equal(await storedRequestId(body.id), made);
    }
    const longest = 'y'.repeat(128);
    assert.equal((await submit(longest)).headers.get('x-request-id'), longest);
  });

  it('is echoed on errors and on event streams too', async () => {
    const missing = await h.fetch(`/jobs/${randomUUID()}`, { headers: { 'x-request-id': 'err-1' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-request-id'), 'err-1');
    const { body: job } = await submit();
    const abort = new AbortController();
    const stream = await h.fetch(`/jobs/${job.id}/events`, { headers: { 'x-request-id': 'sse-1' }, signal: abort.signal });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('x-request-id'), 'sse-1');
    abort.abort();
  });
});
