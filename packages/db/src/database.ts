/**
 * The database as the services use it: one pool, the Prisma client on it, the blob store and one
 * repository per resource. Nothing outside this package talks to Prisma or SQL
 * (test/db/layering.test.ts); every read of an owned resource takes the caller's Principal.
 */
import type pg from 'pg';
import { BlobStore } from './blobs.js';
import { PrismaClient } from './generated/client.js';
import { createPool, type PoolOptions } from './pool.js';
import { ApiKeyRepository } from './repositories/api-keys.js';
import { ArtifactRepository } from './repositories/artifacts.js';
import { JobRepository } from './repositories/jobs.js';
import { ModularizationRepository } from './repositories/modularizations.js';
import { ModuleRepository } from './repositories/modules.js';
import { RunRepository } from './repositories/runs.js';
import { ReleasingPrismaPg } from './transactions.js';

export type DatabaseOptions = PoolOptions;

export interface Database {
  /** For tests and scripts that set up or inspect rows; the services go through the repositories. */
  prisma: PrismaClient;
  pool: pg.Pool;
  /** Artifact bytes and checkpoint states, on the pool (see blobs.ts). */
  blobs: BlobStore;
  jobs: JobRepository;
  runs: RunRepository;
  modularizations: ModularizationRepository;
  modules: ModuleRepository;
  artifacts: ArtifactRepository;
  apiKeys: ApiKeyRepository;
  /** Resolves when PostgreSQL answers `SELECT 1` within timeoutMs, rejects otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /** Ends the client and its pool. */
  close(): Promise<void>;
}

/**
 * A Prisma client on a pool of its own (ended with the client's $disconnect). The client is
 * generated into ./generated (`npx prisma generate`) with engineType "client": no native query
 * engine, every query goes through node-postgres via @prisma/adapter-pg.
 */
function clientOn(pool: pg.Pool): PrismaClient {
  return new PrismaClient({ adapter: new ReleasingPrismaPg(pool, { disposeExternalPool: true }) });
}

/** A bare Prisma client, for tests and scripts that only set up or inspect rows. */
export function createPrisma(databaseUrl: string, options: DatabaseOptions = {}): PrismaClient {
  return clientOn(createPool(databaseUrl, options));
}

export function createDatabase(databaseUrl: string, options: DatabaseOptions = {}): Database {
  const pool = createPool(databaseUrl, options);
  const prisma = clientOn(pool);
  return {
    prisma,
    pool,
    blobs: new BlobStore(pool),
    jobs: new JobRepository(prisma, pool),
    runs: new RunRepository(prisma),
    modularizations: new ModularizationRepository(prisma),
    modules: new ModuleRepository(prisma),
    artifacts: new ArtifactRepository(prisma),
    apiKeys: new ApiKeyRepository(prisma),
    ping: (timeoutMs) => ping(prisma, timeoutMs),
    close: () => prisma.$disconnect(),
  };
}

async function ping(prisma: PrismaClient, timeoutMs = 1_000): Promise<void> {
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
