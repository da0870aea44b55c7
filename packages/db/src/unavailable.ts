/**
 * Tells "PostgreSQL cannot be reached right now" apart from every other database error, so that the
 * API answers 503 (retry later) instead of 500, and a worker waits for the database instead of
 * spending a job's retries on it. The shapes are those of Prisma 6.19 over @prisma/adapter-pg:
 * a PrismaClientKnownRequestError (P1001...) carrying the adapter's error kind, or pg's own Error
 * ("Connection terminated unexpectedly", "Query read timeout") passed through untouched.
 */

/** Prisma's codes for an unreachable server, a dropped connection or an exhausted pool. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);

/** @prisma/adapter-pg's error kinds for the same. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** SQLSTATE: connection exceptions (08...), server shutting down or starting up (57P01..57P03), too many connections. */
const SQLSTATE = /^(08...|57P0[123]|53300)$/;

/** Node socket errors and pg's messages for connections that could not be made or were lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// Line-anchored: Prisma prefixes the driver's message with lines of its own.
const PG_MESSAGES = [
  /^Connection terminated/m, // "... unexpectedly", "... due to connection timeout"
  /^timeout exceeded when trying to connect/m,
  /^Client has encountered a connection error/m,
  /^Connection ended unexpectedly/m,
  // query_timeout (createPrisma): no answer in time, as from a half-open connection or a frozen server.
  /^Query read timeout/m,
];

interface ErrorFields {
  code?: unknown;
  kind?: unknown;
  originalCode?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: ErrorFields } };
  cause?: unknown;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  // Follow `cause` links a few levels: wrappers (ours or Prisma's) keep the original there.
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const fields = e as ErrorFields;
    const adapter = fields.meta?.driverAdapterError?.cause;
    if (typeof fields.code === 'string' && (PRISMA_CODES.has(fields.code) || SOCKET_CODES.has(fields.code) || SQLSTATE.test(fields.code))) return true;
    if (adapter && typeof adapter.kind === 'string' && ADAPTER_KINDS.has(adapter.kind)) return true;
    for (const code of [adapter?.code, adapter?.originalCode]) if (typeof code === 'string' && SQLSTATE.test(code)) return true;
    if (typeof fields.message === 'string' && PG_MESSAGES.some((pattern) => pattern.test(fields.message as string))) return true;
    e = fields.cause;
  }
  return false;
}
