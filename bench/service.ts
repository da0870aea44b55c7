/**
 * The service under load: POST /jobs and status polls (GET /jobs/:id of a finished pipeline job, with
 * its runs, modularization and modules) throughput and latency (autocannon, from this process,
 * against a real API process on Redis and PostgreSQL), and the download rate of a large module
 * artifact: its first download (streamed from PostgreSQL) and the steady state (from the API's
 * artifact cache, which the second download fills).
 * No worker runs: the jobs stay queued. Everything it creates is deleted afterwards.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { createDatabase, type PrismaClient } from '@mwt/db';
import { createJobQueue, readConfig, sha256 } from '@mwt/shared';
import { createApiKey } from '../apps/api/src/auth/api-keys.js';
import { freePort, startApi } from './api-process.js';
import { downloadLoad, downloadOnce } from './download-load.js';
import { CLOCK_TICK_MS, statFields } from './proc-stat.js';
import { median } from './stats.js';
import type { BenchRow } from './table.js';

const SUBMIT_SECONDS = 10;
const POLL_SECONDS = 10;
/** Class modules of the polled job: MNIST's ten classes. */
const POLLED_MODULES = 10;
const DOWNLOAD_SECONDS = 5;
const ARTIFACT_BYTES = 32 * 1024 * 1024;
/** Artifacts downloaded once each, from PostgreSQL: a single transfer is too noisy on a shared machine. */
const FIRST_DOWNLOADS = 7;
/**
 * Untimed first downloads before those: a fresh API process pays for its first few transfers (V8
 * compiling the download path; on the first two, its socket writes and garbage collection took
 * twice as long), and measured here its CPU per 32 MB fell from 120-230 ms on the first to 30-90
 * from about the fifth, at 120-180 MB/s against 230-340. A long-running API pays that once, not per
 * artifact; the row's note gives these rates too.
 */
const WARMUP_DOWNLOADS = 3;

async function insertPipelineJob(prisma: PrismaClient, ownerKeyId: string): Promise<string> {
  const job = await prisma.job.create({
    data: { type: 'pipeline', state: 'completed', payload: { dataset: 'mnist' }, ownerKeyId, progress: 100, phase: 'reuse', startedAt: new Date(), finishedAt: new Date() },
  });
  const run = (kind: 'modular' | 'standard') =>
    prisma.run.create({ data: { jobId: job.id, kind, dataset: 'mnist', model: 'simcnn-small', config: {}, status: 'completed', epochsDone: 1 } });
  const modular = await run('modular');
  await run('standard');
  const modularization = await prisma.modularization.create({
    data: { jobId: job.id, runId: modular.id, threshold: 0.9, krr: 0.4, cohesion: 0.9, coupling: 0.1, layers: [], wallMs: 1 },
  });
  await prisma.module.createMany({
    data: Array.from({ length: POLLED_MODULES }, (_, c) => ({
      jobId: job.id,
      modularizationId: modularization.id,
      kind: 'class' as const,
      classes: [c],
      keptKernels: 1,
      totalKernels: 2,
      kernelRetention: 0.5,
      mask: new Uint8Array([1, 0]),
    })),
  });
  return job.id;
}

/**
 * CPU time the processes `pids` have used so far, in ms, per process, from /proc/<pid>/task/<tid>/schedstat
 * (Linux; nanoseconds on a CPU, all threads): on a machine shared with other work, what a transfer
 * costs tells more than how long it took.
 */
function cpuMsByProcess(pids: number[]): Map<number, number> {
  const used = new Map<number, number>();
  for (const pid of pids) {
    try {
      let ns = 0;
      for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      used.set(pid, ns / 1e6);
    } catch {
      // gone, or no /proc here
    }
  }
  return used;
}

