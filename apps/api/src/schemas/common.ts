/**
 * Schemas shared by several route groups, and the helpers that make a route's responses: every
 * response has a description, its headers and examples of its own, and refers to named components.
 */
import { STATUS_CODES } from 'node:http';
import Type, { type Static, type TSchema } from 'typebox';

export const Uuid = (description?: string) => Type.String({ format: 'uuid', description, examples: ['3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f'] });

export const DateTime = (description?: string) => Type.String({ format: 'date-time', description, examples: ['2026-11-25T10:00:00.000Z'] });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * A reference to a component, typed as the component itself: validation and serialization follow
 * the $ref, OpenAPI names it `#/components/schemas/<$id>` (see refResolver in app.ts), and the
 * TypeScript type stays the component's.
 */
export function ref<T extends TSchema>(schema: T, options: { description?: string } = {}) {
  if (!('$id' in schema) || typeof schema.$id !== 'string') throw new Error('ref(): the schema has no $id');
  return Type.Unsafe<Static<T>>({ $ref: schema.$id, ...options });
}

/**
 * A union told apart by its `type` field: `oneOf` + `discriminator`, which ajv uses to validate only the
 * branch `type` names (so a 400 names that branch's field) and OpenAPI clients to narrow the type.
 */
export function byType<T extends TSchema[]>(branches: [...T], options: { $id: string; description: string }) {
  type Branch = Static<T[number]>;
  return Type.Unsafe<Branch>({ ...options, type: 'object', required: ['type'], oneOf: branches.map((b) => ref(b)), discriminator: { propertyName: 'type' } });
}

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    error: Type.String({ description: 'HTTP reason phrase.' }),
    message: Type.String({ description: 'What went wrong, naming the offending field where there is one.' }),
  },
  {
    $id: 'Error',
    description: 'Every error answer: `{ statusCode, error, message }`.',
    examples: [{ statusCode: 404, error: 'Not Found', message: 'job 3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f not found' }],
  },
);

export const EXAMPLE_ID = '3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f';
export const IdParams = Type.Object({ id: Uuid() });

/** Named examples, as OpenAPI's `examples` map: Swagger UI lists them by summary. */
export type Examples = Record<string, { summary: string; value: unknown }>;

/** A response header: its value's schema, with a description. */
const header = (description: string, schema: { type: 'string' | 'integer'; format?: string } = { type: 'string' }) => ({ ...schema, description });

/** Response headers the routes send (X-Request-Id and the rate-limit headers are on every response: see openapi.ts). */
export const HEADERS = {
  location: { Location: header('Where the job is: `/jobs/<id>`.') },
  replayed: { 'Idempotent-Replayed': header('`true` when this answer replays the job an earlier request with the same Idempotency-Key created.') },
  retryAfter: { 'Retry-After': header('Seconds to wait before retrying.', { type: 'integer' }) },
  challenge: { 'WWW-Authenticate': header('`Bearer realm="mwt"` (RFC 6750), with `error="invalid_token"` or `error="insufficient_scope"` when a key was sent.') },
  etag: { ETag: header('`"<sha256 of the file>"`: send it back in If-None-Match or If-Range.') },
  file: {
    'Content-Disposition': header('`attachment; filename="<name>.tar"`.'),
    'Accept-Ranges': header('`bytes`: byte ranges are served.'),
    'Content-Length': header('Bytes in this answer.', { type: 'integer' }),
    'Cache-Control': header('`private, max-age=0, must-revalidate`.'),
  },
  contentRange: { 'Content-Range': header('`bytes <first>-<last>/<size>`; on a 416, `bytes */<size>`.') },
  noStore: { 'Cache-Control': header('`no-store`: the answer carries a secret.') },
} as const;

type Headers = Record<string, ReturnType<typeof header>>;

/** A JSON response: its schema (usually a ref), a description, headers and named examples. */
export function json<T extends TSchema>(schema: T, description: string, extra: { headers?: Headers; examples?: Examples } = {}) {
  return {
    description,
    ...(extra.headers ? { headers: extra.headers } : {}),
    content: { 'application/json': { schema, ...(extra.examples ? { examples: extra.examples } : {}) } },
  };
}

