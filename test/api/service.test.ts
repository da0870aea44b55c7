/** The service around the routes: /healthz with backends up and down, /docs/json, readConfig(). */
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { createDatabase } from '@mwt/db';
import { CONFIG_VARS, readConfig } from '@mwt/shared';
import { buildApp } from '../../apps/api/src/app.js';
import { startApp, type Harness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startApp('health');
});
after(() => h.close());

test('GET /healthz: 200 when Postgres and Redis answer', async () => {
  const res = await h.request('GET', '/healthz');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { status: 'ok', postgres: 'ok', redis: 'ok' });
});

test('GET /healthz: 503 naming what is down, without hanging', async () => {
  // Nothing listens on port 1: both checks fail fast.
  const db = createDatabase('postgresql://postgres@127.0.0.1:1/none', { connectionTimeoutMs: 500 });
  const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  const app = await buildApp({ config: readConfig({ LOG_LEVEL: 'silent' }), db, redis, queue: h.queue });
  try {
    const started = Date.now();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    assert.ok(Date.now() - started < 3_000, 'answers within the check timeouts');
    assert.equal(res.statusCode, 503);
    const body = res.json() as { status: string; postgres: string; redis: string; message: string };
    assert.equal(body.status, 'error');
    assert.equal(body.postgres, 'down');
    assert.equal(body.redis, 'down');
    assert.match(body.message, /^postgres: .+; redis: .+$/);
  } finally {
    await app.close();
    await db.close();
    redis.disconnect();
  }
});

test('GET /docs/json: an OpenAPI 3 document listing every route, with examples', async () => {
  type Operation = { tags?: string[]; summary?: string; requestBody?: unknown; responses: Record<string, unknown>; security?: Record<string, string[]>[] };
  interface Document {
    openapi: string;
    info: { title: string };
    paths: Record<string, Record<string, Operation>>;
    tags: { name: string }[];
    components: { securitySchemes: Record<string, { type: string; scheme: string }>; schemas: Record<string, unknown> };
  }
  // The docs are public: no key.
  const res = await h.request<Document>('GET', '/docs/json', undefined, { as: null });
  assert.equal(res.status, 200);
  const doc = res.body;
  assert.match(doc.openapi, /^3\.\d+\.\d+$/);
  assert.ok(doc.info.title);
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  assert.deepEqual(routes.sort(), [
    'DELETE /jobs/{id}',
    'DELETE /keys/{id}',
    'GET /artifacts/{id}/download',
    'GET /datasets',
    'GET /healthz',
    'GET /jobs',
    'GET /jobs/{id}',
    'GET /jobs/{id}/events',
    'GET /keys',
    'GET /metrics',
    'GET /models',
    'GET /modularizations/{id}',
    'GET /modules/{id}',
    'GET /modules/{id}/download',
    'GET /runs/{id}',
    'GET /runs/{id}/metrics',
    'GET /runs/{id}/modules',
    'POST /jobs',
    'POST /keys',
  ]);
  const tags = new Set(doc.tags.map((t) => t.name));
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      assert.ok(op.summary, `${method} ${path} has a summary`);
      assert.ok(op.tags?.length && op.tags.every((t) => tags.has(t)), `${method} ${path} has declared tags`);
      assert.ok(Object.keys(op.responses).length > 0);
    }
  }
  const json = JSON.stringify(doc);
  assert.ok(
    json.includes('"discriminator":{"propertyName":"type","mapping":{"train-modular":"#/components/schemas/TrainModularJobRequest"'),
    'POST /jobs documents its discriminated body',
  );
  const post = JSON.stringify(doc.paths['/jobs'].post.requestBody);
  const body = JSON.stringify(doc.components.schemas.JobRequest);
  for (const type of ['train-modular', 'train-standard', 'modularize', 'reuse', 'pipeline']) assert.ok(body.includes(`"${type}"`));
  assert.ok(post.includes('"examples"'), 'the body has examples');
  assert.ok(JSON.stringify(doc.paths['/jobs/{id}'].get.responses['200']).includes('"examples"'), 'responses have examples');
  assert.ok(json.includes('#/components/schemas/Error"'), 'errors share one schema');

  // Bearer auth: declared once, required (with its scope) by every route but /healthz, so Swagger UI shows the locks.
  assert.deepEqual(doc.components.securitySchemes.apiKey, { ...doc.components.securitySchemes.apiKey, type: 'http', scheme: 'bearer' });
  const scopes = Object.fromEntries(
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => [`${m.toUpperCase()} ${path}`, op.security?.[0]?.apiKey])),
  );
  assert.deepEqual(scopes, {
    'DELETE /jobs/{id}': ['submit'],
    'DELETE /keys/{id}': ['admin'],
    'GET /artifacts/{id}/download': ['read'],
    'GET /datasets': undefined,
    'GET /healthz': undefined,
    'GET /jobs': ['read'],
    'GET /jobs/{id}': ['read'],
    'GET /jobs/{id}/events': ['read'],
    'GET /keys': ['admin'],
    'GET /metrics': ['admin'],
    'GET /models': undefined,
    'GET /modularizations/{id}': ['read'],
    'GET /modules/{id}': ['read'],
    'GET /modules/{id}/download': ['read'],
    'GET /runs/{id}': ['read'],
    'GET /runs/{id}/metrics': ['read'],
    'GET /runs/{id}/modules': ['read'],
    'POST /jobs': ['submit'],
    'POST /keys': ['admin'],
  });
  for (const status of ['401', '403', '429']) assert.ok(doc.paths['/runs/{id}'].get.responses[status], `protected routes document ${status}`);

  const ui = await h.fetch('/docs', { redirect: 'follow' }, null);
  assert.equal(ui.status, 200);
  assert.match(ui.headers.get('content-type') ?? '', /text\/html/);
});

