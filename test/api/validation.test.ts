/** Every 400/404 that needs no database fixtures: invalid fields, malformed ids, unknown ids and routes. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PROTECTED_ROUTES, startApp, unknownId, type Harness } from './helpers.js';

let h: Harness;
before(async () => {
  h = await startApp('validation');
});
after(() => h.close());

const UUID = '3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f';

/** [job type, params, expected message]: each invalid field of each job type. */
const INVALID_PARAMS: [string, unknown, string][] = [
  ['train-modular', { dataset: 'imagenet' }, 'body/params/dataset must be one of: mnist, mnist-full, fashion-mnist, kmnist, emnist-digits, cifar10, svhn'],
  ['train-modular', { model: 'lenet' }, 'body/params/model must be one of: vgg16, vgg16-small, resnet18, resnet18-small, simcnn, simcnn-small, rescnn, rescnn-small'],
  ['train-modular', { epochs: 0 }, 'body/params/epochs must be >= 1'],
  ['train-modular', { epochs: 501 }, 'body/params/epochs must be <= 500'],
  ['train-modular', { epochs: 2.5 }, 'body/params/epochs must be integer'],
  ['train-modular', { batchSize: 0 }, 'body/params/batchSize must be >= 1'],
  ['train-modular', { batchSize: 1025 }, 'body/params/batchSize must be <= 1024'],
  ['train-modular', { lr: 0 }, 'body/params/lr must be > 0'],
  ['train-modular', { lr: 10.5 }, 'body/params/lr must be <= 10'],
  ['train-modular', { momentum: -0.1 }, 'body/params/momentum must be >= 0'],
  ['train-modular', { momentum: 1 }, 'body/params/momentum must be <= 0.999'],
  ['train-modular', { weightDecay: 0.2 }, 'body/params/weightDecay must be <= 0.1'],
  ['train-modular', { seed: -1 }, 'body/params/seed must be >= 0'],
  ['train-modular', { seed: 2 ** 31 }, 'body/params/seed must be <= 2147483647'],
  ['train-modular', { trainLimit: 9 }, 'body/params/trainLimit must be >= 10'],
  ['train-modular', { trainLimit: 1_000_001 }, 'body/params/trainLimit must be <= 1000000'],
  ['train-modular', { testLimit: 5 }, 'body/params/testLimit must be >= 10'],
  ['train-modular', { alpha: -1 }, 'body/params/alpha must be >= 0'],
  ['train-modular', { alpha: 101 }, 'body/params/alpha must be <= 100'],
  ['train-modular', { beta: 100.5 }, 'body/params/beta must be <= 100'],
  ['train-modular', { epoch: 3 }, 'body/params/epoch is not allowed'],
  ['train-modular', 'fast', 'body/params must be object'],
  ['train-standard', { alpha: 0.5 }, 'body/params/alpha is not allowed'],
  ['train-standard', { epochs: 0 }, 'body/params/epochs must be >= 1'],
  ['train-standard', { dataset: 'cifar100' }, 'body/params/dataset must be one of: mnist, mnist-full, fashion-mnist, kmnist, emnist-digits, cifar10, svhn'],
  ['modularize', {}, 'body/params/runId is required'],
  ['modularize', { runId: 'run-1' }, 'body/params/runId must be a UUID'],
  ['modularize', { runId: UUID, threshold: 0 }, 'body/params/threshold must be > 0'],
  ['modularize', { runId: UUID, threshold: 1.5 }, 'body/params/threshold must be <= 1'],
  ['modularize', { runId: UUID, epochs: 3 }, 'body/params/epochs is not allowed'],
  ['reuse', { targetClasses: [0, 1] }, 'body/params/modularizationId is required'],
  ['reuse', { modularizationId: 'm', targetClasses: [0, 1] }, 'body/params/modularizationId must be a UUID'],
  ['reuse', { modularizationId: UUID }, 'body/params/targetClasses is required'],
  ['reuse', { modularizationId: UUID, targetClasses: [1] }, 'body/params/targetClasses must NOT have fewer than 2 items'],
  ['reuse', { modularizationId: UUID, targetClasses: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, 'body/params/targetClasses must NOT have more than 10 items'],
  ['reuse', { modularizationId: UUID, targetClasses: [1, 1] }, 'body/params/targetClasses must NOT have duplicate items (items ## 1 and 0 are identical)'],
  ['reuse', { modularizationId: UUID, targetClasses: [-1, 2] }, 'body/params/targetClasses/0 must be >= 0'],
  ['reuse', { modularizationId: UUID, targetClasses: [0, 1.5] }, 'body/params/targetClasses/1 must be integer'],
  ['reuse', { modularizationId: UUID, targetClasses: [0, 1], epochs: 201 }, 'body/params/epochs must be <= 200'],
  ['reuse', { modularizationId: UUID, targetClasses: [0, 1], lr: 0 }, 'body/params/lr must be > 0'],
  ['reuse', { modularizationId: UUID, targetClasses: [0, 1], batchSize: 2048 }, 'body/params/batchSize must be <= 1024'],
  ['reuse', { modularizationId: UUID, targetClasses: [0, 1], seed: -5 }, 'body/params/seed must be >= 0'],
  ['reuse', { modularizationId: UUID, targetClasses: [0, 1], standardRunId: 'std' }, 'body/params/standardRunId must be a UUID'],
  ['pipeline', { threshold: 0 }, 'body/params/threshold must be > 0'],
  ['pipeline', { targetClasses: [3] }, 'body/params/targetClasses must NOT have fewer than 2 items'],
  ['pipeline', { reuseEpochs: 0 }, 'body/params/reuseEpochs must be >= 1'],
  ['pipeline', { reuseLr: 11 }, 'body/params/reuseLr must be <= 10'],
  ['pipeline', { epochs: 1000 }, 'body/params/epochs must be <= 500'],
  ['pipeline', { targetClasses: [1, 2, 12] }, 'params.targetClasses[2]: class 12 does not exist in mnist (10 classes)'],
  ['pipeline', { dataset: 'svhn', targetClasses: [10, 3] }, 'params.targetClasses[0]: class 10 does not exist in svhn (10 classes)'],
];

describe('POST /jobs rejects invalid params with a message naming the field', () => {
  for (const [type, params, message] of INVALID_PARAMS) {
    test(`${type} ${JSON.stringify(params)}`, async () => {
      const res = await h.request('POST', '/jobs', { type, params });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { statusCode: 400, error: 'Bad Request', message });
    });
  }
});

