/**
 * Who is calling, and what that lets them see. A key sees the jobs it submitted and what they
 * produced (runs, modularizations, modules, artifacts); an admin key sees everything. Filters
 * rather than checks after the read, so another key's row is simply not found: a 404 exactly
 * like an unknown id, which tells the caller nothing about other keys' ids.
 */
import type { FastifyRequest } from 'fastify';
import type { Prisma } from '@mwt/db';
import { HttpError } from '../errors.js';
import type { Scope } from './api-keys.js';

export interface Principal {
  /** The API key's id; null when MWT_AUTH=disabled. */
  keyId: string | null;
  /**
   * What KeyCache looks the key up by (sha256 of its secret; null when MWT_AUTH=disabled): a
   * response that outlives its request (an event stream) re-checks the key with it.
   */
  secretHash: string | null;
  scopes: readonly Scope[];
}

/** Every request when MWT_AUTH=disabled. */
export const UNAUTHENTICATED_ADMIN: Principal = { keyId: null, secretHash: null, scopes: ['admin'] };

const isAdmin = (p: Principal) => p.scopes.includes('admin');

/** `admin` implies every other scope. */
export const allows = (p: Principal, scope: Scope) => isAdmin(p) || p.scopes.includes(scope);

/** The caller of a route behind the API-key hooks (apps/api/src/auth/authentication.ts). */
export function principalOf(request: FastifyRequest): Principal {
  // Unreachable while every route sits behind the hooks; if one ever escapes, it fails closed.
  if (!request.principal) throw new HttpError(401, 'no API key was checked for this route');
  return request.principal;
}

/** Where-filter on jobs: the caller's own, or all of them for an admin. */
export function visibleJobs(p: Principal): Prisma.JobWhereInput {
  return isAdmin(p) ? {} : { ownerKeyId: p.keyId };
}

/** Where-filter for rows that belong to the key of their job (runs, modularizations, modules, artifacts). */
export function ownedThroughJob(p: Principal): { job?: Prisma.JobWhereInput } {
  return isAdmin(p) ? {} : { job: visibleJobs(p) };
}
