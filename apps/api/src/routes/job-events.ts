/** GET /jobs/:id/events: a job's progress as Server-Sent Events. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { KeyCache } from '../auth/key-cache.js';
import { principalOf } from '../auth/principal.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { streamJob } from '../jobs/event-stream.js';
import { ProgressHub } from '../jobs/progress-hub.js';
import { isStreamId } from '../jobs/stream-ids.js';
import { BAD_ID, IdParams, errors, notFoundMessage } from '../schemas/common.js';
import { SseDescription } from '../schemas/job.js';
import { toJobStatus } from '../views.js';

export interface JobEventRouteOptions extends AppDeps {
  /** The cache authentication uses: open streams re-check their key through it at each poll. */
  keyCache: KeyCache;
}

const jobEventRoutes: FastifyPluginAsyncTypebox<JobEventRouteOptions> = async (app, { db, queue, redis, keyCache, ssePollMs = 1_000 }) => {
  const hub = new ProgressHub(queue, redis, db, app.log, ssePollMs);
  const open = new Set<() => void>();
  // Open streams would keep server.close() waiting for ever.
  app.addHook('preClose', async () => open.forEach((close) => close()));
  app.addHook('onClose', () => hub.close());

  app.get(
    '/jobs/:id/events',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['jobs'],
        summary: "Stream a job's progress (Server-Sent Events)",
        description: SseDescription,
        operationId: 'streamJobEvents',
        params: IdParams,
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({ maxLength: 64, description: 'The id of the last event received: a reconnecting client gets the metrics events it missed.' }),
          ),
        }),
        response: {
          200: {
            description: 'The event stream, until the job ends (or the key is revoked)',
            content: {
              'text/event-stream': {
                schema: Type.String({ examples: ['retry: 2000\nevent: state\nid: 1764118800000-0\ndata: {"id":"…","state":"running","progress":40}\n\n'] }),
              },
            },
          },
          ...errors({ 400: BAD_ID, 404: notFoundMessage('job') }),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const row = await db.jobs.find(principal, request.params.id);
      if (!row) throw notFound('job', request.params.id);
      reply.hijack(); // from here on we own the socket; Fastify neither serializes nor ends it
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no', // nginx: do not buffer the stream
      });
      const keyActive = () => keyCache.isActive(principal);
      // An id we did not give out (or garbage) counts as a first connection.
      const lastEventId = request.headers['last-event-id'];
      const resumeAfter = lastEventId !== undefined && isStreamId(lastEventId) ? lastEventId : null;
      const close = streamJob({ res: reply.raw, hub, log: request.log, principal, first: toJobStatus(row), resumeAfter, keyActive });
      open.add(close);
      reply.raw.on('close', () => open.delete(close));
    },
  );
};

export default jobEventRoutes;
