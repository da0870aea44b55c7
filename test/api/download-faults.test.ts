/**
 * A download from PostgreSQL that fails halfway, in a real API process: the artifact's row is
 * rewritten, or PostgreSQL is cut off (through a proxy), while a slow client reads. The API reads
 * chunks ahead of a slow client; one that fails while nobody awaits it must end that transfer (the
 * client sees it truncated, never bytes of two versions) and nothing else: the same process goes on
 * serving. The cache is off, so every download streams from PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDatabase, type ArtifactUpload } from '@mwt/db';
import { readConfig } from '@mwt/shared';
import { AUTH_ENV, testApiKey } from '../support/api-client.js';
import { freePort, removeServiceKeys, serviceEnv, startProcess, waitFor, type ServiceProcess } from '../support/processes.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const databaseUrl = readConfig().databaseUrl;
const db = createDatabase(databaseUrl);
const { prisma } = db;
/** Far more than the socket buffers and the chunks read ahead hold: the transfer is mid-way when the fault comes. */
const SIZE = 32 * 1024 * 1024;
/** How long the client reads slowly after the fault: long enough for the failing reads ahead to end meanwhile. */
const SLOW_MS = 3_000;
const jobIds: string[] = [];

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function storeArtifact(bytes: Buffer, id: string, jobId: string): Promise<ArtifactUpload> {
  const artifact = { id, jobId, kind: 'module', fileName: 'big.tar', contentType: 'application/x-tar', sha256: sha256(bytes), bytes } as const;
  await db.blobs.writeArtifact(artifact);
  return artifact;
}

interface Transfer {
  status: number;
  body: Buffer;
  complete: boolean;
}

/**
 * Downloads `url`; once the first bytes arrive, runs `fault` with the client not reading, then reads
 * slowly (a pause after each socket read) for SLOW_MS, then as fast as it can until the end.
 */
async function download(url: string, fault: () => Promise<void> = async () => undefined): Promise<Transfer> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    request(url, { headers: { authorization: `Bearer ${testApiKey()}` } }, resolve)
      .on('error', reject)
      .end();
  });
  const parts: Buffer[] = [];
  let slowUntil = Infinity;
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, done) {
      const first = parts.length === 0;
      parts.push(chunk);
      if (first) {
        fault().then(() => {
          slowUntil = Date.now() + SLOW_MS;
          done();
        }, done);
      } else if (Date.now() < slowUntil) setTimeout(done, 50);
      else done();
    },
  });
  const complete = await pipeline(res, sink).then(
    () => res.complete,
    () => false,
  );
  return { status: res.statusCode ?? 0, body: Buffer.concat(parts), complete };
}

describe('a download that fails halfway', () => {
  let proxy: TcpProxy;
  let api: ServiceProcess;
  let base: string;
  let jobId: string;

  before(async () => {
    const target = new URL(databaseUrl);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(databaseUrl);
    proxied.host = `127.0.0.1:${proxy.port}`;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startProcess('apps/api/src/main.ts', { ...serviceEnv(port), ...AUTH_ENV, DATABASE_URL: proxied.toString(), MWT_ARTIFACT_CACHE_MB: '0' });
    await waitFor('the API', async () => ((await fetch(`${base}/healthz`)).status === 200 ? true : undefined), 60_000);
    jobId = (await prisma.job.create({ data: { type: 'train_modular', state: 'completed', payload: {} } })).id;
    jobIds.push(jobId);
  });
  after(async () => {
    await api.stop();
    await removeServiceKeys();
    await proxy.cut();
    await prisma.job.deleteMany({ where: { id: { in: jobIds } } }); // cascades to the artifacts
    await db.close();
  });

  /** The API process still runs and streams a whole artifact from PostgreSQL. */
  async function assertServes(artifact: ArtifactUpload): Promise<void> {
    assert.equal(api.child.exitCode, null, `the API exited:\n${api.output()}`);
    const again = await download(`${base}/artifacts/${artifact.id}/download`);
    assert.equal(again.status, 200);
    assert.ok(again.complete);
    assert.equal(sha256(again.body), artifact.sha256);
  }

  test('the row rewritten while a slow client reads: a truncated transfer of the old bytes, and the API lives on', async () => {
    const old = await storeArtifact(randomBytes(SIZE), randomUUID(), jobId);
    let rewritten: ArtifactUpload | undefined;
    const cut = await download(`${base}/artifacts/${old.id}/download`, async () => {
      rewritten = await storeArtifact(randomBytes(SIZE), old.id, jobId);
    });
    assert.equal(cut.status, 200);
    assert.equal(cut.complete, false);
    assert.ok(cut.body.length < SIZE, `${cut.body.length} bytes of ${SIZE} arrived`);
    assert.ok(cut.body.equals(old.bytes.subarray(0, cut.body.length)), 'the bytes that arrived are the old version, unmixed');
    await assertServes(rewritten!);
  });

  test('PostgreSQL cut off while a slow client reads: a truncated transfer, and the API serves again once it is back', async () => {
    const artifact = await storeArtifact(randomBytes(SIZE), randomUUID(), jobId);
    const cut = await download(`${base}/artifacts/${artifact.id}/download`, () => proxy.cut());
    assert.equal(cut.status, 200);
    assert.equal(cut.complete, false);
    assert.ok(cut.body.length < SIZE, `${cut.body.length} bytes of ${SIZE} arrived`);
    assert.ok(cut.body.equals(artifact.bytes.subarray(0, cut.body.length)));
    assert.equal(api.child.exitCode, null, `the API exited:\n${api.output()}`);
    await proxy.restore();
    await waitFor('PostgreSQL to be back', async () => ((await fetch(`${base}/healthz`)).status === 200 ? true : undefined), 30_000);
    await assertServes(artifact);
  });
});
