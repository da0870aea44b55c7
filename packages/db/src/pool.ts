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
