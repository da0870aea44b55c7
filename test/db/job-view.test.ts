/**
 * findJobsWithChildIds (packages/db/src/job-view.ts), the one statement behind GET /jobs/:id: the
 * same row Prisma reads with `include` (four queries), children in creation order, and the owner
 * filter: a key sees its own jobs only, an admin every job; and the jobs repository, whose status
 * polls that arrive together share that statement.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { SYSTEM_PRINCIPAL, createDatabase, findJobsWithChildIds, type JobOwner, type Principal } from '@mwt/db';

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

/** One lookup through the statement. */
const findOne = async (id: string, owner: JobOwner) => (await findJobsWithChildIds(pool, [{ id, owner }]))[0];

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
    assert.deepEqual(await findOne(id, { any: true }), expected);
  }
  const job = await findOne(jobId, { any: true });
  assert.deepEqual([job?.runs.length, job?.modularizations.length, job?.modules.length], [3, 1, 3]);
});

test('a key sees its own jobs only; jobs of no key only an admin or a lookup for no key', async () => {
  assert.equal((await findOne(jobId, { ownerKeyId }))?.id, jobId);
  assert.equal(await findOne(jobId, { ownerKeyId: randomUUID() }), null);
  assert.equal(await findOne(jobId, { ownerKeyId: null }), null);
  assert.equal(await findOne(bareJobId, { ownerKeyId }), null);
  assert.equal((await findOne(bareJobId, { any: true }))?.id, bareJobId);
});

test('an unknown id is null', async () => {
  assert.equal(await findOne(randomUUID(), { any: true }), null);
});

test('one statement answers many lookups, each with its own owner, in the order asked', async () => {
  const stranger = { ownerKeyId: randomUUID() };
  const found = await findJobsWithChildIds(pool, [
    { id: jobId, owner: { ownerKeyId } },
    { id: jobId, owner: stranger },
    { id: randomUUID(), owner: { any: true } },
    { id: bareJobId, owner: { any: true } },
    { id: jobId.toUpperCase(), owner: { any: true } },
    { id: bareJobId, owner: { ownerKeyId: null } },
  ]);
  assert.deepEqual(
    found.map((job) => job?.id ?? null),
    [jobId, null, null, bareJobId, jobId, bareJobId],
  );
  assert.deepEqual(found[0], await prisma.job.findUniqueOrThrow({ where: { id: jobId }, include }));
  assert.deepEqual(await findJobsWithChildIds(pool, []), []);
});

test('status polls that arrive together share one statement', async () => {
  const polling = createDatabase(DATABASE_URL);
  const statements: string[] = [];
  const query = polling.pool.query.bind(polling.pool) as (config: { name?: string }) => Promise<unknown>;
  // Counts what the repository sends: pg's own query, wrapped.
  Object.assign(polling.pool, {
    query: (config: { name?: string }) => {
      statements.push(config.name ?? '?');
      return query(config);
    },
  });
  try {
    const owner: Principal = { keyId: ownerKeyId, secretHash: null, scopes: ['read'] };
    const stranger: Principal = { keyId: randomUUID(), secretHash: null, scopes: ['read'] };
    const polls = await Promise.all([
      polling.jobs.findWithChildIds(owner, jobId),
      polling.jobs.findWithChildIds(stranger, jobId),
      polling.jobs.findWithChildIds(SYSTEM_PRINCIPAL, bareJobId),
      polling.jobs.findWithChildIds(owner, bareJobId),
    ]);
    assert.deepEqual(
      polls.map((job) => job?.id ?? null),
      [jobId, null, bareJobId, null],
    );
    assert.deepEqual(statements, ['mwt-jobs-with-child-ids']);
    // A poll on its own goes out on its own, on the next turn of the event loop.
    assert.equal((await polling.jobs.findWithChildIds(owner, jobId))?.id, jobId);
    assert.equal(statements.length, 2);
  } finally {
    await polling.close();
  }
});
