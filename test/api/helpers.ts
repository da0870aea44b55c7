/**
 * Test harness: the real app on a real port, against real Postgres and Redis. Each test file
 * passes its own queue prefix, so files running in parallel never see each other's BullMQ
 * jobs; rows are tracked and deleted at the end. Each harness has its own API keys, made by the
 * code the `npm run keys` CLI runs; requests go as `admin` unless told otherwise.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createDatabase, type Database, type PrismaClient, type RunKind, type JobState } from '@mwt/db';
import { createJobQueue, readConfig, type JobQueue } from '@mwt/shared';
import { buildApp } from '../../apps/api/src/app.js';
import { createApiKey, type Scope } from '../../apps/api/src/auth/api-keys.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mwt_test';

/** The keys every harness makes: an admin, two ordinary clients, and one key per single scope. */
const KEY_SCOPES = {
  admin: ['admin'],
  alice: ['read', 'submit'],
  bob: ['read', 'submit'],
  reader: ['read'],
  submitter: ['submit'],
} as const satisfies Record<string, readonly Scope[]>;
export type KeyName = keyof typeof KEY_SCOPES;
export interface TestKey {
  id: string;
  secret: string;
}

/** Who a request goes as: a harness key, a raw Authorization secret, or nobody (null). */
export type Caller = KeyName | { secret: string } | null;

export interface RequestOptions {
  as?: Caller;
  headers?: Record<string, string>;
}

