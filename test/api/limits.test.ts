/** Input safety: the body size limit, deeply nested JSON, content types, and the rate limit per key or IP. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../apps/api/src/json-body.js';
import { startApp, type Harness } from './helpers.js';

const RATE_LIMIT = 5;
let h: Harness;
let limited: Harness;
before(async () => {
  h = await startApp('limits');
  limited = await startApp('limits-rate', { env: { MWT_RATE_LIMIT: String(RATE_LIMIT) } });
});
after(async () => {
  await h.close();
  await limited.close();
});

describe('body size', () => {
  test('a body over 64 KiB -> 413 in the uniform error shape', async () => {
    const body = JSON.stringify({ type: 'train-standard', params: { padding: 'x'.repeat(64 * 1024) } });
    const res = await h.request('POST', '/jobs', body);
    assert.equal(res.status, 413);
    assert.deepEqual(res.body, { statusCode: 413, error: 'Payload Too Large', message: 'Request body is too large' });
  });

  test('just under the limit is read (and then validated)', async () => {
    const body = JSON.stringify({ type: 'train-standard', params: { padding: 'x'.repeat(60 * 1024) } });
    const res = await h.request('POST', '/jobs', body);
    assert.equal(res.status, 400);
    assert.equal(res.body.message, 'body/params/padding is not allowed');
  });
});

describe('deeply nested JSON', () => {
  const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}${close.repeat(depth)}`;
  const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const cases: [string, string][] = [
    ['arrays 50,000 deep (in 100 KB: the size limit answers first)', nested(50_000)],
    ['arrays 30,000 deep', nested(30_000)],
    ['objects 10,000 deep', deepObject(10_000)],
    ['params nested 33 deep', `{"type":"train-standard","params":${deepObject(MAX_JSON_DEPTH)}}`],
  ];
  for (const [name, body] of cases) {
    test(`${name} -> 4xx, never 5xx`, async () => {
      const res = await h.request('POST', '/jobs', body);
      assert.ok(res.status === 400 || res.status === 413, `status ${res.status}`);
      assert.deepEqual(Object.keys(res.body).sort(), ['error', 'message', 'statusCode']);
      if (res.status === 400) assert.equal(res.body.message, `body is nested deeper than ${MAX_JSON_DEPTH} levels`);
    });
  }

  test('32 levels are parsed, and then fail validation like any wrong body', async () => {
    const res = await h.request('POST', '/jobs', `{"type":"train-standard","params":{"seed":${nested(MAX_JSON_DEPTH - 2)}}}`);
    assert.equal(res.status, 400);
    assert.equal(res.body.message, 'body/params/seed must be integer');
  });

  test('brackets inside strings do not count', () => {
    assert.equal(nestsDeeperThan(JSON.stringify({ s: '['.repeat(100), t: '\\"[[[' }), 2), false);
    assert.equal(nestsDeeperThan('[[[]]]', 2), true);
    assert.equal(nestsDeeperThan('[[]]', 2), false);
  });

  test('prototype poisoning is still refused', async () => {
    const res = await h.request('POST', '/jobs', '{"type":"train-standard","__proto__":{"admin":true}}');
    assert.equal(res.status, 400);
  });
});

describe('content types', () => {
  const cases: [string, string, number][] = [
    ['application/json; charset=utf-8', '{"type":"train-standard"}', 201],
    ['text/plain', '{"type":"train-standard"}', 400],
    ['application/x-www-form-urlencoded', 'type=train-standard', 415],
    ['multipart/form-data; boundary=x', '--x--', 415],
    ['application/xml', '<job/>', 415],
  ];
  for (const [type, body, status] of cases) {
    test(`${type} -> ${status}`, async () => {
      const res = await h.request('POST', '/jobs', body, { headers: { 'content-type': type } });
      assert.equal(res.status, status, res.body.message);
      assert.deepEqual(Object.keys(res.body).sort(), status === 201 ? Object.keys(res.body).sort() : ['error', 'message', 'statusCode']);
    });
  }
});

describe(`rate limit (MWT_RATE_LIMIT=${RATE_LIMIT} per minute)`, () => {
  test('per key: the request over the limit is a 429 with Retry-After; other keys are not affected', async () => {
    for (let i = 0; i < RATE_LIMIT; i++) assert.equal((await limited.request('GET', '/jobs', undefined, { as: 'alice' })).status, 200);
    const over = await limited.request('GET', '/jobs', undefined, { as: 'alice' });
    assert.equal(over.status, 429);
    assert.equal(over.body.statusCode, 429);
    assert.equal(over.body.error, 'Too Many Requests');
    assert.match(over.body.message, /^rate limit of 5 requests per minute exceeded; retry in \d+ s$/);
    const retryAfter = Number(over.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${over.headers.get('retry-after')}`);
    assert.ok(over.body.message.endsWith(`retry in ${retryAfter} s`), 'the message and the header agree');
    // POST too: the limit is per key, not per route.
    assert.equal((await limited.request('POST', '/jobs', { type: 'train-standard' }, { as: 'alice' })).status, 429);
    assert.equal((await limited.request('GET', '/jobs', undefined, { as: 'bob' })).status, 200);
  });

  test('without a valid key, per client IP: public routes and wrong keys alike', async () => {
    for (let i = 0; i < RATE_LIMIT; i++) assert.equal((await limited.request('GET', '/healthz', undefined, { as: null })).status, 200);
    assert.equal((await limited.request('GET', '/healthz', undefined, { as: null })).status, 429);
    // Guessing keys from the same address is limited too: 429, not another 401.
    const guess = await limited.request('GET', '/jobs', undefined, { as: { secret: `mwt_${'G'.repeat(43)}` } });
    assert.equal(guess.status, 429);
    assert.ok(guess.headers.get('retry-after'));
    // A valid key from that address has its own budget.
    assert.equal((await limited.request('GET', '/jobs', undefined, { as: 'reader' })).status, 200);
  });
});

describe('slow bodies (MWT_REQUEST_TIMEOUT_MS)', () => {
  const TIMEOUT_MS = 1_000;
  let slow: Harness;
  before(async () => {
    slow = await startApp('limits-slow', { env: { MWT_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) } });
  });
  after(() => slow.close());

  /** Sends the head, then `trickle` writes a byte at a time; resolves with the first status line and the time it took. */
  function rawRequest(head: string, trickle: string): Promise<{ statusLine: string; ms: number }> {
    const { port } = new URL(slow.url);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let answer = '';
      let timer: NodeJS.Timeout | undefined;
      socket.on('connect', () => {
        socket.write(head);
        let i = 0;
        timer = setInterval(() => (i < trickle.length ? socket.write(trickle[i++]) : undefined), 200);
      });
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ statusLine: answer.split('\r\n')[0] ?? '', ms: Date.now() - started });
      });
      setTimeout(() => reject(new Error(`no answer after 60 s: ${answer}`)), 60_000).unref();
    });
  }

  const auth = () => `authorization: ${slow.auth('submitter').authorization}\r\n`;

  test('a body trickled a byte every 200 ms -> 408 once the request timeout is up, and the socket is closed', async () => {
    const body = JSON.stringify({ type: 'train-standard', params: { epochs: 1 } });
    const head = `POST /jobs HTTP/1.1\r\nhost: x\r\n${auth()}content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const { statusLine, ms } = await rawRequest(head, body);
    assert.match(statusLine, /^HTTP\/1\.1 408 /);
    // Node checks for late requests once a second: the bound, plus that interval, plus a loaded machine's slack.
    assert.ok(ms >= TIMEOUT_MS && ms < TIMEOUT_MS + 10_000, `answered after ${ms} ms`);
  });

  test('a chunked body announcing a chunk of 2^64 - 1 bytes is not waited for', async () => {
    const head = `POST /jobs HTTP/1.1\r\nhost: x\r\n${auth()}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffff\r\n`;
    const { statusLine, ms } = await rawRequest(head, '{"type":"train-standard"}');
    assert.match(statusLine, /^HTTP\/1\.1 (400|408|413) /);
    assert.ok(ms < TIMEOUT_MS + 10_000, `answered after ${ms} ms`);
  });
});
