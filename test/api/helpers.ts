/**
 * Test harness: the real app on a real port, against real Postgres and Redis. Each test file
 * passes its own queue prefix, so files running in parallel never see each other's BullMQ
 * jobs; rows are tracked and deleted at the end.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createPrisma, type PrismaClient, type RunKind, type JobState } from '@mwt/db';
import { readConfig, type QueuedJob } from '@mwt/shared';
import { buildApp } from '../../apps/api/src/app.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mwt_test';

export interface Harness {
  url: string;
  prisma: PrismaClient;
  redis: Redis;
  queue: Queue<QueuedJob>;
  /** Remember a job id (or an artifact id) for cleanup. */
  trackJob(id: string): string;
  trackArtifact(id: string): string;
  /** JSON in, JSON (typed as T, by default the error body) or text out. */
  request<T = ErrorBody>(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; body: T }>;
  close(): Promise<void>;
}

export async function startApp(name: string): Promise<Harness> {
  const prefix = `mwt-test-${name}-${process.pid}`;
  const config = readConfig({ ...process.env, DATABASE_URL, MWT_QUEUE_PREFIX: prefix, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const prisma = createPrisma(config.databaseUrl);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const queue = new Queue<QueuedJob>(config.queueName, { connection: redis, prefix });
  const app = await buildApp({ config, prisma, redis, queue, ssePollMs: 100 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const url = `http://127.0.0.1:${address.port}`;
  const jobs = new Set<string>();
  const artifacts = new Set<string>();

  return {
    url,
    prisma,
    redis,
    queue,
    trackJob: (id) => (jobs.add(id), id),
    trackArtifact: (id) => (artifacts.add(id), id),
    async request<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(url + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      const parsed: T = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
      if (method === 'POST' && res.status === 201 && path === '/jobs') jobs.add((parsed as { id: string }).id);
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async close() {
      await app.close();
      await prisma.job.deleteMany({ where: { id: { in: [...jobs] } } }); // cascades to runs, metrics, modules...
      await prisma.artifact.deleteMany({ where: { id: { in: [...artifacts] } } });
      await queue.obliterate({ force: true });
      await queue.close();
      await redis.quit();
      await prisma.$disconnect();
    },
  };
}

/** A finished job with one run, as a worker would have left it. */
export async function insertRun(
  h: Harness,
  opts: { kind?: RunKind; status?: JobState; dataset?: string } = {},
): Promise<{ jobId: string; runId: string }> {
  const { kind = 'modular', status = 'completed', dataset = 'mnist' } = opts;
  const job = await h.prisma.job.create({
    data: { type: kind === 'standard' ? 'train_standard' : 'train_modular', state: status, payload: { dataset } },
  });
  h.trackJob(job.id);
  const run = await h.prisma.run.create({
    data: { jobId: job.id, kind, dataset, model: 'simcnn-small', config: { epochs: 2 }, status, epochsDone: 2 },
  });
  return { jobId: job.id, runId: run.id };
}

export async function insertArtifact(h: Harness, bytes: Buffer, fileName = 'module.bin') {
  const artifact = await h.prisma.artifact.create({
    data: {
      kind: 'module',
      fileName,
      contentType: 'application/octet-stream',
      bytes: new Uint8Array(bytes),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
    },
  });
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
