/**
 * The OpenAPI document (/docs/json) and Swagger UI (/docs). Every named schema is registered here with
 * app.addSchema, so routes refer to it by $ref and the document lists it once under
 * `#/components/schemas/<$id>`. What is true of every operation is added to the finished document in
 * one place (transformObject): the X-Request-Id request and response header, the rate-limit headers,
 * and the discriminator mappings of the job unions.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { JOB_PARAMS, JOB_RESULTS } from '@mwt/shared';
import { SECURITY_SCHEME } from './auth/authentication.js';
import { CATALOG_COMPONENTS } from './schemas/catalog.js';
import { Artifact, ErrorBody } from './schemas/common.js';
import { Health } from './schemas/health.js';
import { JOB_COMPONENTS } from './schemas/job.js';
import { KEY_COMPONENTS } from './schemas/keys.js';
import { RESOURCE_COMPONENTS } from './schemas/resources.js';

const TAGS = [
  { name: 'jobs', description: 'Submit MwT jobs (train, modularize, reuse, pipeline), follow and cancel them.' },
  { name: 'runs', description: 'Training runs and their per-epoch metrics.' },
  { name: 'modules', description: 'Modularizations of modular runs and the modules cut from them.' },
  { name: 'artifacts', description: 'Stored files: model weights, module sets, modules.' },
  { name: 'keys', description: 'API keys (admin scope): create, list, revoke.' },
  { name: 'health', description: 'Liveness of the API and its backends, and its metrics.' },
  { name: 'catalog', description: 'Models and datasets the service offers (no API key needed).' },
];

const API_DESCRIPTION = [
  'Modularizing-while-training: train modular CNNs, cut them into per-class modules, reuse the modules.',
  '',
  'Every route but /healthz, /models, /datasets and these docs needs `Authorization: Bearer <API key>` (create the',
  'first key with `npm run keys -- create --name admin --scopes admin`). A key sees only the jobs it submitted and',
  'what they produced; an `admin` key sees everything.',
  '',
  'Every answer carries `X-Request-Id` (the one sent, or a new one) and the rate-limit headers; errors are',
  '`{ statusCode, error, message }` (the Error schema).',
].join('\n');

/** Every component, in the order the document lists them. */
const COMPONENTS = [
  ...new Set([...Object.values(JOB_PARAMS), ...Object.values(JOB_RESULTS)]),
  ...JOB_COMPONENTS,
  ...RESOURCE_COMPONENTS,
  Artifact,
  ...KEY_COMPONENTS,
  ...CATALOG_COMPONENTS,
  Health,
  ErrorBody,
];

/** Headers on every answer: the request id, and @fastify/rate-limit's counters. */
const COMMON_RESPONSE_HEADERS = {
  'X-Request-Id': {
    description: 'The request id: the X-Request-Id sent (visible ASCII, at most 128 characters), or a new UUID. Also in the log lines of the request.',
    schema: { type: 'string' },
  },
  'X-RateLimit-Limit': { description: 'Requests allowed per minute (MWT_RATE_LIMIT) to this API key, or to the client IP without one.', schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in the current minute.', schema: { type: 'integer' } },
  'X-RateLimit-Reset': { description: 'Seconds until the counter resets.', schema: { type: 'integer' } },
};

const REQUEST_ID_PARAMETER = {
  name: 'X-Request-Id',
  in: 'header',
  required: false,
  description: 'Your id for this request (visible ASCII, at most 128 characters): echoed, logged, and stored on a job it creates. Made when absent.',
  schema: { type: 'string', maxLength: 128 },
};

interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, SchemaObject>; headers?: Record<string, unknown>; parameters?: Record<string, unknown> };
}
/**
 * A route schema's named request-body examples (@fastify/swagger copies `x-` keys to the operation, and
 * drops a body $ref's own examples): moved into the body's media type below.
 */
export const REQUEST_EXAMPLES = 'x-request-examples';

interface Operation {
  [REQUEST_EXAMPLES]?: unknown;
  requestBody?: { content: Record<string, { examples?: unknown }> };
  parameters?: unknown[];
  responses: Record<string, { headers?: Record<string, unknown> }>;
}
interface SchemaObject {
  oneOf?: { $ref?: string }[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  properties?: Record<string, { const?: string; enum?: string[] }>;
}

function isDoc(document: object): document is Doc {
  return 'paths' in document && 'components' in document;
}

/** What every operation shares, added to the finished document. */
function completeDocument(doc: Doc): void {
  doc.components.headers = COMMON_RESPONSE_HEADERS;
  doc.components.parameters = { RequestId: REQUEST_ID_PARAMETER };
  const headerRefs = Object.fromEntries(Object.keys(COMMON_RESPONSE_HEADERS).map((name) => [name, { $ref: `#/components/headers/${name}` }]));
  for (const operations of Object.values(doc.paths)) {
    for (const operation of Object.values(operations)) {
      operation.parameters = [...(operation.parameters ?? []), { $ref: '#/components/parameters/RequestId' }];
      const json = operation.requestBody?.content['application/json'];
      if (json && operation[REQUEST_EXAMPLES]) json.examples = operation[REQUEST_EXAMPLES];
      delete operation[REQUEST_EXAMPLES];
      for (const response of Object.values(operation.responses)) response.headers = { ...response.headers, ...headerRefs };
    }
  }
  // OpenAPI's implicit mapping would name the branch schemas (`PipelineJob`), not the `type` values (`pipeline`).
  for (const schema of Object.values(doc.components.schemas)) {
    if (!schema.discriminator || !schema.oneOf) continue;
    const { propertyName } = schema.discriminator;
    const mapping: Record<string, string> = {};
    for (const { $ref } of schema.oneOf) {
      const branch = $ref ? doc.components.schemas[$ref.split('/').at(-1) ?? ''] : undefined;
      const tag = branch?.properties?.[propertyName];
      const value = tag?.const ?? tag?.enum?.[0];
      if ($ref && value) mapping[value] = $ref;
    }
    schema.discriminator = { propertyName, mapping };
  }
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  for (const schema of COMPONENTS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, so TypeBox's output (numeric
      // exclusiveMinimum, `examples`, `const`) is valid as is.
      openapi: '3.1.0',
      info: { title: 'MwT job service', version: '0.1.0', description: API_DESCRIPTION },
      // Relative: the API that serves the document (a client generated from it takes its base URL).
      servers: [{ url: '/', description: 'The API serving this document' }],
      tags: TAGS,
      // Every operation needs a key unless it says otherwise (`security: []`, the public routes).
      security: [{ [SECURITY_SCHEME]: [] }],
      components: {
        securitySchemes: {
          [SECURITY_SCHEME]: { type: 'http', scheme: 'bearer', bearerFormat: 'mwt_<43 characters>', description: 'An API key (`npm run keys -- create`).' },
        },
      },
    },
    refResolver: {
      // Name components after their $id (Job, Error) rather than def-0.
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      if (isDoc(document.openapiObject)) completeDocument(document.openapiObject);
      return document.openapiObject;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
