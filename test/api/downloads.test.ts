/**
 * Where download bytes come from: streamed from PostgreSQL in 1 MiB chunks (ranges across chunk
 * boundaries included), or from the API's artifact cache, which an artifact enters on its second
 * download and later ones are served from without reading its bytes from PostgreSQL again. The API reaches PostgreSQL through
 * a proxy that counts what PostgreSQL sends. (ranges.test.ts covers the headers.)
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CHUNK_BYTES } from '@mwt/db';
import { ArtifactCache } from '../../apps/api/src/artifact-cache.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { DATABASE_URL, insertArtifact, insertRun, startApp, type Harness } from './helpers.js';

const MiB = 1024 * 1024;

/** A harness whose PostgreSQL traffic goes through a counting proxy. */
async function startProxied(name: string, cacheMb: number): Promise<{ h: Harness; proxy: TcpProxy }> {
  const target = new URL(DATABASE_URL);
  const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  const proxied = new URL(DATABASE_URL);
  proxied.host = `127.0.0.1:${proxy.port}`;
  const h = await startApp(name, { env: { DATABASE_URL: proxied.toString(), MWT_ARTIFACT_CACHE_MB: String(cacheMb) } });
  return { h, proxy };
}

/** The body and status of a download, and how many bytes PostgreSQL sent meanwhile. */
async function download(h: Harness, proxy: TcpProxy, artifactId: string, headers: Record<string, string> = {}) {
  const before = proxy.bytesFromTarget;
  const res = await h.fetch(`/artifacts/${artifactId}/download`, { headers }, 'alice');
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, fromPostgres: proxy.bytesFromTarget - before };
}

