/**
 * The node-postgres pool under each client createPrisma makes, for the few hot paths Prisma makes
 * slow (blobs.ts, job-inserts.ts): one pool, one connection limit and one $disconnect for all.
 */
import type pg from 'pg';
import type { PrismaClient } from './generated/client.js';

const pools = new WeakMap<PrismaClient, pg.Pool>();

export function registerPool(prisma: PrismaClient, pool: pg.Pool): void {
  pools.set(prisma, pool);
}

export function poolOf(prisma: PrismaClient): pg.Pool {
  const pool = pools.get(prisma);
  if (!pool) throw new Error('this PrismaClient was not made by createPrisma: it has no pool to share');
  return pool;
}

/**
 * Runs `use` on a connection of its own from `pool` and gives it back; closed instead when `use`
 * failed (it may be broken, or mid-statement). While lent out, a connection has no listener for its
 * 'error' event (pg-pool only listens while it is idle), and a connection lost mid-query emits one
 * besides failing the query: unheard, that is an uncaught exception. The query's failure says it all.
 */
export async function withClient<T>(pool: pg.Pool, use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const ignore = () => undefined;
  client.on('error', ignore);
  let failure: Error | undefined;
  try {
    return await use(client);
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off('error', ignore);
    client.release(failure);
  }
}
