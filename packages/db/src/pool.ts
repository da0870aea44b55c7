/**
 * The node-postgres pool under the Prisma client (createDatabase), shared with the few hot paths
 * Prisma makes slow (blobs.ts, job-inserts.ts, job-view.ts): one pool, one connection limit and one
 * close for all. It is handed to them, never looked up.
 */
import pg from 'pg';
import { closeUnsettledClients } from './release-guard.js';

export interface PoolOptions {
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

export function createPool(databaseUrl: string, options: PoolOptions = {}): pg.Pool {
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
