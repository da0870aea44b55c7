/**
 * createDatabase's query timeout on real PostgreSQL: a query that gets no answer fails in bounded
 * time as an outage (isDatabaseUnavailable), and the connection it leaves mid-query never serves
 * another query, whether the query ran alone or inside a transaction. The server goes silent
 * through a stalled TcpProxy, or is merely slow (pg_sleep).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDatabase, isDatabaseUnavailable, type Database, type PrismaClient } from '@mwt/db';
import { waitFor } from '../support/processes.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mwt_test';
const QUERY_TIMEOUT_MS = 1_000;
/** A bound on "failed in bounded time" that a busy two-core machine still meets. */
const DEADLINE_MS = 8_000;
/** Each test's own bound: without a query timeout a test would wait for ever, and fail here instead. */
const TEST = { timeout: 60_000 };

async function failure(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await work;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  return assert.fail('expected the query to fail');
}

function assertTimedOut({ error, ms }: { error: unknown; ms: number }): void {
  assert.match((error as Error).message, /Query read timeout/);
  assert.ok(isDatabaseUnavailable(error), 'a timed-out query reads as PostgreSQL unavailable');
  assert.ok(ms >= QUERY_TIMEOUT_MS - 50 && ms < DEADLINE_MS, `failed after ${ms} ms`);
}

describe('PostgreSQL silent (half-open connections)', () => {
  let proxy: TcpProxy;
  let db: Database;
  let prisma: PrismaClient;

  before(async () => {
    const target = new URL(DATABASE_URL);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(DATABASE_URL);
    proxied.host = `127.0.0.1:${proxy.port}`;
    db = createDatabase(proxied.toString(), { queryTimeoutMs: QUERY_TIMEOUT_MS, connectionTimeoutMs: 2_000 });
    prisma = db.prisma;
  });
  after(async () => {
    await proxy.cut();
    await db.close();
  });

  test('a query on an open connection fails after the timeout, the connection is closed, and a restore needs no restart', TEST, async () => {
    const { pool } = db;
    await prisma.$queryRaw`SELECT 1`;
    assert.equal(pool.idleCount, 1, 'one pooled connection, open before the stall');

    proxy.stall();
    assertTimedOut(await failure(prisma.$queryRaw`SELECT 1`));
    await waitFor('the silent connection to leave the pool', async () => (pool.totalCount === 0 ? true : undefined), DEADLINE_MS, 50);
    // A new connection meets the same silence: the connection timeout bounds it.
    const connecting = await failure(prisma.$queryRaw`SELECT 1`);
    assert.ok(isDatabaseUnavailable(connecting.error), String(connecting.error));

    await proxy.restore();
    assert.deepEqual(await prisma.$queryRaw`SELECT 1 AS one`, [{ one: 1 }]);
  });
});

describe('PostgreSQL slower than the query timeout', () => {
  const { prisma, pool, close } = createDatabase(DATABASE_URL, { queryTimeoutMs: QUERY_TIMEOUT_MS, max: 2 });
  after(close);

  test('a transaction whose query timed out closes its connection: none leaks, none is lent mid-transaction', TEST, async () => {
    // More timed-out transactions than the pool has connections: a client kept checked out by each
    // would leave none for the last one, and it would fail waiting for a connection instead.
    for (let i = 0; i < 3; i++) {
      const slow = prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1`;
        await tx.$queryRaw`SELECT 1 FROM pg_sleep(${(QUERY_TIMEOUT_MS * 3) / 1000})`;
      });
      // The query's timeout, then its ROLLBACK's (queued behind the query that is still running).
      const { error, ms } = await failure(slow);
      assert.match((error as Error).message, /Query read timeout/);
      assert.ok(ms < DEADLINE_MS, `transaction ${i} failed after ${ms} ms`);
    }
    await waitFor('the abandoned connections to be closed', async () => (pool.totalCount === 0 ? true : undefined), DEADLINE_MS, 50);
    // A fresh connection, outside any transaction: the next query neither waits behind the sleep nor joins its transaction.
    const started = Date.now();
    const [row] = await prisma.$queryRaw<{ inTransaction: boolean }[]>`SELECT now() <> statement_timestamp() AS "inTransaction"`;
    assert.equal(row?.inTransaction, false);
    assert.ok(Date.now() - started < QUERY_TIMEOUT_MS, `took ${Date.now() - started} ms`);
  });

  test('a plain query that timed out closes its connection', TEST, async () => {
    assertTimedOut(await failure(prisma.$queryRaw`SELECT 1 FROM pg_sleep(${(QUERY_TIMEOUT_MS * 3) / 1000})`));
    await waitFor('the abandoned connection to be closed', async () => (pool.totalCount === 0 ? true : undefined), DEADLINE_MS, 50);
    assert.deepEqual(await prisma.$queryRaw`SELECT 1 AS one`, [{ one: 1 }]);
  });
});
