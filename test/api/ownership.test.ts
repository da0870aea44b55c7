/**
 * Per-key isolation: a key sees the jobs it submitted and what they produced; another key's
 * job, run, modularization, module, artifact or event stream answers 404 exactly like an unknown
 * id, and cannot be referenced by a new job. An admin key sees everything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Static } from 'typebox';
import type { JobList, JobView } from '../../apps/api/src/schemas/job.js';
import type { ModularizationView } from '../../apps/api/src/schemas/resources.js';
import { insertArtifact, insertModularization, insertRun, startApp, unknownId, type Harness, type KeyName } from './helpers.js';

let h: Harness;

interface Owned {
  job: string;
  run: string;
  modularization: string;
  module: string;
  artifact: string;
}

/** What a key's jobs leave behind: a queued job it submitted, and a finished run cut into modules. */
async function resourcesOf(owner: KeyName): Promise<Owned> {
  const submitted = await h.request<JobView>('POST', '/jobs', { type: 'train-standard' }, { as: owner });
  assert.equal(submitted.status, 201);
  const { jobId, runId } = await insertRun(h, { owner });
  const { modularization, modules } = await insertModularization(h, jobId, runId, [0, 1]);
  const artifact = await insertArtifact(h, Buffer.from(`${owner}'s module`), 'module.tar', jobId);
  await h.prisma.module.update({ where: { id: modules[0].id }, data: { artifactId: artifact.id } });
  return { job: submitted.body.id, run: runId, modularization: modularization.id, module: modules[0].id, artifact: artifact.id };
}

let alice: Owned;
let bob: Owned;
before(async () => {
  h = await startApp('ownership');
  alice = await resourcesOf('alice');
  bob = await resourcesOf('bob');
});
after(() => h.close());

/** [method, route, which id it takes, the name in its 404 message] */
const READS: [string, string, keyof Owned, string][] = [
  ['GET', '/jobs/:id', 'job', 'job'],
  ['GET', '/jobs/:id/events', 'job', 'job'],
  ['GET', '/runs/:id', 'run', 'run'],
  ['GET', '/runs/:id/metrics', 'run', 'run'],
  ['GET', '/runs/:id/modules', 'run', 'run'],
  ['GET', '/modularizations/:id', 'modularization', 'modularization'],
  ['GET', '/modules/:id', 'module', 'module'],
  ['GET', '/modules/:id/download', 'module', 'module'],
  ['GET', '/artifacts/:id/download', 'artifact', 'artifact'],
];

describe("another key's resources are not found, exactly like unknown ids", () => {
  for (const [method, route, kind, noun] of READS) {
    test(`${method} ${route}`, async () => {
      const theirs = await h.fetch(route.replace(':id', bob[kind]), { method }, 'alice');
      assert.equal(theirs.status, 404);
      assert.deepEqual(await theirs.json(), { statusCode: 404, error: 'Not Found', message: `${noun} ${bob[kind]} not found` });

      const unknown = unknownId();
      const missing = await h.fetch(route.replace(':id', unknown), { method }, 'alice');
      assert.equal(missing.status, 404);
      assert.deepEqual(Object.keys((await missing.json()) as object), ['statusCode', 'error', 'message']);

      // The owner and the admin do see it (an event stream is closed as soon as it answers).
      for (const as of ['bob', 'admin'] as const) {
        const abort = new AbortController();
        const own = await h.fetch(route.replace(':id', bob[kind]), { method, signal: abort.signal }, as);
        assert.equal(own.status, 200, `${as} ${method} ${route}`);
        abort.abort();
      }
    });
  }

  test('DELETE /jobs/:id of another key -> 404, and the job stays queued', async () => {
    const res = await h.request('DELETE', `/jobs/${bob.job}`, undefined, { as: 'alice' });
    assert.equal(res.status, 404);
    assert.equal(res.body.message, `job ${bob.job} not found`);
    assert.equal((await h.prisma.job.findUniqueOrThrow({ where: { id: bob.job } })).state, 'queued');
  });
});

