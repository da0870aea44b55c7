/** GET /healthz: liveness of the API and of what it depends on, for probes and compose. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { AppDeps } from '../deps.js';
import { withTimeout } from '../timeout.js';

const CHECK_TIMEOUT_MS = 1_000;

const Check = Type.Enum(['ok', 'down']);
const Health = Type.Object(
  {
    status: Type.Enum(['ok', 'error']),
    postgres: Check,
    redis: Check,
    message: Type.Optional(Type.String({ description: 'What is down, and why.' })),
  },
  {
    examples: [
      { status: 'ok', postgres: 'ok', redis: 'ok' },
      { status: 'error', postgres: 'ok', redis: 'down', message: 'redis: ping timed out after 1000 ms' },
    ],
  },
);

/** Prisma errors span several lines, the cause in the last one: keep just that. */
function brief(reason: unknown): string {
  const lines = String(reason instanceof Error ? reason.message : reason).split('\n');
  return lines.map((l) => l.trim()).filter(Boolean).at(-1) ?? 'failed';
}

const healthRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, { db, redis }) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'Health of the API, Postgres and Redis', response: { 200: Health, 503: Health } } },
    async (_request, reply) => {
      // Each check is bounded, so a hung backend yields 503 rather than a hung probe.
      const [pg, rd] = await Promise.allSettled([
        db.ping(CHECK_TIMEOUT_MS),
        withTimeout(redis.ping(), CHECK_TIMEOUT_MS, 'ping'),
      ]);
      const problems = [
        pg.status === 'rejected' ? `postgres: ${brief(pg.reason)}` : null,
        rd.status === 'rejected' ? `redis: ${brief(rd.reason)}` : null,
      ].filter((p): p is string => p !== null);
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
