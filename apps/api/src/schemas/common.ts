/** Schemas shared by several route groups. */
import Type, { type TSchema } from 'typebox';

export const Uuid = (description?: string) =>
  Type.String({ format: 'uuid', description, examples: ['3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f'] });

export const DateTime = (description?: string) =>
  Type.String({ format: 'date-time', description, examples: ['2026-11-25T10:00:00.000Z'] });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    error: Type.String({ description: 'HTTP reason phrase.' }),
    message: Type.String({ description: 'What went wrong, naming the offending field where there is one.' }),
  },
  { $id: 'ErrorBody', examples: [{ statusCode: 400, error: 'Bad Request', message: 'body/params/epochs must be <= 500' }] },
);

export const IdParams = Type.Object({ id: Uuid() }, { examples: [{ id: '3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f' }] });

const ERROR_DESCRIPTIONS = {
  400: 'Invalid input (the message names the field)',
  401: 'No valid API key: `Authorization: Bearer <key>` missing, unknown or revoked (with `WWW-Authenticate: Bearer`)',
  403: "The API key lacks the route's scope",
  404: "Not found (another key's resource answers the same)",
  409: 'Conflict with the state of the job or of a referenced resource',
  413: 'Request body over 64 KiB',
  416: 'Range not satisfiable (`Content-Range: bytes */<size>`)',
  429: 'Rate limit of the API key (or, without one, of the client IP) exceeded; `Retry-After` says when to retry',
  503: 'A backing service (Postgres, Redis) is unavailable',
} as const;
type ErrorCode = keyof typeof ERROR_DESCRIPTIONS;

/** Response map entries, all pointing at the one ErrorBody, for the statuses a route can answer. */
export function errors<C extends ErrorCode>(...codes: C[]): Record<C, typeof ErrorBody> {
  const entries = codes.map((c) => [c, Type.Ref('ErrorBody', { description: ERROR_DESCRIPTIONS[c] })]);
  // A $ref stands for ErrorBody itself; typed as such so replies stay checked.
  return Object.fromEntries(entries) as Record<C, typeof ErrorBody>;
}

const binary = { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } };

/**
 * The responses of a download route, for OpenAPI: the file, one byte range of it, or nothing new.
 * (Error statuses are added with errors().)
 */
export const DownloadResponses = {
  200: {
    description:
      'The file, with Content-Length, ETag ("<sha256>"), Content-Disposition and `Accept-Ranges: bytes`. ' +
      'Also the answer to a Range of several ranges, or to an If-Range that no longer matches.',
    content: binary,
  },
  206: { description: 'One byte range (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`), with Content-Range.', content: binary },
  304: { description: 'If-None-Match matched the ETag (a list, `*` and weak W/ tags are understood)' },
};
