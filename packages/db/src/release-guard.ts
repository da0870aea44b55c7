/**
 * Keeps connections that a timed-out query left behind out of the pool.
 *
 * pg's query_timeout fails the query's promise but leaves its connection mid-query: the query stays
 * the connection's active one, and every query queued behind it waits for an answer that, on a
 * half-open connection, never comes. pool.query() (Prisma's plain queries, BlobStore, job-inserts)
 * hands such a client back with the error, and pg-pool closes it. A Prisma transaction's client
 * comes back without one (transactions.ts), mid-transaction; any other caller could do the same.
 *
 * The rule is pg's own transaction status: a client handed back anything but idle outside a
 * transaction ('I') is mid-transaction, in a failed one, or was never answered; none of that is
 * safe to lend again, so it is closed (pg destroys the socket of a client with a query in flight
 * rather than wait for it) and pg-pool, seeing it ending, drops it and opens a fresh connection
 * when one is needed.
 */
import type pg from 'pg';

export function closeUnsettledClients(pool: pg.Pool): void {
  pool.on('release', (error, client) => {
    // With an error, pg-pool closes the client itself.
    if (error || client.getTransactionStatus() === 'I') return;
    client.end().catch(() => undefined);
  });
}
