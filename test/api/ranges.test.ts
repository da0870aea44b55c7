/** Downloads: byte ranges (Range, If-Range, 206, 416) and revalidation (If-None-Match lists and weak tags). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { insertArtifact, insertModularization, insertRun, startApp, type Harness } from './helpers.js';

const SIZE = 1000;
const bytes = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 31 + 7) % 256));
const sha = createHash('sha256').update(bytes).digest('hex');
const etag = `"${sha}"`;

let h: Harness;
let artifactPath: string;
let modulePath: string;
before(async () => {
  h = await startApp('ranges');
  const { jobId, runId } = await insertRun(h, { owner: 'alice' });
  const artifact = await insertArtifact(h, bytes, 'module.tar', jobId);
  const { modules } = await insertModularization(h, jobId, runId, [0]);
  await h.prisma.module.update({ where: { id: modules[0].id }, data: { artifactId: artifact.id } });
  artifactPath = `/artifacts/${artifact.id}/download`;
  modulePath = `/modules/${modules[0].id}/download`;
});
after(() => h.close());

const get = (headers: Record<string, string>, path = artifactPath) => h.fetch(path, { headers }, 'alice');

async function expectPart(res: Response, start: number, end: number) {
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${SIZE}`);
  assert.equal(res.headers.get('content-length'), String(end - start + 1));
  assert.equal(res.headers.get('etag'), etag);
  assert.equal(res.headers.get('accept-ranges'), 'bytes');
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(start, end + 1)));
}

async function expectWhole(res: Response) {
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-range'), null);
  assert.equal(res.headers.get('accept-ranges'), 'bytes');
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
}

describe('Range', () => {
  test('no Range: the whole file, advertising Accept-Ranges: bytes', async () => expectWhole(await get({})));

  const parts: [string, number, number][] = [
    ['bytes=0-99', 0, 99],
    ['bytes=100-100', 100, 100],
    ['bytes=990-', 990, 999],
    ['bytes=-10', 990, 999],
    ['bytes=-5000', 0, 999], // a suffix longer than the file: all of it
    ['bytes=500-5000', 500, 999], // an end past the file is clipped
    ['bytes=0-', 0, 999],
    ['BYTES= 20-29 ', 20, 29], // the unit is case-insensitive; whitespace around the value is allowed
  ];
  for (const [range, start, end] of parts) test(`${range} -> 206 bytes ${start}-${end}`, async () => expectPart(await get({ range }), start, end));

  const unsatisfiable = ['bytes=1000-', 'bytes=1000-1200', 'bytes=-0', `bytes=${'9'.repeat(400)}-`];
  for (const range of unsatisfiable) {
    test(`${range.slice(0, 30)} -> 416 with Content-Range: bytes */${SIZE}`, async () => {
      const res = await get({ range });
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('content-range'), `bytes */${SIZE}`);
      const body = (await res.json()) as { statusCode: number; error: string; message: string };
      assert.equal(body.statusCode, 416);
      assert.equal(body.error, 'Range Not Satisfiable');
      assert.match(body.message, /is not satisfiable: the artifact has 1000 bytes$/);
    });
  }

  // Ranges we do not serve are ignored, as RFC 9110 allows: the whole file.
  const ignored = ['bytes=0-1,5-6', 'bytes=5-2', 'bytes=abc', 'bytes=-', 'items=0-5', 'bytes 0-5', 'bytes=0x10-20', 'bytes=1.5-3'];
  for (const range of ignored) test(`${range} -> 200, the whole file`, async () => expectWhole(await get({ range })));

  test('a download resumes: the rest from where it stopped, and the sha256 matches', async () => {
    const head = Buffer.from(await (await get({ range: 'bytes=0-411' })).arrayBuffer());
    const rest = Buffer.from(await (await get({ range: `bytes=${head.length}-`, 'if-range': etag })).arrayBuffer());
    assert.equal(
      createHash('sha256')
        .update(Buffer.concat([head, rest]))
        .digest('hex'),
      sha,
    );
  });

  test('the module download route serves ranges too', async () => expectPart(await get({ range: 'bytes=10-19' }, modulePath), 10, 19));

  test('HEAD with a Range: 206 headers, no body', async () => {
    const res = await h.fetch(artifactPath, { method: 'HEAD', headers: { range: 'bytes=0-9' } }, 'alice');
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes 0-9/${SIZE}`);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });
});

describe('If-Range', () => {
  test('the current ETag: the range is served', async () => expectPart(await get({ range: 'bytes=0-9', 'if-range': etag }), 0, 9));

  // Anything else means the client's copy may be stale: the whole file instead of a range of the new one.
  const stale = ['"0000"', `W/${etag}`, 'Wed, 25 Nov 2026 10:00:00 GMT', sha];
  for (const ifRange of stale) test(`If-Range ${ifRange.slice(0, 24)} -> 200, the whole file`, async () => expectWhole(await get({ range: 'bytes=0-9', 'if-range': ifRange })));

  test('a stale If-Range overrides an unsatisfiable Range: 200, not 416', async () => expectWhole(await get({ range: 'bytes=5000-', 'if-range': '"0000"' })));
});

describe('If-None-Match', () => {
  const matching = [etag, `W/${etag}`, '*', `"a", ${etag}`, `W/"a",W/${etag}`, ` "x" ,  ${etag} `];
  for (const value of matching) {
    test(`${value.slice(0, 30)} -> 304`, async () => {
      const res = await get({ 'if-none-match': value });
      assert.equal(res.status, 304);
      assert.equal(res.headers.get('etag'), etag);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });
  }
  const other = ['"a"', `"a", "b"`, sha, `"${sha.slice(1)}"`, ''];
  for (const value of other) test(`${JSON.stringify(value.slice(0, 30))} -> 200`, async () => expectWhole(await get({ 'if-none-match': value })));

  test('If-None-Match wins over Range: 304', async () => {
    assert.equal((await get({ 'if-none-match': etag, range: 'bytes=0-9' })).status, 304);
  });
});
