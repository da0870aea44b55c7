/**
 * Request ids: a caller's `X-Request-Id` is taken when it is visible ASCII of at most 128 characters
 * (what fits a log line and a header unchanged), else a UUID is made. Fastify logs it with every line
 * of the request (`reqId`), the response echoes it, and POST /jobs stores it on the job.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

export const REQUEST_ID_HEADER = 'x-request-id';
const ACCEPTED = /^[\x21-\x7e]{1,128}$/;

/** Fastify's genReqId. */
export function requestIdOf(request: IncomingMessage): string {
  const sent = request.headers[REQUEST_ID_HEADER];
  return typeof sent === 'string' && ACCEPTED.test(sent) ? sent : randomUUID();
}

export function echoRequestId(app: FastifyInstance): void {
  // On the raw response: it then goes out with hijacked replies (event streams) too.
  app.addHook('onRequest', async (request, reply) => void reply.raw.setHeader(REQUEST_ID_HEADER, request.id));
}
