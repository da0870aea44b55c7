/**
 * A worker process: takes MwT jobs from the BullMQ queue and runs them on the best tfjs backend
 * this machine has (MWT_BACKEND=auto: tensorflow-gpu, webgpu on a real GPU, tensorflow, native, wasm,
 * cpu). Start any number of
 * them, on any number of hosts, against one Redis and one Postgres. This file only builds the
 * deps from the environment (see CONFIG_VARS), starts the worker (worker.ts) and stops it on a signal.
 */
import { initBackend } from '@mwt/core';
import { createDatabase } from '@mwt/db';
import { createJobQueue, readConfig } from '@mwt/shared';
import { WORKER_NAME } from './identity.js';
import { createWorkerLogger } from './logger.js';
import { startWorker, type RunningWorker } from './worker.js';

/** After SIGTERM, how long the running job may take to reach its next batch before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 30_000;
/** Once no job runs here any more, how long closing the connections (the worker's, the queue, PostgreSQL) may take. */
const CLOSE_DEADLINE_MS = 5_000;

const config = readConfig();
const logger = createWorkerLogger(config.logLevel, WORKER_NAME);
let worker: RunningWorker | undefined;
let stopping = false;

/**
 * SIGTERM/SIGINT: a running job pauses before its next batch, its checkpoint (mid-epoch included)
 * is stored and it goes back to the queue without spending an attempt; then the process exits 0.
 * A second signal, or a job that does not reach a batch boundary in time, exits at once: the job's
 * lock then expires and another worker resumes it from its last checkpoint. A signal while the
 * worker is still starting (probing and initialising the tfjs backend takes seconds) exits 0 at
 * once: it has taken no job yet.
 */
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    logger.warn(`${signal} again: exiting without waiting`);
    process.exit(1);
  }
  stopping = true;
  if (!worker) {
    logger.info(`${signal} while starting: exiting`);
    process.exit(0);
  }
  logger.info(`${signal}: stopping`);
  setTimeout(() => {
    logger.warn(`still busy ${SHUTDOWN_GRACE_MS} ms after ${signal}: exiting`);
    process.exit(1);
  }, SHUTDOWN_GRACE_MS).unref();
  const closed = worker.close().then(() => Promise.allSettled([queue.close(), db.close()]));
  await worker.drained;
  // The job is back in the queue (or none ran): nothing is left to save, and a close that hangs
  // (a reply that never comes on a loaded host) must not keep the process alive.
  const overran = new Promise<true>((resolve) => setTimeout(() => resolve(true), CLOSE_DEADLINE_MS).unref());
  if ((await Promise.race([closed, overran])) === true) logger.warn(`closing still pending ${CLOSE_DEADLINE_MS} ms after the last job stopped: exiting`);
  process.exit(0);
}
// Before the slow start: a signal that finds no handler kills the process (exit code null).
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

const backend = await initBackend();
const db = createDatabase(config.databaseUrl, { queryTimeoutMs: config.dbQueryTimeoutMs });
// The reconciler's: one retry per command, so that a pass fails fast while Redis is away.
const queue = createJobQueue(config, { maxRetriesPerRequest: 1 });
// ioredis reconnects by itself; the worker's 'error' log reports the outage.
queue.on('error', () => undefined);
worker = await startWorker({ config, db, queue, logger, name: WORKER_NAME, backendName: backend.name, closeDeadlineMs: CLOSE_DEADLINE_MS });