describe('POST /jobs rejects malformed bodies', () => {
  const cases: [string, unknown, string][] = [
    ['missing type', { params: {} }, 'body/type is required'],
    ['unknown type', { type: 'train' }, 'body/type must be one of: train-modular, train-standard, modularize, reuse, pipeline'],
    ['non-string type', { type: 7 }, 'body/type must be one of: train-modular, train-standard, modularize, reuse, pipeline'],
    ['missing params of reuse', { type: 'reuse' }, 'body/params is required'],
    ['extra top-level field', { type: 'pipeline', priority: 1 }, 'body/priority is not allowed'],
    ['array body', [], 'body must be object'],
  ];
  for (const [name, body, message] of cases) {
    test(name, async () => {
      const res = await h.request('POST', '/jobs', body);
      assert.equal(res.status, 400);
      assert.equal(res.body.message, message);
    });
  }

  test('invalid JSON', async () => {
    const res = await h.request('POST', '/jobs', '{"type":');
    assert.equal(res.status, 400);
    assert.deepEqual(Object.keys(res.body).sort(), ['error', 'message', 'statusCode']);
  });

  test('no body at all', async () => {
    const res = await h.fetch('/jobs', { method: 'POST' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { message: string }).message, 'body must be object');
  });
});

const ID_ROUTES = PROTECTED_ROUTES.filter(([, route]) => route.includes(':id'));

describe('ids', () => {
  for (const [method, route] of ID_ROUTES) {
    test(`${method} ${route}: malformed id -> 400`, async () => {
      const res = await h.request(method, route.replace(':id', 'not-a-uuid'));
      assert.equal(res.status, 400);
      assert.equal(res.body.message, 'params/id must be a UUID');
    });
    test(`${method} ${route}: unknown id -> 404`, async () => {
      const id = unknownId();
      const res = await h.request(method, route.replace(':id', id));
      assert.equal(res.status, 404);
      assert.equal(res.body.error, 'Not Found');
      assert.match(res.body.message, new RegExp(`^(job|run|modularization|module|artifact|API key) ${id} not found$`));
    });
  }
});

describe('GET /jobs query validation', () => {
  const cases: [string, string][] = [
    ['limit=0', 'querystring/limit must be >= 1'],
    ['limit=101', 'querystring/limit must be <= 100'],
    ['limit=ten', 'querystring/limit must be integer'],
    ['state=done', 'querystring/state must be one of: queued, running, completed, failed, cancelled'],
    ['type=train', 'querystring/type must be one of: train-modular, train-standard, modularize, reuse, pipeline'],
    ['sort=asc', 'querystring/sort is not allowed'],
    ['cursor=bm90LWEtY3Vyc29y', 'querystring/cursor is not a cursor returned by GET /jobs'],
  ];
  for (const [query, message] of cases) {
    test(query, async () => {
      const res = await h.request('GET', `/jobs?${query}`);
      assert.equal(res.status, 400);
      assert.equal(res.body.message, message);
    });
  }
});

test('unknown routes and methods -> 404 in the uniform error shape', async () => {
  for (const [method, path] of [
    ['GET', '/nope'],
    ['PUT', '/jobs'],
    ['POST', '/runs'],
  ] as const) {
    const res = await h.request(method, path, method === 'GET' ? undefined : {});
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { statusCode: 404, error: 'Not Found', message: `route ${method} ${path} not found` });
  }
});

