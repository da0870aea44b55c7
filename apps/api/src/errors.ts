/**
 * One error shape for every failure: `{ statusCode, error, message }`, with messages that
 * name the offending field, so a client never has to parse ajv's internals and bad input
 * never turns into a 500.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { isDatabaseUnavailable } from '@mwt/db';
import { JOB_TYPES } from '@mwt/shared';
import { UNAVAILABLE } from './schemas/common.js';

/** An error whose message is safe to show the client as is, with the headers its status calls for. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string, id: string) => new HttpError(404, `${what} ${id} not found`);

export function errorBody(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/** Longest piece of client input (an unknown field's name, a path) an error message repeats. */
const ECHO_LIMIT = 100;
const echo = (text: string) => (text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT)}…` : text);

const list = (values: unknown) => (Array.isArray(values) ? values.join(', ') : String(values));

/** `body/params/epochs must be <= 500`: ajv's first error, rephrased where it names no field. */
function describe(error: FastifySchemaValidationError, dataVar: string): string {
  const path = `${dataVar}${error.instancePath}`;
  const p = error.params;
  switch (error.keyword) {
    case 'required':
      return `${path}/${String(p.missingProperty)} is required`;
    case 'additionalProperties':
      return `${path}/${echo(String(p.additionalProperty))} is not allowed`;
    case 'enum':
      return `${path} must be one of: ${list(p.allowedValues)}`;
    case 'const':
      return `${path} must be ${JSON.stringify(p.allowedValue)}`;
    case 'format':
      return p.format === 'uuid' ? `${path} must be a UUID` : `${path} must be a valid ${String(p.format)}`;
    case 'discriminator':
      // Only POST /jobs discriminates (on `type`).
      return `${path}/${String(p.tag)} must be one of: ${JOB_TYPES.join(', ')}`;
    default:
      return `${path} ${error.message ?? 'is invalid'}`;
  }
}

export function schemaErrorFormatter(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors[0];
  return new HttpError(400, first ? describe(first, dataVar) : `${dataVar} is invalid`);
}

/** ioredis' errors for a server it cannot reach (with few retries per request, they come fast). */
function isRedisUnavailable(error: Error): boolean {
  return error.name === 'MaxRetriesPerRequestError' || /^(Connection is closed\.|Stream isn't writeable)/.test(error.message);
}

/** What a backend outage tells the client: which one, and to come back; null for any other error. */
function unavailable(error: Error): string | null {
  if (isDatabaseUnavailable(error)) return UNAVAILABLE.postgres;
  if (isRedisUnavailable(error)) return UNAVAILABLE.redis;
  return null;
}

/** Seconds a client should wait before retrying after a 503 for an outage. */
const OUTAGE_RETRY_AFTER_S = '5';

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const outage = unavailable(error);
  if (outage) {
    // Expected while a backend restarts: a warning with the cause, not a 500 with a stack trace.
    request.log.warn({ err: error }, outage);
    return reply.status(503).header('retry-after', OUTAGE_RETRY_AFTER_S).send(errorBody(503, outage));
  }
  const status = error.statusCode ?? 500;
  if (error instanceof HttpError) reply.headers(error.headers);
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    // Internals (SQL, stack traces) stay in the log.
    const message = error instanceof HttpError ? error.message : 'internal error';
    return reply.status(status).send(errorBody(status, message));
  }
  return reply.status(status).send(errorBody(status, error.message));
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).send(errorBody(404, `route ${request.method} ${echo(request.url.split('?')[0] ?? '')} not found`));
}

/**
 * Errors Fastify raises before routing: a path that does not decode (FST_ERR_BAD_URL, 400) and a
 * path parameter over maxParamLength (FST_ERR_MAX_PARAM_LENGTH, 414), in the same shape as the rest.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const path = echo(request.raw.url?.split('?')[0] ?? '');
  const status = error.statusCode === 414 ? 414 : 400;
  const message = status === 414 ? `url ${path} has a path segment that is too long` : `url ${path} is not a valid URL`;
  // Fastify's frameworkErrors callback returns nothing: the reply is sent here.
  void reply.status(status).send(errorBody(status, message));
}
