/**
 * Prisma client for the MwT service. The client is generated into ./generated
 * (`npx prisma generate`) with engineType "client": no native query engine, every query goes
 * through node-postgres via @prisma/adapter-pg.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.js';

export * from './generated/client.js';
export { isDatabaseUnavailable } from './unavailable.js';

export interface PrismaOptions {
  /** Pool size; node-postgres' default is 10. */
  max?: number;
  /** Give up on a new connection after this long instead of waiting for ever (pg's default). */
  connectionTimeoutMs?: number;
}

export function createPrisma(databaseUrl: string, options: PrismaOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  });
  return new PrismaClient({ adapter });
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
