/**
 * The caller of a request. The Principal itself, and what it lets a caller see, live in @mwt/db
 * (the repositories narrow every read of an owned resource by it); this is where a route gets it.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '@mwt/db';
import { HttpError } from '../errors.js';

export { allows, type Principal } from '@mwt/db';

/** Every request when MWT_AUTH=disabled. */
export const UNAUTHENTICATED_ADMIN: Principal = { keyId: null, secretHash: null, scopes: ['admin'] };

/** The caller of a route behind the API-key hooks (apps/api/src/auth/authentication.ts). */
export function principalOf(request: FastifyRequest): Principal {
  // Unreachable while every route sits behind the hooks; if one ever escapes, it fails closed.
  if (!request.principal) throw new HttpError(401, 'no API key was checked for this route');
  return request.principal;
}
