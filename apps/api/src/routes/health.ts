/** GET /healthz: liveness of the API and of what it depends on, for probes and compose. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../deps.js';
import { RATE_LIMITED, errors, json, ref } from '../schemas/common.js';
import { Health } from '../schemas/health.js';
import { withTimeout } from '../timeout.js';

const CHECK_TIMEOUT_MS = 1_000;

/** Prisma errors span several lines, the cause in the last one: keep just that. */
function brief(reason: unknown): string {
  const lines = String(reason instanceof Error ? reason.message : reason).split('\n');
  return (
    lines
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? 'failed'
  );
}

const healthRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, { db, redis }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Health of the API, Postgres and Redis',
        operationId: 'getHealth',
        security: [],
        response: {
          200: json(ref(Health), 'PostgreSQL and Redis answer', { examples: { ok: { summary: 'All up', value: { status: 'ok', postgres: 'ok', redis: 'ok' } } } }),
          503: json(ref(Health), 'PostgreSQL or Redis does not answer (within 1 s)', {
            examples: { redisDown: { summary: 'Redis down', value: { status: 'error', postgres: 'ok', redis: 'down', message: 'redis: ping timed out after 1000 ms' } } },
          }),
          ...errors({ 429: RATE_LIMITED }),
        },
      },
    },
    async (_request, reply) => {
      // Each check is bounded, so a hung backend yields 503 rather than a hung probe.
      const [pg, rd] = await Promise.allSettled([db.ping(CHECK_TIMEOUT_MS), withTimeout(redis.ping(), CHECK_TIMEOUT_MS, 'ping')]);
      const problems = [pg.status === 'rejected' ? `postgres: ${brief(pg.reason)}` : null, rd.status === 'rejected' ? `redis: ${brief(rd.reason)}` : null].filter(
        (p): p is string => p !== null,
      );
      const body = {
        status: problems.length === 0 ? ('ok' as const) : ('error' as const),
        postgres: pg.status === 'fulfilled' ? ('ok' as const) : ('down' as const),
        redis: rd.status === 'fulfilled' ? ('ok' as const) : ('down' as const),
        ...(problems.length ? { message: problems.join('; ') } : {}),
      };
      return reply.code(problems.length ? 503 : 200).send(body);
    },
  );
};

export default healthRoutes;
