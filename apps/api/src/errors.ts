/**
 * One error shape for every failure: `{ statusCode, error, message }`, with messages that
 * name the offending field, so a client never has to parse ajv's internals and bad input
 * never turns into a 500.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { JOB_TYPES } from '@mwt/shared';

/** An error whose message is safe to show the client as is. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string, id: string) => new HttpError(404, `${what} ${id} not found`);

export function errorBody(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

const list = (values: unknown) => (Array.isArray(values) ? values.join(', ') : String(values));

/** `body/params/epochs must be <= 500`: ajv's first error, rephrased where it names no field. */
function describe(error: FastifySchemaValidationError, dataVar: string): string {
  const path = `${dataVar}${error.instancePath}`;
  const p = error.params;
  switch (error.keyword) {
    case 'required':
      return `${path}/${String(p.missingProperty)} is required`;
    case 'additionalProperties':
      return `${path}/${String(p.additionalProperty)} is not allowed`;
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

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    // Internals (SQL, stack traces) stay in the log.
    const message = error instanceof HttpError ? error.message : 'internal error';
    return reply.status(status).send(errorBody(status, message));
  }
  return reply.status(status).send(errorBody(status, error.message));
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).send(errorBody(404, `route ${request.method} ${request.url.split('?')[0]} not found`));
}
