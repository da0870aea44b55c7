/**
 * A worker process: takes MwT jobs from the BullMQ queue and runs them on the best tfjs backend
 * this machine has (MWT_BACKEND=auto: tfjs-node-gpu, tfjs-node, wasm, cpu). Start any number of
 * them, on any number of hosts, against one Redis and one Postgres.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { initBackend } from '@mwt/core';
import { createPrisma } from '@mwt/db';
import { CANCEL_CHANNEL, readConfig, type QueuedJob } from '@mwt/shared';
import { createProcessor } from './processor';

const config = readConfig();
const backend = await initBackend();
const prisma = createPrisma(config.databaseUrl);
// BullMQ workers block on Redis: they need their own connection, with no retry limit per request.
const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const subscriber = new Redis(config.redisUrl, { maxRetriesPerRequest: null });

/** Ids the API asked to cancel; trainers check this before every batch. */
const cancelled = new Set<string>();
await subscriber.subscribe(CANCEL_CHANNEL);
subscriber.on('message', (_channel: string, jobId: string) => cancelled.add(jobId));

const worker = new Worker<QueuedJob>(config.queueName, createProcessor(prisma, (id) => cancelled.has(id)), {
  connection,
  prefix: config.queuePrefix,
  concurrency: config.workerConcurrency,
  // A training step can hold the event loop for a second on the embedded backend: renew early.
  lockDuration: 60_000,
});
worker.on('active', (job) => log(`job ${job.data.jobId} started (${job.name})`));
worker.on('completed', (job) => log(`job ${job.data.jobId} finished`));
worker.on('failed', (job, error) => log(`job ${job?.data.jobId ?? '?'} failed: ${error.message}`));
worker.on('error', (error) => log(`worker error: ${error.message}`));
log(`worker ready: queue ${config.queueName}, concurrency ${config.workerConcurrency}, backend ${backend.name}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: finishing the current work and closing`);
  await worker.close();
  await Promise.allSettled([subscriber.quit(), connection.quit(), prisma.$disconnect()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

function log(message: string): void {
  console.log(`[worker ${process.pid}] ${new Date().toISOString()} ${message}`);
}
