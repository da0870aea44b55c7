/**
 * @prisma/adapter-pg, with one fix: a transaction always gives its connection back to the pool.
 *
 * Prisma 6.19 closes a transaction by sending COMMIT or ROLLBACK and only then calling the
 * adapter's commit()/rollback(), which releases the pg client. When that statement fails (a query
 * timed out and the ROLLBACK queued behind it timed out too, or the connection died), the release
 * never happens: the client stays checked out for good, and each such failure costs the pool one
 * of its `max` connections until none is left and every query waits out the connection timeout.
 * Here a failed COMMIT or ROLLBACK releases the client before the error goes on; the pool then
 * closes it (release-guard.ts: it comes back mid-transaction), and PostgreSQL rolls back whatever
 * the closed connection had open.
 */
import { PrismaPg } from '@prisma/adapter-pg';

type Adapter = Awaited<ReturnType<PrismaPg['connect']>>;
type Transaction = Awaited<ReturnType<Adapter['startTransaction']>>;

/** The statements Prisma ends a transaction with (through executeRaw) before calling commit()/rollback(). */
const CLOSING = new Set(['COMMIT', 'ROLLBACK']);

export class ReleasingPrismaPg extends PrismaPg {
  override async connect(): Promise<Adapter> {
    const adapter = await super.connect();
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => releasedOnFailedClose(await startTransaction(isolationLevel));
    return adapter;
  }
}

function releasedOnFailedClose(transaction: Transaction): Transaction {
  const executeRaw = transaction.executeRaw.bind(transaction);
  transaction.executeRaw = async (query) => {
    try {
      return await executeRaw(query);
    } catch (error) {
      // rollback() only releases the client (the statement was sent, or failed to be); Prisma will not call it now.
      if (CLOSING.has(query.sql)) await transaction.rollback();
      throw error;
    }
  };
  return transaction;
}
