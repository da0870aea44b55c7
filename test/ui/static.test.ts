/**
 * How the API serves the dashboard (apps/api/src/routes/ui.ts): the built files, index.html for the
 * dashboard's own paths, long caching for hashed assets only, and a 503 page (never a crash) when
 * nothing was built.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import uiRoutes from '../../apps/api/src/routes/ui.js';

const INDEX = '<!doctype html><title>dashboard</title><div id="main"></div>';
const ASSET = 'console.log("dashboard");';

describe('the dashboard, built', () => {
  let app: FastifyInstance;
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mwt-ui-'));
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'index.html'), INDEX);
    await writeFile(join(root, 'assets', 'index-abc123.js'), ASSET);
    app = Fastify();
    await app.register(uiRoutes, { root });
  });
  after(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  it('answers /ui/ and every path below it with index.html, not cached, under a same-origin CSP', async () => {
    for (const url of ['/ui/', '/ui/jobs/3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f', '/ui/modules/x?y=1']) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.body, INDEX, url);
      assert.match(String(response.headers['content-type']), /text\/html/);
      assert.equal(response.headers['cache-control'], 'no-cache');
      assert.match(String(response.headers['content-security-policy']), /default-src 'self'/);
    }
  });

  it('serves hashed assets as immutable, and a missing asset as 404 rather than the page', async () => {
    const asset = await app.inject({ url: '/ui/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.body, ASSET);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    const missing = await app.inject({ url: '/ui/assets/index-old999.js' });
    assert.equal(missing.statusCode, 404);
  });

  it('redirects /ui to /ui/', async () => {
    const response = await app.inject({ url: '/ui' });
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, '/ui/');
  });
});

describe('the dashboard, not built', () => {
  it('answers 503 with the command that builds it', async () => {
    const app = Fastify({ logger: false });
    await app.register(uiRoutes, { root: join(tmpdir(), 'mwt-ui-never-built') });
    for (const url of ['/ui/', '/ui/jobs/1']) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 503, url);
      assert.match(response.body, /npm run build:ui/);
    }
    await app.close();
  });
});
