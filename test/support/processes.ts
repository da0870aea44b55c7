import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Job as BullJob, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { readConfig, type QueuedJob } from '@mwt/shared';

/** A free TCP port on loopback (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Starts one of the service's entry points (apps/api or apps/worker) as a real child process. */
export function startProcess(entry: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => log,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The queue prefixes serviceEnv handed out in this test process: removeServiceKeys() deletes what is under them. */
const servicePrefixes = new Set<string>();

/** Environment of one isolated service instance: its own queue prefix in the shared Redis. */
export function serviceEnv(port: number): Record<string, string> {
  const prefix = `mwt-test-${randomUUID().slice(0, 8)}`;
  servicePrefixes.add(prefix);
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    MWT_QUEUE_PREFIX: prefix,
    // Info: the tests read the workers' lines (worker ready, job started, requeued).
    LOG_LEVEL: 'info',
    MWT_QUIET: '1',
  };
}

/**
 * Worker settings for the recovery tests: short locks and frequent checks, so that a killed worker's
 * job moves on within seconds. The lock stays well above a training step that holds the event loop.
 */
export const FAST_RECOVERY_ENV: Record<string, string> = {
  MWT_LOCK_DURATION_MS: '6000',
  MWT_STALLED_INTERVAL_MS: '1000',
  MWT_RECONCILE_INTERVAL_MS: '1000',
};

/** Starts a worker process and resolves once it takes jobs. */
export async function startWorker(env: Record<string, string>): Promise<ServiceProcess> {
  const worker = startProcess('apps/worker/src/main.ts', env);
  await waitFor('the worker', async () => (worker.output().includes('worker ready') ? true : undefined), 60_000);
  return worker;
}

/** Thrown by a waitFor check when what it waits for can no longer happen (a job failed): waitFor stops at once. */
export class GaveUp extends Error {
  override name = 'GaveUp';
}

/**
 * Polls until `check` returns a value, or fails after `timeoutMs`. Errors a check throws count as
 * "not yet" (a service still starting, a connection refused), except GaveUp, which ends the wait.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch((error: unknown) => {
      if (error instanceof GaveUp) throw error;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The BullMQ job once BullMQ has moved it to its failed set. The worker writes the row first and
 * tells BullMQ after, so a test that saw the row fail must wait here; and the job is read only after
 * its state says failed: a job read first can be stale (still active, attemptsMade 0) by the time
 * its state is asked.
 */
export async function failedInQueue(queue: Queue<QueuedJob>, jobId: string, timeoutMs = 10_000): Promise<BullJob<QueuedJob>> {
  await waitFor('BullMQ to record the failure', async () => ((await queue.getJobState(jobId)) === 'failed' ? true : undefined), timeoutMs);
  const job = await queue.getJob(jobId);
  if (!job) throw new Error(`job ${jobId} left BullMQ after it failed`);
  return job;
}

/** Every Redis key under `prefix` (BullMQ's `<prefix>:<queue>:...`). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<string[]>) keys.push(...batch);
  return keys;
}

/**
 * Deletes every Redis key under the prefixes serviceEnv handed out in this test process (queues,
 * jobs left waiting, BullMQ's meta and events): call it once the processes using them stopped, so
 * that a test run leaves the shared Redis as it found it.
 */
export async function removeServiceKeys(): Promise<void> {
  const redis = new Redis(readConfig().redisUrl);
  try {
    for (const prefix of servicePrefixes) {
      const keys = await keysUnder(redis, prefix);
      if (keys.length > 0) await redis.del(...keys);
      servicePrefixes.delete(prefix);
    }
  } finally {
    await redis.quit();
  }
}