/** PostgreSQL's backends for `database`, found by their process titles (`postgres: <cluster>: <user> <database> ...`). */
function postgresBackends(database: string): number[] {
  const pids: number[] = [];
  for (const entry of existsSync('/proc') ? readdirSync('/proc') : []) {
    if (!/^\d+$/.test(entry)) continue;
    const title = (() => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (title.startsWith('postgres: ') && title.includes(` ${database} `)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * CPU time this process's ended children have used, in ms (/proc/self/stat's cutime + cstime, in
 * clock ticks of 10 ms): what the curl of a download cost.
 */
function childrenCpuMs(): number {
  // cutime and cstime are fields 16 and 17.
  const fields = statFields('self');
  return fields ? (Number(fields[13]) + Number(fields[14])) * CLOCK_TICK_MS : 0;
}

/**
 * Minor page faults the processes `pids` have taken so far, per process (/proc/<pid>/stat's minflt):
 * where a fault costs 12 us (as on the VM of the README's bench), they can be much of a transfer's CPU.
 */
function minorFaultsByProcess(pids: number[]): Map<number, number> {
  const faults = new Map<number, number>();
  for (const pid of pids) {
    // minflt is field 10.
    const fields = statFields(pid);
    if (fields) faults.set(pid, Number(fields[7]));
  }
  return faults;
}

interface TransferCost {
  apiMs: number;
  postgresMs: number;
  clientMs: number;
  apiFaults: number;
  postgresFaults: number;
}

/** Runs `transfer` and returns the CPU ms (and page faults) it cost the API process, PostgreSQL's backends for `database` and the client (this process's children). */
async function cpuCost<T>(apiPid: number, database: string, transfer: () => Promise<T>): Promise<{ result: T } & TransferCost> {
  // /proc is scanned for the backends once before and once after: each scan reads every process's cmdline.
  const pidsBefore = [apiPid, ...postgresBackends(database)];
  const [before, faultsBefore] = [cpuMsByProcess(pidsBefore), minorFaultsByProcess(pidsBefore)];
  const clientBefore = childrenCpuMs();
  const result = await transfer();
  const pidsAfter = [apiPid, ...postgresBackends(database)];
  const [after, faultsAfter] = [cpuMsByProcess(pidsAfter), minorFaultsByProcess(pidsAfter)];
  const postgres = (used: Map<number, number>, earlier: Map<number, number>) => {
    let sum = 0;
    for (const [pid, value] of used) if (pid !== apiPid) sum += value - (earlier.get(pid) ?? 0);
    return sum;
  };
  return {
    result,
    apiMs: (after.get(apiPid) ?? 0) - (before.get(apiPid) ?? 0),
    postgresMs: postgres(after, before),
    clientMs: childrenCpuMs() - clientBefore,
    apiFaults: (faultsAfter.get(apiPid) ?? 0) - (faultsBefore.get(apiPid) ?? 0),
    postgresFaults: postgres(faultsAfter, faultsBefore),
  };
}

/** CPU per request of a load phase: on two shared cores, what bounds the rate. */
const perRequest = ({ apiMs, postgresMs }: { apiMs: number; postgresMs: number }, requests: number) =>
  `CPU per request: API ${((apiMs * 1000) / requests).toFixed(0)} us, PostgreSQL ${((postgresMs * 1000) / requests).toFixed(0)} us`;

function load(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

export async function benchService(): Promise<BenchRow[]> {
  const config = readConfig();
  const db = createDatabase(config.databaseUrl, { queryTimeoutMs: config.dbQueryTimeoutMs });
  const { prisma } = db;
  const port = await freePort();
  const prefix = `mwt-bench-${randomUUID().slice(0, 8)}`;
  const { key, secret } = await createApiKey(db, { name: 'bench', scopes: ['read', 'submit'] });
  // Rate limiting on, but far above what one client can send: its cost is part of the figure.
  const api = await startApi({ PORT: String(port), HOST: '127.0.0.1', MWT_QUEUE_PREFIX: prefix, MWT_RATE_LIMIT: '10000000', LOG_LEVEL: 'warn' }, 30_000);
  const apiPid = api.pid;
  if (apiPid === undefined) throw new Error('the API process has no pid');
  const base = `http://127.0.0.1:${port}`;
  const authorization = `Bearer ${secret}`;
  try {
    const body = JSON.stringify({ type: 'train-standard', params: { epochs: 1, trainLimit: 100 } });
    const database = new URL(config.databaseUrl).pathname.slice(1);
    const { result: submit, ...submitCpu } = await cpuCost(apiPid, database, () =>
      load({
        url: `${base}/jobs`,
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
        connections: 64,
        duration: SUBMIT_SECONDS,
      }),
    );
    const accepted = await prisma.job.count({ where: { ownerKeyId: key.id } });

    const polledJobId = await insertPipelineJob(prisma, key.id);
    const { result: poll, ...pollCpu } = await cpuCost(apiPid, database, () =>
      load({ url: `${base}/jobs/${polledJobId}`, headers: { authorization }, connections: 64, duration: POLL_SECONDS }),
    );

    // Module-sized downloads: 32 MB artifacts of one of this key's jobs, stored as the worker stores
    // one. Each first download streams from PostgreSQL (the cache admits an artifact on its second
    // download: the first of the load below fills it): the median of FIRST_DOWNLOADS artifacts,
    // one download each.
    const job = await prisma.job.findFirstOrThrow({ where: { ownerKeyId: key.id }, select: { id: true } });
    const firstMs: number[] = [];
    const warmupMs: number[] = [];
    const firstCpu: TransferCost[] = [];
    let downloadUrl = '';
    for (let i = -WARMUP_DOWNLOADS; i < FIRST_DOWNLOADS; i++) {
      const bytes = randomBytes(ARTIFACT_BYTES);
      const artifact = { id: randomUUID(), jobId: job.id, kind: 'module', fileName: 'bench.tar', contentType: 'application/x-tar', sha256: sha256(bytes), bytes } as const;
      await db.blobs.writeArtifact(artifact);
      downloadUrl = `${base}/artifacts/${artifact.id}/download`;
      const { result: first, ...cpu } = await cpuCost(apiPid, database, () => downloadOnce(downloadUrl, { authorization }));
      if (first.status !== 200 || sha256(first.body) !== artifact.sha256) throw new Error('a first download differs from the stored artifact');
      if (i < 0) {
        warmupMs.push(first.ms);
        continue;
      }
      firstCpu.push(cpu);
      firstMs.push(first.ms);
    }
    const coldMs = median(firstMs);
    const rates = (ms: number[]) => ms.map((m) => (ARTIFACT_BYTES / 1e3 / m).toFixed(0)).join(', ');
    const download = await downloadLoad(downloadUrl, { authorization }, 4, DOWNLOAD_SECONDS);
    return [
      {
        section: 'service',
        case: `POST /jobs (64 connections, ${SUBMIT_SECONDS} s)`,
        backend: 'http',
        rate: submit.requests.average,
        unit: 'req',
        p50Ms: submit.latency.p50,
        p99Ms: submit.latency.p99,
        note: `${submit.requests.total} sent, ${submit.non2xx} non-2xx, ${submit.errors} errors; ${accepted} jobs stored; ${perRequest(submitCpu, submit.requests.total)}`,
      },
      {
        section: 'service',
        case: `GET /jobs/:id (64 connections, ${POLL_SECONDS} s)`,
        backend: 'http',
        rate: poll.requests.average,
        unit: 'req',
        p50Ms: poll.latency.p50,
        p99Ms: poll.latency.p99,
        note: `${poll.requests.total} sent, ${poll.non2xx} non-2xx, ${poll.errors} errors; a job with 2 runs, 1 modularization, ${POLLED_MODULES} modules; ${perRequest(pollCpu, poll.requests.total)}`,
      },
      {
        section: 'service',
        case: 'GET /artifacts/:id/download (32 MB, first: from PostgreSQL)',
        backend: 'http',
        rate: ARTIFACT_BYTES / 1e6 / (coldMs / 1000),
        unit: 'MB',
        wallMs: coldMs,
        note:
          `median of ${FIRST_DOWNLOADS} artifacts (${rates(firstMs)} MB/s) after ${WARMUP_DOWNLOADS} that warm the process up (${rates(warmupMs)} MB/s), each by curl, its sha256 checked; ` +
          `CPU per download (median): API ${median(firstCpu.map((c) => c.apiMs)).toFixed(0)} ms, PostgreSQL ${median(firstCpu.map((c) => c.postgresMs)).toFixed(0)} ms, client (curl) ${median(firstCpu.map((c) => c.clientMs)).toFixed(0)} ms; ` +
          `minor page faults per download (median): API ${median(firstCpu.map((c) => c.apiFaults)).toFixed(0)}, PostgreSQL ${median(firstCpu.map((c) => c.postgresFaults)).toFixed(0)}`,
      },
      {
        section: 'service',
        case: `GET /artifacts/:id/download (32 MB, 4 connections, after the first)`,
        backend: 'http',
        rate: download.megabytesPerSecond,
        unit: 'MB',
        p50Ms: download.p50Ms,
        p99Ms: download.p99Ms,
        note: `${download.downloads} downloads, ${download.non2xx} non-2xx`,
      },
    ];
  } finally {
    api.kill('SIGTERM');
    await once(api, 'exit');
    await prisma.job.deleteMany({ where: { ownerKeyId: key.id } }); // cascades to the artifact
    await prisma.apiKey.delete({ where: { id: key.id } });
    await db.close();
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    const queue = createJobQueue({ ...config, queuePrefix: prefix }, { connection: redis });
    await queue.obliterate({ force: true });
    await queue.close();
    await redis.quit();
  }
}
