/**
 * @fastify/rate-limit settings: MWT_RATE_LIMIT requests per minute per API key, or per client IP
 * for requests without a valid key (public routes, and attempts with a wrong key). Counters live
 * in this process: no Redis round trip per request, and no new failure mode when Redis is down;
 * the price is that N API processes behind a balancer allow a key N times the limit.
 */
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type { Config } from '@mwt/shared';
import { HttpError } from './errors.js';

export function rateLimitOptions(config: Config): RateLimitPluginOptions {
  return {
    global: true,
    max: config.rateLimit,
    timeWindow: 60_000,
    // The API-key hook identifies the caller before the limiter's route hook runs (see authentication.ts).
    keyGenerator: (request) => (request.principal?.keyId ? `key:${request.principal.keyId}` : `ip:${request.ip}`),
    // Thrown, so it reaches errorHandler and leaves in the uniform shape, Retry-After already set.
    errorResponseBuilder: (_request, context) =>
      new HttpError(context.statusCode, `rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`),
  };
}