export interface Harness {
  url: string;
  /** The database the app runs on; `prisma` is its client, for setting up and inspecting rows. */
  db: Database;
  prisma: PrismaClient;
  redis: Redis;
  queue: JobQueue;
  keys: Record<KeyName, TestKey>;
  /** Remember a job id (or an artifact or API key id) for cleanup. */
  trackJob(id: string): string;
  trackArtifact(id: string): string;
  trackKey(id: string): string;
  /** The Authorization header of a caller ({} for null). */
  auth(as?: Caller): Record<string, string>;
  /** JSON in, JSON (typed as T, by default the error body) or text out; as `admin` by default. */
  request<T = ErrorBody>(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<{ status: number; headers: Headers; body: T }>;
  /** Plain fetch of a path, as `admin` unless `as` says otherwise. */
  fetch(path: string, init?: RequestInit, as?: Caller): Promise<Response>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Environment on top of the test's (CONFIG_VARS), e.g. MWT_RATE_LIMIT or MWT_AUTH. */
  env?: Record<string, string>;
  keyCacheTtlMs?: number;
}

export async function startApp(name: string, options: HarnessOptions = {}): Promise<Harness> {
  const prefix = `mwt-test-${name}-${process.pid}`;
  const config = readConfig({
    ...process.env,
    DATABASE_URL,
    MWT_QUEUE_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Tests send requests far faster than clients do; the rate-limit test sets its own limit.
    MWT_RATE_LIMIT: '1000000',
    ...options.env,
  });
  const db = createDatabase(config.databaseUrl);
  const { prisma } = db;
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const queue = createJobQueue(config, { connection: redis });
  const app = await buildApp({ config, db, redis, queue, ssePollMs: 100, keyCacheTtlMs: options.keyCacheTtlMs });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const url = `http://127.0.0.1:${address.port}`;
  const jobs = new Set<string>();
  const artifacts = new Set<string>();
  const apiKeys = new Set<string>();

  const keys = {} as Record<KeyName, TestKey>;
  for (const [keyName, scopes] of Object.entries(KEY_SCOPES) as [KeyName, readonly Scope[]][]) {
    const { key, secret } = await createApiKey(db, { name: `test ${name} ${keyName}`, scopes });
    keys[keyName] = { id: key.id, secret };
    apiKeys.add(key.id);
  }
  const auth = (as: Caller = 'admin'): Record<string, string> => {
    if (as === null) return {};
    return { authorization: `Bearer ${typeof as === 'string' ? keys[as].secret : as.secret}` };
  };

  return {
    url,
    db,
    prisma,
    redis,
    queue,
    keys,
    trackJob: (id) => (jobs.add(id), id),
    trackArtifact: (id) => (artifacts.add(id), id),
    trackKey: (id) => (apiKeys.add(id), id),
    auth,
    fetch(path, init = {}, as = 'admin') {
      const headers = new Headers(init.headers);
      for (const [name, value] of Object.entries(auth(as))) headers.set(name, value);
      return fetch(url + path, { ...init, headers });
    },
    async request<T>(method: string, path: string, body?: unknown, { as = 'admin', headers = {} }: RequestOptions = {}) {
      const res = await fetch(url + path, {
        method,
        headers: { ...auth(as), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      const parsed: T = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
      const id = (parsed as { id?: unknown }).id;
      if (method === 'POST' && res.ok && typeof id === 'string') {
        if (path === '/jobs') jobs.add(id);
        if (path === '/keys') apiKeys.add(id);
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async close() {
      await app.close();
      await prisma.job.deleteMany({ where: { id: { in: [...jobs] } } }); // cascades to runs, metrics, modules...
      await prisma.artifact.deleteMany({ where: { id: { in: [...artifacts] } } });
      await prisma.apiKey.deleteMany({ where: { id: { in: [...apiKeys] } } });
      await queue.obliterate({ force: true });
      // Nothing the test made may stay in the shared Redis (BullMQ's meta and events included).
      const left: string[] = [];
      for await (const batch of redis.scanStream({ match: `${prefix}:*` }) as AsyncIterable<string[]>) left.push(...batch);
      if (left.length > 0) throw new Error(`Redis keys left under ${prefix} after the queue was obliterated: ${left.join(', ')}`);
      await queue.close();
      await redis.quit();
      await db.close();
    },
  };
}

/** A finished job with one run, as a worker would have left it; owned by `owner`'s key (by no key if omitted). */
export async function insertRun(h: Harness, opts: { kind?: RunKind; status?: JobState; dataset?: string; owner?: KeyName } = {}): Promise<{ jobId: string; runId: string }> {
  const { kind = 'modular', status = 'completed', dataset = 'mnist', owner } = opts;
  const job = await h.prisma.job.create({
    data: {
      type: kind === 'standard' ? 'train_standard' : 'train_modular',
      state: status,
      payload: { dataset },
      ownerKeyId: owner ? h.keys[owner].id : null,
    },
  });
  h.trackJob(job.id);
  const run = await h.prisma.run.create({
    data: { jobId: job.id, kind, dataset, model: 'simcnn-small', config: { epochs: 2 }, status, epochsDone: 2 },
  });
  return { jobId: job.id, runId: run.id };
}

/** An artifact, stored by job `jobId` as the worker stores one (by no job if omitted). */
export async function insertArtifact(h: Harness, bytes: Buffer, fileName = 'module.bin', jobId: string | null = null) {
  const artifact = {
    id: randomUUID(),
    jobId,
    kind: 'module',
    fileName,
    contentType: 'application/octet-stream',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes,
  } as const;
  await h.db.blobs.writeArtifact(artifact);
  h.trackArtifact(artifact.id);
  return artifact;
}

/** A modularization of `runId` with one class module per class in `classes`. */
export async function insertModularization(h: Harness, jobId: string, runId: string, classes: number[]) {
  const modz = await h.prisma.modularization.create({
    data: { jobId, runId, threshold: 0.9, krr: 0.4, cohesion: 0.9, coupling: 0.1, layers: [{ name: 'conv1', kernels: 4 }], wallMs: 10 },
  });
  const modules = [];
  for (const c of classes) {
    modules.push(
      await h.prisma.module.create({
        data: {
          jobId,
          modularizationId: modz.id,
          kind: 'class',
          classes: [c],
          keptKernels: 2,
          totalKernels: 4,
          kernelRetention: 0.5,
          mask: new Uint8Array([1, 0, 1, 0]),
        },
      }),
    );
  }
  return { modularization: modz, modules };
}

export const unknownId = () => randomUUID();

/** Every route behind API keys: [method, path]. */
export const PROTECTED_ROUTES: [string, string][] = [
  ['POST', '/jobs'],
  ['GET', '/jobs'],
  ['GET', '/jobs/:id'],
  ['DELETE', '/jobs/:id'],
  ['GET', '/jobs/:id/events'],
  ['GET', '/runs/:id'],
  ['GET', '/runs/:id/metrics'],
  ['GET', '/runs/:id/modules'],
  ['GET', '/modularizations/:id'],
  ['GET', '/modules/:id'],
  ['GET', '/modules/:id/download'],
  ['GET', '/artifacts/:id/download'],
  ['POST', '/keys'],
  ['GET', '/keys'],
  ['DELETE', '/keys/:id'],
];
