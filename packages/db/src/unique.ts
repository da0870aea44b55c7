import { Prisma } from './generated/client.js';

/** A write refused by a unique index (Prisma's P2002): e.g. a concurrent request with the same Idempotency-Key inserted first. */
export const isUniqueViolation = (err: unknown): boolean => err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