describe('streamed from PostgreSQL (cache off)', () => {
  let h: Harness;
  let proxy: TcpProxy;
  const bytes = randomBytes(2 * CHUNK_BYTES + 12_345);
  let artifactId: string;
  before(async () => {
    ({ h, proxy } = await startProxied('downloads-stream', 0));
    const { jobId } = await insertRun(h, { owner: 'alice' });
    artifactId = (await insertArtifact(h, bytes, 'big.tar', jobId)).id;
  });
  after(async () => {
    await h.close();
    await proxy.cut();
  });

  test('the whole artifact, read from PostgreSQL every time', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await download(h, proxy, artifactId);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), String(bytes.length));
      assert.ok(res.body.equals(bytes));
      assert.ok(res.fromPostgres >= bytes.length, `${res.fromPostgres} bytes from PostgreSQL`);
    }
  });

  const ranges: [string, number, number][] = [
    ['the two bytes around the first chunk boundary', CHUNK_BYTES - 1, CHUNK_BYTES],
    ['exactly the second chunk', CHUNK_BYTES, 2 * CHUNK_BYTES - 1],
    ['across two boundaries', 10, 2 * CHUNK_BYTES + 10],
    ['the tail of the last chunk', 2 * CHUNK_BYTES + 12_000, 2 * CHUNK_BYTES + 12_344],
  ];
  for (const [name, start, end] of ranges) {
    test(`a range: ${name}`, async () => {
      const res = await download(h, proxy, artifactId, { range: `bytes=${start}-${end}` });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${bytes.length}`);
      assert.ok(res.body.equals(bytes.subarray(start, end + 1)));
    });
  }

  test('a small range reads only its chunk: far less than the artifact', async () => {
    const res = await download(h, proxy, artifactId, { range: 'bytes=-100' });
    assert.ok(res.body.equals(bytes.subarray(bytes.length - 100)));
    assert.ok(res.fromPostgres < 64 * 1024, `${res.fromPostgres} bytes from PostgreSQL`);
  });

  test('HEAD reads no bytes', async () => {
    const before = proxy.bytesFromTarget;
    const res = await h.fetch(`/artifacts/${artifactId}/download`, { method: 'HEAD' }, 'alice');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(bytes.length));
    assert.ok(proxy.bytesFromTarget - before < 64 * 1024);
  });
});

describe('the artifact cache', () => {
  let h: Harness;
  let proxy: TcpProxy;
  let jobId: string;
  before(async () => {
    // 16 MB: artifacts up to 4 MB are cached.
    ({ h, proxy } = await startProxied('downloads-cache', 16));
    ({ jobId } = await insertRun(h, { owner: 'alice' }));
  });
  after(async () => {
    await h.close();
    await proxy.cut();
  });

  test('an artifact downloaded a second time is kept: the third is served from memory, the same bytes, none read from PostgreSQL', async () => {
    const bytes = randomBytes(3 * MiB);
    const { id } = await insertArtifact(h, bytes, 'hot.tar', jobId);
    for (const nth of ['first', 'second']) {
      const streamed = await download(h, proxy, id);
      assert.ok(streamed.body.equals(bytes));
      assert.ok(streamed.fromPostgres >= bytes.length, `${nth}: ${streamed.fromPostgres} bytes from PostgreSQL`);
    }

    const third = await download(h, proxy, id);
    assert.equal(third.status, 200);
    assert.equal(third.headers.get('etag'), `"${createHash('sha256').update(bytes).digest('hex')}"`);
    assert.ok(third.body.equals(bytes));
    assert.ok(third.fromPostgres < 64 * 1024, `third: ${third.fromPostgres} bytes from PostgreSQL`);

    const range = await download(h, proxy, id, { range: 'bytes=1000-1999999' });
    assert.equal(range.status, 206);
    assert.ok(range.body.equals(bytes.subarray(1000, 2_000_000)));
    assert.ok(range.fromPostgres < 64 * 1024);
  });

  test('the cache still checks ownership: another key gets 404', async () => {
    const { id } = await insertArtifact(h, randomBytes(1000), 'mine.tar', jobId);
    assert.equal((await download(h, proxy, id)).status, 200);
    const res = await h.fetch(`/artifacts/${id}/download`, {}, 'bob');
    assert.equal(res.status, 404);
  });

  test('an artifact over a quarter of the cache is streamed every time', async () => {
    const bytes = randomBytes(5 * MiB);
    const { id } = await insertArtifact(h, bytes, 'large.tar', jobId);
    for (let i = 0; i < 2; i++) {
      const res = await download(h, proxy, id);
      assert.ok(res.body.equals(bytes));
      assert.ok(res.fromPostgres >= bytes.length, `download ${i + 1}: ${res.fromPostgres} bytes from PostgreSQL`);
    }
  });
});

describe('ArtifactCache', () => {
  test('evicts the least recently used entries beyond its capacity', () => {
    const cache = new ArtifactCache(16);
    for (const key of ['a', 'b', 'c', 'd']) cache.set(key, [Buffer.alloc(3, key), Buffer.alloc(1, key)]);
    assert.ok(cache.get('a')); // now the most recently used
    cache.set('e', [Buffer.alloc(4, 'e')]);
    assert.equal(cache.get('b'), undefined);
    for (const key of ['a', 'c', 'd', 'e']) assert.equal(Buffer.concat(cache.get(key) ?? []).toString(), key.repeat(4), key);
  });

  test('admits at most a quarter of its capacity per entry, and nothing when off', () => {
    const cache = new ArtifactCache(16);
    cache.set('big', [Buffer.alloc(3), Buffer.alloc(2)]);
    assert.equal(cache.get('big'), undefined);
    const off = new ArtifactCache(0);
    off.set('a', [Buffer.alloc(1)]);
    assert.equal(off.get('a'), undefined);
  });

  test('fills from a complete pass after the first only', async () => {
    const cache = new ArtifactCache(16);
    async function* chunks() {
      yield Buffer.from('ab');
      yield Buffer.from('cd');
    }
    const pass = async () => {
      const parts: Buffer[] = [];
      for await (const chunk of cache.fillFrom('x', 4, chunks())) parts.push(chunk);
      assert.equal(Buffer.concat(parts).toString(), 'abcd');
    };
    await pass();
    assert.equal(cache.get('x'), undefined);
    const cut = cache.fillFrom('x', 4, chunks());
    await cut.next();
    await cut.return(undefined);
    assert.equal(cache.get('x'), undefined);
    await pass();
    assert.equal(Buffer.concat(cache.get('x') ?? []).toString(), 'abcd');
  });
});
