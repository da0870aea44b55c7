/**
 * Prisma client for the MwT service. The client is generated into ./generated
 * (`npx prisma generate`) with engineType "client": no native query engine, every query goes
 * through node-postgres via @prisma/adapter-pg, on a pool that the hot paths Prisma makes slow share
 * (pool.ts). Every query has a deadline, and a connection a query gave up on is closed, never lent
 * again (release-guard.ts, transactions.ts).
 */
import pg from 'pg';
import { BlobStore } from './blobs.js';
import { PrismaClient } from './generated/client.js';
import { poolOf, registerPool } from './pool.js';
import { closeUnsettledClients } from './release-guard.js';
import { ReleasingPrismaPg } from './transactions.js';

export * from './generated/client.js';
export { BlobChanged, BlobStore, CHUNK_BYTES, type ArtifactUpload, type StoredCheckpoint } from './blobs.js';
export { insertQueuedJobs, type NewJob } from './job-inserts.js';
export { findJobWithChildIds, type JobOwner, type JobWithChildIds } from './job-view.js';
export { poolOf } from './pool.js';
export { isDatabaseUnavailable } from './unavailable.js';

export interface PrismaOptions {
  /** Pool size; node-postgres' default is 10. */
  max?: number;
  /** Give up on a new connection after this long instead of waiting for ever (pg's default). */
  connectionTimeoutMs?: number;
  /**
   * Fail a query whose answer takes longer than this, and close its connection, instead of waiting
   * for ever (pg's default); MWT_DB_QUERY_TIMEOUT_MS in the services.
   */
  queryTimeoutMs?: number;
}

export function createPrisma(databaseUrl: string, options: PrismaOptions = {}): PrismaClient {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    // Client-side, on purpose. A half-open connection (dead host, dropped NAT entry, frozen server)
    // never answers and is never closed, so only a timer in this process can end the wait; a
    // server-side statement_timeout is enforced by the very server that has stopped answering.
    // Added alongside, it would race this timer on a slow but healthy server and fail with an error
    // of its own (57014, query_canceled). The default is MWT_DB_QUERY_TIMEOUT_MS's: well above the
    // slowest legitimate query (a whole artifact written in one INSERT, a batch of POST /jobs, a
    // 1 MiB blob chunk).
    query_timeout: options.queryTimeoutMs ?? 30_000,
  });
  closeUnsettledClients(pool);
  // An idle connection dropped by the server (a restart) is replaced by the next query; without a
  // listener, pg's 'error' event would end the process.
  pool.on('error', () => undefined);
  const prisma = new PrismaClient({ adapter: new ReleasingPrismaPg(pool, { disposeExternalPool: true }) });
  registerPool(prisma, pool);
  return prisma;
}

const blobStores = new WeakMap<PrismaClient, BlobStore>();

/** Artifact bytes and checkpoint states, on the pool of a client made by createPrisma (see blobs.ts). */
export function blobStore(prisma: PrismaClient): BlobStore {
  let store = blobStores.get(prisma);
  if (!store) blobStores.set(prisma, (store = new BlobStore(poolOf(prisma))));
  return store;
}

/** Resolves when Postgres answers `SELECT 1` within timeoutMs, rejects otherwise. */
export async function healthcheck(prisma: PrismaClient, timeoutMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`postgres did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([prisma.$queryRaw`SELECT 1`, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
