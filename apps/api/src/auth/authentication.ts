/**
 * API keys for every route registered in the context this is installed in, in three steps:
 *   onRequest   identify: `Authorization: Bearer <key>` -> request.principal (or null), via KeyCache;
 *   onRequest   @fastify/rate-limit's per-route hook, which runs after ours and so can count per key;
 *   preParsing  authorize: 401 without a valid key, 403 without the route's scope, before any body is read.
 * Splitting identify from authorize lets requests with a bad key be rate limited (by IP) too.
 * Each route declares its scope in `config.scope`; one that does not fails at startup, so no
 * route is public by omission. The declaration is also the route's OpenAPI `security`.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '@mwt/shared';
import { HttpError } from '../errors.js';
import { RATE_LIMITED, UNAVAILABLE, errors } from '../schemas/common.js';
import { hashSecret, isWellFormedSecret, type Scope } from './api-keys.js';
import type { KeyCache } from './key-cache.js';
import { UNAUTHENTICATED_ADMIN, allows, type Principal } from './principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the caller's key needs for this route (`admin` implies the others). */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** Set by the API-key hooks; null until then, and on routes outside them. */
    principal: Principal | null;
  }
}

/** The OpenAPI security scheme: Swagger UI's "Authorize" sends it as a bearer token. */
export const SECURITY_SCHEME = 'apiKey';
const CHALLENGE = 'Bearer realm="mwt"';

/** The key in `Authorization: Bearer <key>`, or null when absent or not shaped like one of ours. */
function bearerSecret(header: string | undefined): string | null {
  const secret = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
  return secret && isWellFormedSecret(secret) ? secret : null;
}

/**
 * The statuses every route behind keys can answer, whatever it does: no key, the wrong scope, the rate
 * limit, and PostgreSQL down (the key lookup needs it).
 */
function keyedRouteErrors(scope: Scope) {
  return errors({
    401: { missing: MISSING_KEY, invalid: INVALID_KEY },
    403: insufficientScope(scope),
    429: RATE_LIMITED,
    503: UNAVAILABLE,
  });
}

const MISSING_KEY = 'missing Authorization: Bearer <API key>';
const INVALID_KEY = 'invalid or revoked API key';
const insufficientScope = (scope: Scope) => `this API key lacks the ${scope} scope`;

export function requireApiKeys(api: FastifyInstance, config: Config, keys: KeyCache): void {
  api.decorateRequest('principal', null);

  api.addHook('onRoute', (route) => {
    const scope = route.config?.scope;
    if (!scope) throw new Error(`${String(route.method)} ${route.url} declares no config.scope; every route behind API keys must`);
    // onRoute runs before the schema is compiled and before @fastify/swagger reads it.
    const responses = route.schema?.response;
    route.schema = {
      ...route.schema,
      security: [{ [SECURITY_SCHEME]: [scope] }],
      response: { ...keyedRouteErrors(scope), ...(typeof responses === 'object' ? responses : {}) },
    };
  });

  api.addHook('onRequest', async (request) => {
    if (config.auth === 'disabled') {
      request.principal = UNAUTHENTICATED_ADMIN;
      return;
    }
    const secret = bearerSecret(request.headers.authorization);
    if (!secret) return;
    // PostgreSQL down: the error handler's 503, never a 401 that would make a client drop a good key.
    const secretHash = hashSecret(secret);
    const key = await keys.lookup(secretHash);
    request.principal = key && { keyId: key.id, secretHash, scopes: key.scopes };
  });

  api.addHook('preParsing', async (request) => {
    if (!request.principal) {
      // RFC 6750: a bare challenge when no key was sent, invalid_token when one was.
      if (!request.headers.authorization) throw new HttpError(401, MISSING_KEY, { 'www-authenticate': CHALLENGE });
      throw new HttpError(401, INVALID_KEY, { 'www-authenticate': `${CHALLENGE}, error="invalid_token"` });
    }
    const scope = request.routeOptions.config.scope;
    if (scope && !allows(request.principal, scope)) {
      throw new HttpError(403, insufficientScope(scope), {
        'www-authenticate': `${CHALLENGE}, error="insufficient_scope", scope="${scope}"`,
      });
    }
  });
}