describe("lists show only the caller's rows", () => {
  test("GET /jobs: own jobs only; an admin sees every key's", async () => {
    const mine = await h.request<Static<typeof JobList>>('GET', '/jobs?limit=100', undefined, { as: 'alice' });
    assert.equal(mine.status, 200);
    const ids = mine.body.items.map((j) => j.id);
    assert.ok(ids.includes(alice.job));
    const owners = await h.prisma.job.findMany({ where: { id: { in: ids } }, select: { ownerKeyId: true } });
    assert.ok(
      owners.every((o) => o.ownerKeyId === h.keys.alice.id),
      "every listed job is alice's",
    );

    const all = await h.request<Static<typeof JobList>>('GET', '/jobs?limit=100', undefined, { as: 'admin' });
    const adminIds = all.body.items.map((j) => j.id);
    assert.ok(adminIds.includes(alice.job) && adminIds.includes(bob.job));
  });

  test("modules of an admin's reuse job cut from alice's run are not alice's to see", async () => {
    const admins = await h.prisma.job.create({ data: { type: 'reuse', state: 'completed', payload: {}, ownerKeyId: h.keys.admin.id } });
    h.trackJob(admins.id);
    const reused = await h.prisma.module.create({
      data: {
        jobId: admins.id,
        modularizationId: alice.modularization,
        kind: 'reused',
        classes: [0, 1],
        keptKernels: 2,
        totalKernels: 4,
        kernelRetention: 0.5,
        mask: new Uint8Array([1, 1, 0, 0]),
      },
    });
    const modules = await h.request<{ items: { id: string }[] }>('GET', `/runs/${alice.run}/modules`, undefined, { as: 'alice' });
    assert.ok(!modules.body.items.some((m) => m.id === reused.id));
    assert.ok(modules.body.items.some((m) => m.id === alice.module));
    const modz = await h.request<ModularizationView>('GET', `/modularizations/${alice.modularization}`, undefined, { as: 'alice' });
    assert.ok(!modz.body.modules.includes(reused.id));
    const asAdmin = await h.request<{ items: { id: string }[] }>('GET', `/runs/${alice.run}/modules`);
    assert.ok(asAdmin.body.items.some((m) => m.id === reused.id));
  });
});

describe("POST /jobs cannot reference another key's run or modularization (404, like an unknown id)", () => {
  test("modularize another key's run", async () => {
    const res = await h.request('POST', '/jobs', { type: 'modularize', params: { runId: bob.run } }, { as: 'alice' });
    assert.equal(res.status, 404);
    assert.equal(res.body.message, `params.runId: run ${bob.run} not found`);
  });

  test("reuse another key's modularization", async () => {
    const res = await h.request('POST', '/jobs', { type: 'reuse', params: { modularizationId: bob.modularization, targetClasses: [0, 1] } }, { as: 'alice' });
    assert.equal(res.status, 404);
    assert.equal(res.body.message, `params.modularizationId: modularization ${bob.modularization} not found`);
  });

  test("reuse with another key's standard run", async () => {
    const standard = await insertRun(h, { kind: 'standard', owner: 'bob' });
    const params = { modularizationId: alice.modularization, targetClasses: [0, 1], standardRunId: standard.runId };
    const res = await h.request('POST', '/jobs', { type: 'reuse', params }, { as: 'alice' });
    assert.equal(res.status, 404);
    assert.equal(res.body.message, `params.standardRunId: run ${standard.runId} not found`);
  });

  test('its own references are accepted, and the new job is its own', async () => {
    const res = await h.request<JobView>('POST', '/jobs', { type: 'modularize', params: { runId: alice.run } }, { as: 'alice' });
    assert.equal(res.status, 201);
    assert.equal((await h.prisma.job.findUniqueOrThrow({ where: { id: res.body.id } })).ownerKeyId, h.keys.alice.id);
  });
});
