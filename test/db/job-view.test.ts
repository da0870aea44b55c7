/**
 * findJobWithChildIds (packages/db/src/job-view.ts), the one statement behind GET /jobs/:id: the
 * same row Prisma reads with `include` (four queries), children in creation order, and the owner
 * filter: a key sees its own jobs only, an admin every job.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createDatabase, findJobWithChildIds } from '@mwt/db';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mwt_test';
const db = createDatabase(DATABASE_URL);
const { prisma, pool } = db;
const include = {
  runs: { select: { id: true }, orderBy: { createdAt: 'asc' } },
  modularizations: { select: { id: true }, orderBy: { createdAt: 'asc' } },
  modules: { select: { id: true }, orderBy: { createdAt: 'asc' } },
} as const;
let ownerKeyId: string;
let jobId: string;
let bareJobId: string;

before(async () => {
  ownerKeyId = (await prisma.apiKey.create({ data: { name: 'job-view test', prefix: 'mwt_x', secretHash: randomUUID(), scopes: ['read'] } })).id;
  const job = await prisma.job.create({
    data: {
      type: 'pipeline',
      state: 'running',
      payload: { dataset: 'mnist', epochs: 3, lr: 1e-7, nested: { list: [1, 'two', null] } },
      progress: 42.5,
      phase: 'reuse',
      epoch: 2,
      totalEpochs: 3,
      message: 'fine-tuning',
      result: { accuracy: 0.987654321 },
      attempts: 2,
      startedAt: new Date('2026-11-25T10:00:00.123Z'),
      ownerKeyId,
    },
  });
  jobId = job.id;
  // Created one by one, so that creation order is well defined (timestamps have millisecond precision).
  const runs = [];
  for (const kind of ['modular', 'standard', 'module'] as const) {
    runs.push(await prisma.run.create({ data: { jobId, kind, dataset: 'mnist', model: 'simcnn-small', config: {} } }));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const modularization = await prisma.modularization.create({
    data: { jobId, runId: runs[0].id, threshold: 0.9, krr: 0.4, cohesion: 0.9, coupling: 0.1, layers: [], wallMs: 1 },
  });
  for (const c of [3, 1, 2]) {
    await prisma.module.create({
      data: { jobId, modularizationId: modularization.id, kind: 'class', classes: [c], keptKernels: 1, totalKernels: 2, kernelRetention: 0.5, mask: new Uint8Array([1, 0]) },
    });
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  bareJobId = (await prisma.job.create({ data: { type: 'train_standard', payload: {} } })).id;
});
after(async () => {
  await prisma.job.deleteMany({ where: { id: { in: [jobId, bareJobId] } } });
  await prisma.apiKey.delete({ where: { id: ownerKeyId } });
  await db.close();
});

test('the same row and child ids as Prisma with include, in creation order', async () => {
  for (const id of [jobId, bareJobId]) {
    const expected = await prisma.job.findUniqueOrThrow({ where: { id }, include });
    assert.deepEqual(await findJobWithChildIds(pool, id, { any: true }), expected);
  }
  const job = await findJobWithChildIds(pool, jobId, { any: true });
  assert.deepEqual([job?.runs.length, job?.modularizations.length, job?.modules.length], [3, 1, 3]);
});

test('a key sees its own jobs only; jobs of no key only an admin or a lookup for no key', async () => {
  assert.equal((await findJobWithChildIds(pool, jobId, { ownerKeyId }))?.id, jobId);
  assert.equal(await findJobWithChildIds(pool, jobId, { ownerKeyId: randomUUID() }), null);
  assert.equal(await findJobWithChildIds(pool, jobId, { ownerKeyId: null }), null);
  assert.equal(await findJobWithChildIds(pool, bareJobId, { ownerKeyId }), null);
  assert.equal((await findJobWithChildIds(pool, bareJobId, { any: true }))?.id, bareJobId);
});

test('an unknown id is null', async () => {
  assert.equal(await findJobWithChildIds(pool, randomUUID(), { any: true }), null);
});
