/** GET /jobs/:id/events: Server-Sent Events from the row and from BullMQ progress. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JobView } from '../../apps/api/src/schemas/job.js';
import { startApp, type Harness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startApp('events');
});
after(() => h.close());

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads events as they arrive; `next()` resolves with the next one, or null once the stream ends. */
async function openEvents(path: string) {
  const abort = new AbortController();
  const res = await h.fetch(path, { signal: abort.signal });
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
        const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
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