const ERROR_DESCRIPTIONS = {
  400: 'Invalid input (the message names the field)',
  401: 'No valid API key: `Authorization: Bearer <key>` missing, unknown or revoked',
  403: "The API key lacks the route's scope",
  404: "Not found (another key's resource answers the same)",
  409: 'Conflict with the state of the job or of a referenced resource',
  413: 'Request body over 64 KiB',
  415: 'The body is not `application/json`',
  416: 'Range not satisfiable',
  429: 'Rate limit of the API key (or, without one, of the client IP) exceeded',
  503: 'A backing service (PostgreSQL, Redis) is unavailable; retry after `Retry-After` seconds',
} as const;
export type ErrorCode = keyof typeof ERROR_DESCRIPTIONS;

const ERROR_HEADERS: Partial<Record<ErrorCode, Headers>> = {
  401: HEADERS.challenge,
  403: HEADERS.challenge,
  416: HEADERS.contentRange,
  429: HEADERS.retryAfter,
  503: HEADERS.retryAfter,
};

/** What a route answers with a status: one message, or several by name (`{ missing: '...', invalid: '...' }`). */
export type ErrorExamples = string | Record<string, string>;

const errorExample = (status: number, message: string) => ({ summary: message, value: { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message } });

/**
 * The error responses of a route, each with the messages that route really answers with as its
 * examples (a 400 of POST /jobs is not a 400 of GET /runs/{id}).
 */
export function errors<C extends ErrorCode>(examples: { [K in C]: ErrorExamples }) {
  const entries = (Object.entries(examples) as [`${C}`, ErrorExamples][]).map(([code, messages]) => {
    const status = Number(code) as C;
    const named = typeof messages === 'string' ? { [`error${status}`]: messages } : messages;
    const response = json(ref(ErrorBody), ERROR_DESCRIPTIONS[status], {
      headers: ERROR_HEADERS[status],
      examples: Object.fromEntries(Object.entries(named).map(([name, message]) => [name, errorExample(status, message)])),
    });
    return [code, response];
  });
  return Object.fromEntries(entries) as Record<C, ReturnType<typeof json<ReturnType<typeof ref<typeof ErrorBody>>>>>;
}

/** What every route answers beyond its rate limit (the message the limiter really sends, for the default limit). */
export const RATE_LIMITED = 'rate limit of 600 requests per minute exceeded; retry in 42 s';
/** What a route answers while PostgreSQL or Redis is down. */
export const UNAVAILABLE = { postgres: 'PostgreSQL is unavailable; retry later', redis: 'Redis is unavailable; retry later' };

/** The 400 of a route whose only input is a uuid path parameter. */
export const BAD_ID = 'params/id must be a UUID';
export const notFoundMessage = (what: string) => `${what} ${EXAMPLE_ID} not found`;

/** What an archive download is: a tar of model.json, weights.bin and metadata.json. */
export const Artifact = Type.String({
  $id: 'Artifact',
  format: 'binary',
  description:
    'A tar archive. A module or a trained model: `model.json` + `weights.bin` (a tfjs LayersModel) and `metadata.json` ' +
    '(classes, input shape, the input transform, metrics); a module set: one such folder per class module.',
});

const tar = { 'application/x-tar': { schema: ref(Artifact) } };

/** The responses of a download route: the file, one byte range of it, or nothing new (errors: add errors()). */
export const DownloadResponses = {
  200: {
    description: 'The file. Also the answer to a Range of several ranges, or to an If-Range that no longer matches.',
    headers: { ...HEADERS.etag, ...HEADERS.file },
    content: tar,
  },
  206: {
    description: 'One byte range (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`).',
    headers: { ...HEADERS.etag, ...HEADERS.file, ...HEADERS.contentRange },
    content: tar,
  },
  304: { type: 'null', description: 'If-None-Match matched the ETag (a list, `*` and weak W/ tags are understood): nothing new.', headers: HEADERS.etag },
} as const;

/** The conditional and range request headers a download honours. */
export const DownloadHeaders = Type.Object({
  range: Type.Optional(Type.String({ description: 'One byte range: `bytes=0-1023`, `bytes=1024-`, `bytes=-512` (206); several ranges get the whole file.' })),
  'if-none-match': Type.Optional(Type.String({ description: 'ETags (`"<sha256>"`, a list, `*`, weak `W/` tags): 304 when one matches.' })),
  'if-range': Type.Optional(Type.String({ description: 'The ETag a resumed download started with: the Range is honoured only while it still matches.' })),
});
