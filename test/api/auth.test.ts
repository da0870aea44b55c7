/** API keys: 401 and 403, the public routes, scopes, the admin routes for keys, revocation, MWT_AUTH=disabled. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createDatabase } from '@mwt/db';
import { readConfig } from '@mwt/shared';
import { buildApp } from '../../apps/api/src/app.js';
import { revokeApiKey } from '../../apps/api/src/auth/api-keys.js';
import type { JobView } from '../../apps/api/src/schemas/job.js';
import type { ApiKeyView } from '../../apps/api/src/schemas/keys.js';
import { freePort, removeServiceKeys, serviceEnv, startProcess, waitFor } from '../support/processes.js';
import { PROTECTED_ROUTES, startApp, unknownId, type Caller, type Harness } from './helpers.js';

const CACHE_TTL_MS = 1_000;
let h: Harness;
before(async () => {
  h = await startApp('auth', { keyCacheTtlMs: CACHE_TTL_MS });
});
after(() => h.close());

/** A route's path with an id that need not exist: auth is decided before any lookup. */
const path = (route: string) => route.replace(':id', unknownId());

describe('401 without a valid key', () => {
  test('no Authorization header: the uniform error body and a bare Bearer challenge', async () => {
    const res = await h.request('GET', '/jobs', undefined, { as: null });
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { statusCode: 401, error: 'Unauthorized', message: 'missing Authorization: Bearer <API key>' });
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="mwt"');
  });

  test('every protected route rejects every kind of bad credential', async () => {
    const revoked = (await h.request<{ key: string; id: string }>('POST', '/keys', { name: 'to revoke', scopes: ['admin'] })).body;
    assert.equal((await h.request('DELETE', `/keys/${revoked.id}`)).status, 200);
    const wellFormedUnknown = `mwt_${'A'.repeat(43)}`;
    const credentials: [string, Record<string, string>][] = [
      ['none', {}],
      ['another scheme', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
      ['scheme only', { authorization: 'Bearer' }],
      ['not shaped like a key', { authorization: 'Bearer mwt_short' }],
      ['a key without the scheme', { authorization: h.keys.admin.secret }],
      ['unknown key', { authorization: `Bearer ${wellFormedUnknown}` }],
      ['revoked key', { authorization: `Bearer ${revoked.key}` }],
      ['key with a character changed', { authorization: `Bearer ${h.keys.admin.secret.slice(0, -1)}${h.keys.admin.secret.endsWith('A') ? 'B' : 'A'}` }],
    ];
    for (const [method, route] of PROTECTED_ROUTES) {
      for (const [what, headers] of credentials) {
        const res = await h.fetch(path(route), { method, headers }, null);
        assert.equal(res.status, 401, `${method} ${route} with ${what}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="mwt"/, `${method} ${route} with ${what}`);
        const body = (await res.json()) as { message: string };
        assert.match(body.message, /^(missing Authorization: Bearer <API key>|invalid or revoked API key)$/);
      }
    }
  });

  test('a present but wrong key is an invalid_token (RFC 6750)', async () => {
    const res = await h.request('GET', '/jobs', undefined, { as: { secret: `mwt_${'B'.repeat(43)}` } });
    assert.equal(res.status, 401);
    assert.equal(res.body.message, 'invalid or revoked API key');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="mwt", error="invalid_token"');
  });

  test('authentication comes before the body: no key and a broken or huge body is still a 401', async () => {
    for (const body of ['{"type":', 'x'.repeat(200_000)]) {
      const res = await h.request('POST', '/jobs', body, { as: null });
      assert.equal(res.status, 401);
    }
  });

  test('PostgreSQL down: 503 in the uniform shape, not a 401 that would make clients drop a good key', async () => {
    // Nothing listens on port 1: the key lookup fails fast.
    const db = createDatabase('postgresql://postgres@127.0.0.1:1/none', { connectionTimeoutMs: 500 });
    const app = await buildApp({ config: readConfig({ LOG_LEVEL: 'silent' }), db, redis: h.redis, queue: h.queue });
    try {
      const res = await app.inject({ method: 'GET', url: '/jobs', headers: h.auth('alice') });
      assert.equal(res.statusCode, 503);
      const body = res.json() as { statusCode: number; error: string; message: string };
      assert.deepEqual({ ...body, message: '' }, { statusCode: 503, error: 'Service Unavailable', message: '' });
      assert.match(body.message, /postgres/i);
    } finally {
      await app.close();
      await db.close();
    }
  });

  test('the scheme is case-insensitive, as RFC 9110 says', async () => {
    const res = await h.fetch('/jobs', { headers: { authorization: `bearer ${h.keys.alice.secret}` } }, null);
    assert.equal(res.status, 200);
  });
});

describe('public routes need no key', () => {
  for (const route of ['/healthz', '/docs/json', '/docs']) {
    test(`GET ${route}`, async () => {
      const res = await h.fetch(route, {}, null);
      assert.equal(res.status, 200);
    });
  }
  test('unknown routes stay 404 without a key', async () => {
    assert.equal((await h.request('GET', '/nope', undefined, { as: null })).status, 404);
  });
});

describe('scopes', () => {
  const cases: [Caller, string, string, number][] = [
    // [caller, method, route, status]
    ['reader', 'GET', '/jobs', 200],
    ['reader', 'POST', '/jobs', 403],
    ['reader', 'DELETE', '/jobs/:id', 403],
    ['reader', 'GET', '/keys', 403],
    ['submitter', 'GET', '/jobs', 403],
    ['submitter', 'GET', '/runs/:id', 403],
    ['submitter', 'DELETE', '/jobs/:id', 404],
    ['submitter', 'POST', '/jobs', 201],
    ['alice', 'GET', '/keys', 403],
    ['alice', 'POST', '/keys', 403],
    ['alice', 'DELETE', '/keys/:id', 403],
    // admin implies read and submit
    ['admin', 'GET', '/jobs', 200],
    ['admin', 'POST', '/jobs', 201],
    ['admin', 'GET', '/keys', 200],
  ];
  for (const [caller, method, route, status] of cases) {
    test(`${JSON.stringify(caller)} ${method} ${route} -> ${status}`, async () => {
      const body = method === 'POST' ? (route === '/jobs' ? { type: 'train-standard' } : { name: 'x', scopes: ['read'] }) : undefined;
      const res = await h.request<{ message?: string }>(method, path(route), body, { as: caller });
      assert.equal(res.status, status, res.body.message);
      if (status === 403) {
        const scope = route.startsWith('/keys') ? 'admin' : method === 'GET' ? 'read' : 'submit';
        assert.deepEqual(res.body, { statusCode: 403, error: 'Forbidden', message: `this API key lacks the ${scope} scope` });
        assert.equal(res.headers.get('www-authenticate'), `Bearer realm="mwt", error="insufficient_scope", scope="${scope}"`);
      }
    });
  }
});

describe('POST /keys, GET /keys, DELETE /keys/:id (admin)', () => {
  test('a created key works at once, is listed without its secret, and is stored only as a hash', async () => {
    const created = await h.request<ApiKeyView & { key: string }>('POST', '/keys', { name: 'ci', scopes: ['read', 'submit'] });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const { key, ...view } = created.body;
    assert.match(key, /^mwt_[A-Za-z0-9_-]{43}$/);
    assert.equal(view.name, 'ci');
    assert.deepEqual(view.scopes, ['read', 'submit']);
    assert.equal(view.prefix, key.slice(0, 12));
    assert.equal(view.revokedAt, null);

    const row = await h.prisma.apiKey.findUniqueOrThrow({ where: { id: view.id } });
    assert.equal(row.secretHash, createHash('sha256').update(key).digest('hex'));
    assert.ok(!JSON.stringify(row).includes(key.slice(12)), 'no column holds the secret');

    const job = await h.request<JobView>('POST', '/jobs', { type: 'train-standard' }, { as: { secret: key } });
    assert.equal(job.status, 201);
    const owner = await h.prisma.job.findUniqueOrThrow({ where: { id: job.body.id }, select: { ownerKeyId: true } });
    assert.equal(owner.ownerKeyId, view.id);

    const list = await h.request<{ items: ApiKeyView[] }>('GET', '/keys');
    assert.equal(list.status, 200);
    const listed = list.body.items.find((k) => k.id === view.id);
    assert.ok(listed);
    assert.ok(listed.lastUsedAt, 'lastUsedAt is set once the key is used');
    assert.deepEqual({ ...listed, lastUsedAt: null }, view);
    assert.ok(!JSON.stringify(list.body).includes(key.slice(12)), 'the list holds no secret');
    assert.ok(!JSON.stringify(list.body).includes('secretHash'));
  });

  test('revoking through the API takes effect at once; revoking again keeps the first date', async () => {
    const { body: created } = await h.request<ApiKeyView & { key: string }>('POST', '/keys', { name: 'short-lived', scopes: ['read'] });
    const as = { secret: created.key };
    assert.equal((await h.request('GET', '/jobs', undefined, { as })).status, 200); // now cached
    const revoked = await h.request<ApiKeyView>('DELETE', `/keys/${created.id}`);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revokedAt);
    assert.equal((await h.request('GET', '/jobs', undefined, { as })).status, 401);
    const again = await h.request<ApiKeyView>('DELETE', `/keys/${created.id}`);
    assert.equal(again.status, 200);
    assert.equal(again.body.revokedAt, revoked.body.revokedAt);
  });

  test('a key revoked elsewhere (another API process, the CLI) stops working within the cache TTL', async () => {
    const { body: created } = await h.request<ApiKeyView & { key: string }>('POST', '/keys', { name: 'revoked elsewhere', scopes: ['read'] });
    const as = { secret: created.key };
    assert.equal((await h.request('GET', '/jobs', undefined, { as })).status, 200);
    const revokedAt = Date.now();
    await revokeApiKey(h.db, created.id);
    await waitFor('the revocation to reach this process', async () => ((await h.request('GET', '/jobs', undefined, { as })).status === 401 ? true : undefined), 5_000, 50);
    assert.ok(Date.now() - revokedAt <= CACHE_TTL_MS + 500, `took ${Date.now() - revokedAt} ms`);
  });

  test('unknown key id -> 404; malformed -> 400', async () => {
    const id = unknownId();
    const res = await h.request('DELETE', `/keys/${id}`);
    assert.equal(res.status, 404);
    assert.equal(res.body.message, `API key ${id} not found`);
    assert.equal((await h.request('DELETE', '/keys/nope')).status, 400);
  });

  const invalid: [unknown, string][] = [
    [{ name: 'x' }, 'body/scopes is required'],
    [{ name: 'x', scopes: [] }, 'body/scopes must NOT have fewer than 1 items'],
    [{ name: 'x', scopes: ['root'] }, 'body/scopes/0 must be one of: read, submit, admin'],
    [{ name: 'x', scopes: ['read', 'read'] }, 'body/scopes must NOT have duplicate items (items ## 0 and 1 are identical)'],
    [{ name: '', scopes: ['read'] }, 'body/name must NOT have fewer than 1 characters'],
    [{ name: 'x'.repeat(101), scopes: ['read'] }, 'body/name must NOT have more than 100 characters'],
    [{ name: 'x', scopes: ['read'], secret: 'mine' }, 'body/secret is not allowed'],
  ];
  for (const [body, message] of invalid) {
    test(`POST /keys ${JSON.stringify(body).slice(0, 60)} -> 400`, async () => {
      const res = await h.request('POST', '/keys', body);
      assert.equal(res.status, 400);
      assert.equal(res.body.message, message);
    });
  }
});

describe('MWT_AUTH=disabled', () => {
  // The job the first test posts waits in that API's queue: nothing of it may stay in Redis.
  after(() => removeServiceKeys());
  /** The API as a real process (main.ts reads MWT_AUTH and logs), with `env` on top of the test's. */
  async function startApi(env: Record<string, string>) {
    const port = await freePort();
    const api = startProcess('apps/api/src/main.ts', { ...serviceEnv(port), ...env });
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitFor('the API', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 60_000);
    } catch (err) {
      await api.stop();
      throw err;
    }
    return { api, base };
  }

  test('every request is admin, jobs have no owner, and the API warns at start', async () => {
    const { api, base } = await startApi({ MWT_AUTH: 'disabled' });
    try {
      assert.match(api.output(), /MWT_AUTH=disabled: NO AUTHENTICATION, every request is treated as admin/);
      const res = await fetch(`${base}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"train-standard"}' });
      assert.equal(res.status, 201);
      const { id } = (await res.json()) as { id: string };
      h.trackJob(id);
      const row = await h.prisma.job.findUniqueOrThrow({ where: { id } });
      assert.equal(row.ownerKeyId, null);
      assert.equal((await fetch(`${base}/keys`)).status, 200, 'admin routes too');
      // ...and only admins see such jobs once keys are required again.
      assert.equal((await h.request('GET', `/jobs/${id}`, undefined, { as: 'alice' })).status, 404);
      assert.equal((await h.request('GET', `/jobs/${id}`)).status, 200);
    } finally {
      await api.stop();
    }
  });

  test('by default (MWT_AUTH unset) a key is required', async () => {
    // Empty means unset (readConfig), whatever the test's own environment says.
    const { api, base } = await startApi({ MWT_AUTH: '' });
    try {
      assert.equal((await fetch(`${base}/jobs`)).status, 401);
      assert.doesNotMatch(api.output(), /NO AUTHENTICATION/);
    } finally {
      await api.stop();
    }
  });
});
