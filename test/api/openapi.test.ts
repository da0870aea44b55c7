/**
 * The OpenAPI document as a client-generator and a linter see it: fetched from a real buildApp, linted
 * by Redocly's CLI with its recommended rules, and checked for what generated clients and Swagger UI
 * need (operationIds, named components, typed results, examples of each route's own, headers).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startApp, type Harness } from './helpers.js';

interface Media {
  schema?: { $ref?: string };
  examples?: Record<string, { summary?: string; value: unknown }>;
}
interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, Media>;
}
interface Parameter {
  name?: string;
  in?: string;
  example?: unknown;
  examples?: unknown;
  schema?: { examples?: unknown; example?: unknown };
}
interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, Response>;
}
interface Document {
  servers?: { url: string }[];
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, { $ref?: string; anyOf?: { $ref?: string }[] }> }> };
}

const PUBLIC = ['GET /healthz', 'GET /models', 'GET /datasets'];

let h: Harness;
let doc: Document;
const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })));

before(async () => {
  h = await startApp('openapi');
  const res = await h.request<Document>('GET', '/docs/json', undefined, { as: null });
  assert.equal(res.status, 200);
  doc = res.body;
});
after(() => h.close());

describe('the OpenAPI document', () => {
  test('Redocly lint (recommended rules): no errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mwt-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      await writeFile(file, JSON.stringify(doc));
      const run = promisify(execFile);
      // --format json: the problems as data. Exit code 1 means errors; warnings alone exit 0.
      const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
      const result = await run('node_modules/.bin/redocly', ['lint', file, '--extends', 'recommended', '--format', 'json'], { env, maxBuffer: 16 * 1024 * 1024 }).catch(
        (error: { stdout: string; stderr: string }) => error,
      );
      const report = JSON.parse(result.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; severity: string; message: string }[] };
      const errors = report.problems.filter((p) => p.severity === 'error');
      assert.deepEqual(errors, [], 'no lint errors');
      // Known and accepted: the project has no license to name (info-license).
      const warnings = report.problems.filter((p) => p.severity === 'warn').map((p) => p.ruleId);
      assert.deepEqual(warnings, ['info-license']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('names its components, one per resource and one request per job type', () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of [
      'Job',
      'TrainModularJob',
      'TrainStandardJob',
      'ModularizeJob',
      'ReuseJob',
      'PipelineJob',
      'JobRequest',
      'TrainModularJobRequest',
      'TrainStandardJobRequest',
      'ModularizeJobRequest',
      'ReuseJobRequest',
      'PipelineJobRequest',
      'PipelineParams',
      'PipelineResult',
      'TrainResult',
      'Run',
      'Metric',
      'Modularization',
      'Module',
      'Artifact',
      'ApiKey',
      'Error',
      'Model',
      'Dataset',
    ]) {
      assert.ok(names.includes(name), `components.schemas.${name}`);
    }
    assert.ok(!names.some((n) => n.startsWith('def-')), 'no anonymous def-N components');
    // A pipeline job's params and result are its own schemas, not free-form objects.
    const pipeline = doc.components.schemas.PipelineJob.properties!;
    assert.equal(pipeline.params.$ref, '#/components/schemas/PipelineParams');
    assert.ok(pipeline.result.anyOf?.some((s) => s.$ref === '#/components/schemas/PipelineResult'));
  });

  test('every operation: a unique operationId, described responses, the security it needs', () => {
    const ids = operations().map(({ op }) => op.operationId);
    assert.ok(
      ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id)),
      `operationIds: ${ids.join(', ')}`,
    );
    assert.equal(new Set(ids).size, ids.length, 'unique');
    assert.ok(doc.servers?.length, 'servers');
    assert.deepEqual(doc.security, [{ apiKey: [] }], 'a key by default');
    for (const { route, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        assert.ok(response.description && response.description !== 'Default Response', `${route} ${status} is described`);
        assert.ok(response.headers?.['X-Request-Id'], `${route} ${status} declares X-Request-Id`);
      }
      assert.ok(
        op.parameters?.some((p) => JSON.stringify(p).includes('RequestId')),
        `${route} takes X-Request-Id`,
      );
      if (PUBLIC.includes(route)) assert.deepEqual(op.security, [], `${route} is public`);
      else {
        assert.equal(op.security?.length, 1, `${route} needs a key`);
        for (const status of ['401', '403', '429', '503']) assert.ok(op.responses[status], `${route} documents ${status}`);
        assert.ok(op.responses['401'].headers?.['WWW-Authenticate'], `${route} 401 declares WWW-Authenticate`);
        assert.ok(op.responses['503'].headers?.['Retry-After'], `${route} 503 declares Retry-After`);
      }
      assert.ok(op.responses['429']?.headers?.['Retry-After'], `${route} 429 declares Retry-After`);
    }
  });

  test("each error status has examples of the route's own, in the error shape", () => {
    const badRequests = new Set<string>();
    for (const { route, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400 || route === 'GET /healthz') continue;
        const examples = Object.values(response.content?.['application/json']?.examples ?? {});
        assert.ok(examples.length > 0, `${route} ${status} has examples`);
        for (const { value } of examples) {
          const body = value as { statusCode: number; error: string; message: string };
          assert.equal(body.statusCode, Number(status), `${route} ${status}: the example's statusCode`);
          assert.ok(body.error && body.message, `${route} ${status}: error and message`);
          if (status === '400') badRequests.add(body.message);
        }
      }
    }
    assert.ok(badRequests.size >= 5, `400 examples differ by route: ${[...badRequests].join(' | ')}`);
    const create = doc.paths['/jobs'].post;
    assert.ok(Object.keys(create.responses['400'].content!['application/json'].examples!).length > 1, 'POST /jobs: several named 400 examples');
  });

  test('POST /jobs: named body examples, Location and Idempotent-Replayed, and an Idempotency-Key without an example', () => {
    const create = doc.paths['/jobs'].post;
    const examples = create.requestBody!.content['application/json'].examples!;
    assert.ok(Object.keys(examples).length >= 4);
    for (const [name, example] of Object.entries(examples)) assert.ok(example.summary && !/^example\d+$/.test(name), `named example ${name}`);
    assert.ok(create.responses['201'].headers?.Location);
    assert.ok(create.responses['200'].headers?.['Idempotent-Replayed']);
    // Swagger UI's "Try it out" would pre-fill an example, and a second, different job would get 409.
    const key = create.parameters!.find((p) => p.name?.toLowerCase() === 'idempotency-key')!;
    assert.ok(key, 'the Idempotency-Key header is declared');
    assert.equal(JSON.stringify(key).includes('example'), false, JSON.stringify(key));
  });

  test('downloads: application/x-tar, ranges and conditional requests, their headers', () => {
    for (const path of ['/modules/{id}/download', '/artifacts/{id}/download']) {
      const op = doc.paths[path].get;
      assert.deepEqual(Object.keys(op.responses['200'].content!), ['application/x-tar']);
      assert.equal(op.responses['200'].content!['application/x-tar'].schema!.$ref, '#/components/schemas/Artifact');
      assert.ok(op.responses['200'].headers?.ETag);
      assert.ok(op.responses['206'].headers?.['Content-Range']);
      assert.ok(op.responses['304'].headers?.ETag);
      assert.equal(op.responses['304'].content, undefined, '304 has no body');
      assert.ok(op.responses['416'].headers?.['Content-Range']);
      const headers = op.parameters!.filter((p) => p.in === 'header').map((p) => p.name?.toLowerCase());
      for (const name of ['range', 'if-none-match', 'if-range']) assert.ok(headers.includes(name), `${path} takes ${name}`);
    }
  });

  test('error examples are what the API answers', async () => {
    const example = (path: string, method: string, status: string) =>
      Object.values(doc.paths[path][method].responses[status].content!['application/json'].examples!).map((e) => e.value);
    const badId = await h.fetch('/modules/not-a-uuid/download');
    assert.deepEqual([await badId.json()], example('/modules/{id}/download', 'get', '400'));
    const plain = await h.fetch('/jobs', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<job/>' });
    assert.deepEqual([await plain.json()], example('/jobs', 'post', '415'));
    const unknown = await h.fetch('/runs/3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f');
    assert.deepEqual([await unknown.json()], example('/runs/{id}', 'get', '404'));
    const reader = await h.fetch('/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"pipeline"}' }, 'reader');
    assert.deepEqual([await reader.json()], example('/jobs', 'post', '403'));
    const tooMany = await h.fetch('/jobs?limit=101');
    assert.deepEqual(example('/jobs', 'get', '400')[0], await tooMany.json());
  });
});