test('readConfig: defaults', () => {
  assert.deepEqual(readConfig({}), {
    port: 3000,
    host: '0.0.0.0',
    databaseUrl: 'postgresql://postgres@127.0.0.1:5432/mwt',
    dbQueryTimeoutMs: 30_000,
    redisUrl: 'redis://127.0.0.1:6379',
    queueName: 'mwt-jobs',
    queuePrefix: 'bull',
    workerConcurrency: 1,
    logLevel: 'info',
    lockDurationMs: 60_000,
    stalledIntervalMs: 30_000,
    maxStalledCount: 2,
    reconcileIntervalMs: 5_000,
    auth: 'enabled',
    rateLimit: 600,
    artifactCacheMb: 256,
    requestTimeoutMs: 30_000,
    workerMemoryMb: Math.floor((totalmem() * 0.75) / (1024 * 1024)),
  });
});

test('readConfig: every variable is listed once, with its default and a description', () => {
  const defaults = readConfig({});
  assert.equal(new Set(CONFIG_VARS.map((v) => v.name)).size, CONFIG_VARS.length);
  assert.deepEqual(CONFIG_VARS.map((v) => v.key).sort(), Object.keys(defaults).sort());
  for (const v of CONFIG_VARS) {
    assert.ok(v.description.length > 10, v.name);
    // `auto` (the worker memory budget) is computed from the host: checked in the test above.
    if (v.default !== 'auto') assert.equal(String(defaults[v.key]), v.default, `${v.name} default`);
  }
});

test('readConfig: values from the environment; empty means unset', () => {
  const config = readConfig({ PORT: '8080', WORKER_CONCURRENCY: '4', LOG_LEVEL: 'debug', MWT_QUEUE: 'q', HOST: '', MWT_AUTH: 'disabled', MWT_RATE_LIMIT: '50000' });
  assert.equal(config.port, 8080);
  assert.equal(config.workerConcurrency, 4);
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.queueName, 'q');
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.auth, 'disabled');
  assert.equal(config.rateLimit, 50_000);
});

test('readConfig: invalid values throw naming the variable', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'http' }, /^PORT must be an integer in 0\.\.65535, got "http"$/],
    [{ PORT: '70000' }, /^PORT /],
    [{ WORKER_CONCURRENCY: '0' }, /^WORKER_CONCURRENCY must be an integer in 1\.\.64/],
    [{ WORKER_CONCURRENCY: '1.5' }, /^WORKER_CONCURRENCY /],
    [{ MWT_WORKER_MEMORY_MB: '32' }, /^MWT_WORKER_MEMORY_MB must be an integer in 64\.\.16777216, got "32"$/],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL is not a valid URL/],
    [{ DATABASE_URL: 'mysql://x/y' }, /^DATABASE_URL must use postgresql: or postgres:/],
    [{ REDIS_URL: 'http://x' }, /^REDIS_URL must use redis: or rediss:/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ MWT_QUEUE: 'a:b' }, /^MWT_QUEUE must not contain ':'/],
    [{ MWT_QUEUE_PREFIX: '  ' }, /^MWT_QUEUE_PREFIX must not be empty/],
    // Only the exact word turns authentication off: a typo must not.
    [{ MWT_AUTH: 'off' }, /^MWT_AUTH must be one of enabled, disabled, got "off"$/],
    [{ MWT_AUTH: 'Disabled' }, /^MWT_AUTH must be one of enabled, disabled/],
    [{ MWT_RATE_LIMIT: '0' }, /^MWT_RATE_LIMIT must be an integer in 1\.\.10000000/],
    [{ MWT_RATE_LIMIT: '1e6' }, /^MWT_RATE_LIMIT /],
    [{ MWT_ARTIFACT_CACHE_MB: '-1' }, /^MWT_ARTIFACT_CACHE_MB must be an integer in 0\.\.65536/],
  ];
  for (const [env, message] of cases) assert.throws(() => readConfig(env), { message });
});
