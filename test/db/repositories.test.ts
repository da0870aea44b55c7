/**
 * The repositories narrow every read of an owned resource by the principal they are given: a key
 * finds its own job's rows, another key finds none of them (null or an empty list, as for an
 * unknown id), an admin key and the worker's SYSTEM_PRINCIPAL find all. Real PostgreSQL; rows are
 * made with Prisma directly, as a worker would have left them.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createDatabase, SYSTEM_PRINCIPAL, type Principal } from '@mwt/db';

const db = createDatabase(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mwt_test');
const { prisma } = db;
const keyIds: string[] = [];
const jobIds: string[] = [];
let owner: Principal;
let other: Principal;
let admin: Principal;
let ids: { job: string; run: string; modularization: string; module: string; artifact: string };

async function key(name: string, scopes: ('read' | 'admin')[]): Promise<Principal> {
  const row = await db.apiKeys.create({ name: `repositories ${name}`, prefix: 'mwt_test', secretHash: randomBytes(32).toString('hex'), scopes });
  keyIds.push(row.id);
  return { keyId: row.id, secretHash: null, scopes };
}

before(async () => {
  [owner, other, admin] = [await key('owner', ['read']), await key('other', ['read']), await key('admin', ['admin'])];
  const job = await prisma.job.create({
    data: { type: 'pipeline', state: 'completed', payload: {}, ownerKeyId: owner.keyId, idempotencyKey: `${owner.keyId}:${randomUUID()}`, requestHash: 'h' },
  });
  jobIds.push(job.id);
  const artifact = randomUUID();
  await db.blobs.writeArtifact({ id: artifact, jobId: job.id, kind: 'module', fileName: 'm.tar', contentType: 'application/x-tar', sha256: 'x', bytes: new Uint8Array([1]) });
  const run = await prisma.run.create({ data: { jobId: job.id, kind: 'modular', dataset: 'mnist', model: 'simcnn-small', config: {}, status: 'completed' } });
  await prisma.epochMetric.create({ data: { runId: run.id, epoch: 1, lr: 0.1, trainAccuracy: 0.5, testAccuracy: 0.5, loss: 1, ceLoss: 1, durationMs: 1 } });
  const modz = await prisma.modularization.create({ data: { jobId: job.id, runId: run.id, threshold: 0.9, krr: 0.4, cohesion: 0.9, coupling: 0.1, layers: [], wallMs: 1 } });
  const module = await prisma.module.create({
    data: {
      jobId: job.id,
      modularizationId: modz.id,
      kind: 'class',
      classes: [0],
      keptKernels: 1,
      totalKernels: 2,
      kernelRetention: 0.5,
      mask: new Uint8Array([1]),
      artifactId: artifact,
    },
  });
  ids = { job: job.id, run: run.id, modularization: modz.id, module: module.id, artifact };
});

after(async () => {
  await prisma.job.deleteMany({ where: { id: { in: jobIds } } }); // cascades to everything it made
  await prisma.apiKey.deleteMany({ where: { id: { in: keyIds } } });
  await db.close();
});

/** Every read of an owned resource, as `p` sees it: what it found (an id, a count), or null. */
async function reads(p: Principal) {
  const found = (row: { id: string } | null) => row?.id ?? null;
  const some = (rows: unknown[]) => (rows.length > 0 ? rows.length : null);
  const job = await prisma.job.findUniqueOrThrow({ where: { id: ids.job } });
  return {
    'jobs.find': found(await db.jobs.find(p, ids.job)),
    'jobs.findWithChildIds': found(await db.jobs.findWithChildIds(p, ids.job)),
    'jobs.findState': await db.jobs.findState(p, ids.job),
    'jobs.findByIdempotencyKey': found(await db.jobs.findByIdempotencyKey(p, job.idempotencyKey!)),
    'jobs.list': (await db.jobs.list(p, { take: 1000 })).some((j) => j.id === ids.job) || null,
    'jobs.statuses': some(await db.jobs.statuses(p, [ids.job])),
    'jobs.countByTypeAndState': (await db.jobs.countByTypeAndState(p)).some((c) => c.type === 'pipeline') || null,
    'runs.find': found(await db.runs.find(p, ids.run)),
    'runs.findOfJob': found(await db.runs.findOfJob(p, ids.job, 'modular')),
    'runs.metrics': some(await db.runs.metrics(p, ids.run)),
    'runs.metricsOfJob': some(await db.runs.metricsOfJob(p, ids.job)),
    'modularizations.findWithModuleIds': found(await db.modularizations.findWithModuleIds(p, ids.modularization)),
    'modularizations.findForReuse': found(await db.modularizations.findForReuse(p, ids.modularization)),
    'modularizations.findRunOf': (await db.modularizations.findRunOf(p, ids.modularization))?.dataset ?? null,
    'modularizations.findIdOfJob': await db.modularizations.findIdOfJob(p, ids.job),
    'modularizations.findWithRun': found(await db.modularizations.findWithRun(p, ids.modularization)),
    'modularizations.findWithClassModules': found(await db.modularizations.findWithClassModules(p, ids.modularization)),
    'modules.find': found(await db.modules.find(p, ids.module)),
    'modules.listOfRun': some(await db.modules.listOfRun(p, ids.run)),
    'artifacts.find': found(await db.artifacts.find(p, ids.artifact)),
    'artifacts.findOfModule': found(await db.artifacts.findOfModule(p, ids.module, ids.artifact)),
  };
}

test("the owner, an admin and the system find every row of the owner's job", async () => {
  for (const p of [owner, admin, SYSTEM_PRINCIPAL]) {
    const missing = Object.entries(await reads(p)).filter(([, value]) => value === null);
    assert.deepEqual(missing, [], `keyId ${p.keyId}`);
  }
});

test('another key finds none of them, exactly as if they did not exist', async () => {
  const found = Object.entries(await reads(other)).filter(([, value]) => value !== null);
  assert.deepEqual(found, []);
});

test('a read of an owned resource cannot be written without a principal (checked by tsc: each line below must fail to type-check)', () => {
  const unsafe = [
    // @ts-expect-error the principal is required
    () => db.runs.find(ids.run),
    // @ts-expect-error the principal is required
    () => db.jobs.findWithChildIds(ids.job),
    // @ts-expect-error the principal is required
    () => db.artifacts.find(ids.artifact),
  ];
  assert.equal(unsafe.length, 3);
});
