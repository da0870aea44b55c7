/**
 * Fuzz: FUZZ_REQUESTS (1,500) malformed or hostile requests across every endpoint, drawn from a
 * seeded PRNG (FUZZ_SEED replays a run; see fuzz-cases.ts), sent over raw HTTP so that paths
 * arrive unnormalized. Asserts: no 5xx, no cross-key read (a 2xx or 304 on a resource of another
 * key, or another key's job in a list), no dropped connection, every error in the { statusCode, error,
 * message } shape; prints what was sent and seen.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { createApiKey, revokeApiKey } from '../../apps/api/src/auth/api-keys.js';
import type { JobView } from '../../apps/api/src/schemas/job.js';
import { fuzzRequest, prng, type FuzzRequest, type Owner, type Resources, type World } from './fuzz-cases.js';
import { insertArtifact, insertModularization, insertRun, startApp, type Harness, type KeyName } from './helpers.js';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1_500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const CONCURRENCY = 8;

let h: Harness;
let world: World;

/** One finished run cut into a module with an artifact, plus a queued job, owned by `owner`'s key (none for `nobody`). */
async function resourcesOf(owner: Owner): Promise<Resources> {
  const key: KeyName | undefined = owner === 'nobody' ? undefined : owner;
  const { jobId, runId } = await insertRun(h, { owner: key });
  const { modularization, modules } = await insertModularization(h, jobId, runId, [0, 1]);
  const artifact = await insertArtifact(h, Buffer.from(`${owner}'s module`), 'module.tar', jobId);
  await h.prisma.module.update({ where: { id: modules[0].id }, data: { artifactId: artifact.id } });
  const jobs = [jobId];
  if (key) jobs.push((await h.request<JobView>('POST', '/jobs', { type: 'train-standard' }, { as: key })).body.id);
  return { job: jobs, run: [runId], modularization: [modularization.id], module: modules.map((m) => m.id), artifact: [artifact.id] };
}

before(async () => {
  h = await startApp('fuzz');
  const revoked = await createApiKey(h.db, { name: 'fuzz revoked', scopes: ['admin'] });
  h.trackKey(revoked.key.id);
  await revokeApiKey(h.db, revoked.key.id);
  const owned = { alice: await resourcesOf('alice'), bob: await resourcesOf('bob'), nobody: await resourcesOf('nobody') };
  const ownerOf = new Map<string, Owner>();
  for (const [owner, resources] of Object.entries(owned) as [Owner, Resources][]) {
    for (const ids of Object.values(resources)) for (const id of ids) ownerOf.set(id, owner);
  }
  const secret = (name: KeyName) => h.keys[name].secret;
  world = {
    secrets: { alice: secret('alice'), bob: secret('bob'), reader: secret('reader'), submitter: secret('submitter'), admin: secret('admin'), revoked: revoked.secret },
    owned,
    ownerOf,
  };
});
after(() => h.close());

interface Outcome {
  status: number;
  body: string;
}

function send(request: FuzzRequest): Promise<Outcome> {
  const { port } = new URL(h.url);
  return new Promise((resolve, reject) => {
    // A fresh connection per request (agent: false): through a pooled http.Agent, Node's client
    // reported a few "socket hang up"s, at 8 requests at once, for requests the server never saw.
    const req = http.request({ host: '127.0.0.1', port, method: request.method, path: request.path, headers: request.headers, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      // An event stream stays open: its status is the answer.
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        res.destroy();
        resolve({ status, body: '' });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Longest message a 400, 404 or 414 may carry: it names a field, an id or a path, each cut at 100 characters. */
const MAX_MESSAGE_LENGTH = 300;

/** What is wrong with an error answer's body, or null: exactly { statusCode, error, message }, statusCode the status. */
function errorShapeProblem(status: number, body: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `not JSON: ${body.slice(0, 100)}`;
  }
  const { statusCode, error, message, ...rest } = (parsed ?? {}) as Record<string, unknown>;
  if (statusCode !== status || typeof error !== 'string' || typeof message !== 'string' || Object.keys(rest).length > 0) return body.slice(0, 200);
  if ([400, 404, 414].includes(status) && message.length > MAX_MESSAGE_LENGTH) return `a ${message.length}-character message: ${message.slice(0, 100)}…`;
  return null;
}

const describe = (r: FuzzRequest) => `${r.caller} ${r.method} ${r.path.slice(0, 120)}${r.body ? ` ${r.body.slice(0, 80)}` : ''}`;

test(`${REQUESTS} hostile requests: no 5xx, no cross-key read`, async () => {
  const random = prng(SEED);
  const requests = Array.from({ length: REQUESTS }, () => fuzzRequest(random, world));
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  const crossKey: string[] = [];
  const dropped: string[] = [];
  const misshapen: string[] = [];
  const listed: { caller: FuzzRequest['caller']; ids: string[] }[] = [];
  const started = Date.now();

  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++];
      let outcome: Outcome;
      try {
        outcome = await send(request);
      } catch (err) {
        dropped.push(`${describe(request)}: ${(err as Error).message}`);
        continue;
      }
      const { status, body } = outcome;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) serverErrors.push(`${status} ${describe(request)}: ${body.slice(0, 200)}`);
      if (status >= 400 && request.method !== 'HEAD') {
        const problem = errorShapeProblem(status, body);
        if (problem) misshapen.push(`${status} ${describe(request)}: ${problem}`);
      }
      const read = (status >= 200 && status < 300) || status === 304;
      if (read && request.touches && request.caller !== 'admin' && request.touches !== request.caller) {
        crossKey.push(`${status} ${describe(request)} (a resource of ${request.touches})`);
      }
      if (read && request.method === 'POST' && request.path === '/jobs') h.trackJob((JSON.parse(body) as { id: string }).id);
      if (status === 200 && request.lists) listed.push({ caller: request.caller, ids: (JSON.parse(body) as { items: { id: string }[] }).items.map((j) => j.id) });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  // Lists: every job a non-admin key was shown must be its own.
  const keyIds: Record<string, string> = Object.fromEntries(Object.entries(h.keys).map(([name, key]) => [name, key.id]));
  for (const { caller, ids } of listed.filter((l) => l.caller !== 'admin')) {
    const foreign = await h.prisma.job.count({ where: { id: { in: ids }, NOT: { ownerKeyId: keyIds[caller] ?? null } } });
    if (foreign > 0) crossKey.push(`${caller} GET /jobs listed ${foreign} job(s) of other keys`);
  }

  const counts = [...statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  console.log(
    `fuzz: seed ${SEED}, ${REQUESTS} requests in ${Date.now() - started} ms; statuses { ${counts} }; ` +
      `bad requests (4xx): ${[...statuses].reduce((n, [s, c]) => (s >= 400 && s < 500 ? n + c : n), 0)}; ` +
      `5xx seen: ${serverErrors.length}; misshapen errors: ${misshapen.length}; cross-key reads: ${crossKey.length}; dropped connections: ${dropped.length}`,
  );
  assert.deepEqual(serverErrors, [], 'no 5xx');
  assert.deepEqual(crossKey, [], 'no cross-key read');
  assert.deepEqual(dropped, [], 'every request answered');
  assert.deepEqual(misshapen, [], 'every error is { statusCode, error, message }, and echoes little of the input');
  // Not vacuous: the run reached every kind of answer, reads of one's own resources included.
  for (const status of [200, 201, 206, 400, 401, 403, 404, 413, 415]) assert.ok(statuses.has(status), `saw no ${status}: ${counts}`);
  assert.equal((await h.request('GET', '/healthz')).status, 200, 'the API is still up');
});