describe('JSON bodies are typed JSON: nothing is coerced into a number', () => {
  const cases: [string, unknown, string][] = [
    ['train-modular', { epochs: '3' }, 'body/params/epochs must be integer'],
    ['train-modular', { epochs: '0x10' }, 'body/params/epochs must be integer'],
    ['train-modular', { epochs: true }, 'body/params/epochs must be integer'],
    ['train-modular', { epochs: false }, 'body/params/epochs must be integer'],
    ['train-modular', { epochs: null }, 'body/params/epochs must be integer'],
    ['train-modular', { epochs: [3] }, 'body/params/epochs must be integer'],
    ['train-modular', { epochs: '-Infinity' }, 'body/params/epochs must be integer'],
    ['train-modular', { lr: 'Infinity' }, 'body/params/lr must be number'],
    ['train-modular', { lr: '0.1' }, 'body/params/lr must be number'],
    ['pipeline', { targetClasses: [[0], [1]] }, 'body/params/targetClasses/0 must be integer'],
    ['pipeline', { targetClasses: ['0', '1'] }, 'body/params/targetClasses/0 must be integer'],
  ];
  for (const [type, params, message] of cases) {
    test(`${type} ${JSON.stringify(params)}`, async () => {
      const res = await h.request('POST', '/jobs', { type, params });
      assert.deepEqual([res.status, res.body], [400, { statusCode: 400, error: 'Bad Request', message }]);
    });
  }
  // JSON.parse reads 1e999 as Infinity: no field takes it.
  for (const [text, message] of [
    ['{"type":"train-modular","params":{"epochs":1e999}}', 'body/params/epochs must be integer'],
    ['{"type":"train-modular","params":{"lr":-1e999}}', 'body/params/lr must be number'],
  ]) {
    test(text, async () => {
      const res = await h.request('POST', '/jobs', text);
      assert.deepEqual([res.status, res.body], [400, { statusCode: 400, error: 'Bad Request', message }]);
    });
  }
});

test('query strings take canonical decimal integers only', async () => {
  for (const limit of ['Infinity', '-Infinity', '1e999', '1e1', '0x10', '010', '%2B5', '%205', '5.0', '5%20', 'NaN']) {
    const res = await h.request('GET', `/jobs?limit=${limit}`);
    assert.deepEqual([limit, res.status, res.body], [limit, 400, { statusCode: 400, error: 'Bad Request', message: 'querystring/limit must be integer' }]);
  }
  assert.equal((await h.request('GET', '/jobs?limit=5')).status, 200);
});

describe('a uuid is the bare 8-4-4-4-12 form (no urn:uuid: prefix)', () => {
  const urn = `urn:uuid:${UUID}`;
  for (const [method, route] of ID_ROUTES) {
    test(`${method} ${route}`, async () => {
      const res = await h.request(method, route.replace(':id', urn));
      assert.deepEqual([res.status, res.body.message], [400, 'params/id must be a UUID']);
    });
  }
  for (const [type, params, field] of [
    ['modularize', { runId: urn }, 'runId'],
    ['reuse', { modularizationId: urn, targetClasses: [0, 1] }, 'modularizationId'],
    ['reuse', { modularizationId: UUID, targetClasses: [0, 1], standardRunId: urn }, 'standardRunId'],
  ] as const) {
    test(`${type} ${field}`, async () => {
      const res = await h.request('POST', '/jobs', { type, params });
      assert.deepEqual([res.status, res.body.message], [400, `body/params/${field} must be a UUID`]);
    });
  }
});

test('a cursor whose date PostgreSQL cannot hold -> 400', async () => {
  for (const at of ['+010000-01-01T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '2026-11-25T10:00:00Z']) {
    const cursor = Buffer.from(`${at}|${UUID}`).toString('base64url');
    const res = await h.request('GET', `/jobs?cursor=${cursor}`);
    assert.deepEqual([at, res.status, res.body.message], [at, 400, 'querystring/cursor is not a cursor returned by GET /jobs']);
  }
});

test('an API key name with a NUL or another control character -> 400', async () => {
  for (const name of ['a\u0000b', 'tab\there', 'bell\u0007']) {
    const res = await h.request('POST', '/keys', { name, scopes: ['read'] });
    assert.deepEqual([res.status, res.body.message], [400, 'body/name must match pattern "^[^\\x00-\\x1f\\x7f]+$"']);
  }
});

test('an unknown field is named in at most 100 characters', async () => {
  const res = await h.request('POST', '/jobs', { type: 'pipeline', ['x'.repeat(5_000)]: 1 });
  assert.deepEqual([res.status, res.body.message], [400, `body/${'x'.repeat(100)}… is not allowed`]);
});

test('errors raised before routing have the same shape: a path that does not decode, a parameter too long', async () => {
  const badUrl = await h.request('GET', '/jobs/%E0%A4%A');
  assert.deepEqual([badUrl.status, Object.keys(badUrl.body).sort()], [400, ['error', 'message', 'statusCode']]);
  assert.equal(badUrl.body.statusCode, 400);
  const long = await h.request('GET', `/jobs/${'a'.repeat(5_000)}`);
  assert.deepEqual([long.status, Object.keys(long.body).sort()], [414, ['error', 'message', 'statusCode']]);
  assert.deepEqual([long.body.statusCode, long.body.error], [414, 'URI Too Long']);
  assert.ok(long.body.message.length < 200, long.body.message);
});
