/**
 * The fuzz test's request generator: malformed and hostile requests across every endpoint, drawn
 * from a seeded PRNG so that a failing run can be replayed (FUZZ_SEED). Each request says who it
 * is sent as and whose resource it touches, so the test can tell a cross-key read.
 */
/** mulberry32: small, fast and good enough to pick cases. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const chance = (p: number) => next() < p;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  // Version 4 layout, from the PRNG rather than the system's randomness: a seed replays a run exactly.
  const uuid = () => {
    const hex = bytes(16).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[int(4)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  };
  return { next, int, pick, chance, bytes, uuid };
}
export type Random = ReturnType<typeof prng>;

/** Owners of resources: two ordinary keys, and `nobody` for jobs submitted with auth disabled. */
export type Owner = 'alice' | 'bob' | 'nobody';
/** Who a request authenticates as; `anonymous` for every credential that is not a valid key. */
export type Caller = 'alice' | 'bob' | 'reader' | 'submitter' | 'admin' | 'anonymous';

export interface Resources {
  job: string[];
  run: string[];
  modularization: string[];
  module: string[];
  artifact: string[];
}
export type ResourceKind = keyof Resources;

export interface World {
  secrets: Record<Exclude<Caller, 'anonymous'>, string> & { revoked: string };
  owned: Record<Owner, Resources>;
  /** id -> owner, for every id in `owned`. */
  ownerOf: Map<string, Owner>;
}

export interface FuzzRequest {
  method: string;
  /** Sent byte for byte: no URL normalization. */
  path: string;
  headers: Record<string, string | string[]>;
  body?: string;
  caller: Caller;
  /** The owner of the resource the request reads, cancels or references, if it is one of ours. */
  touches?: Owner;
  /** GET /jobs: the listed ids are checked against the caller afterwards. */
  lists?: boolean;
}

const ROUTES: [string, string, ResourceKind | null][] = [
  ['GET', '/jobs/:id', 'job'],
  ['DELETE', '/jobs/:id', 'job'],
  ['GET', '/jobs/:id/events', 'job'],
  ['GET', '/runs/:id', 'run'],
  ['GET', '/runs/:id/metrics', 'run'],
  ['GET', '/runs/:id/modules', 'run'],
  ['GET', '/modularizations/:id', 'modularization'],
  ['GET', '/modules/:id', 'module'],
  ['GET', '/modules/:id/download', 'module'],
  ['GET', '/artifacts/:id/download', 'artifact'],
  ['DELETE', '/keys/:id', null],
];

const HOSTILE_IDS = [
  'not-a-uuid',
  '',
  '..%2f..%2fetc%2fpasswd',
  '..%2F..%2F..%2Fetc%2Fshadow',
  '%2e%2e',
  '%2e%2e%2f%2e%2e%2fpackage.json',
  '..',
  '.',
  '%00',
  'null',
  'undefined',
  '-1',
  '0',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '9'.repeat(400),
  '%F0%9F%92%A9',
  '%zz',
  '%',
  '%252e%252e%252f',
  '{}',
  '[]',
  '__proto__',
  'constructor',
  "'%20OR%201=1--",
  '%3Cscript%3E',
  'a'.repeat(5_000),
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f%00',
  // Forms other parsers take for a uuid, PostgreSQL's uuid type not all: a 500 if one got through.
  'urn:uuid:3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f',
  'URN:UUID:3F0E8D5C-6A7B-4C1D-9E2F-0A1B2C3D4E5F',
  '{3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f}',
  '3f0e8d5c6a7b4c1d9e2f0a1b2c3d4e5f',
  '%E0%A4%A',
  '%C0%AF',
  'a'.repeat(101),
];
const JUNK_PATHS = [
  '/',
  '//jobs',
  '/jobs/',
  '/jobs/..%2f..%2fetc%2fpasswd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/jobs%00',
  '/docs/../jobs',
  '/JOBS',
  '/docs/static/..%2f..%2fpackage.json',
  '/docs/static/%2e%2e/%2e%2e/package.json',
  '/jobs/%2e%2e/keys',
  '/keys/..',
  '/healthz/..%2fkeys',
  '/jobs?',
  '/jobs#x',
  '/jobs;x',
  '/jobs/.%2e/keys',
  `/${'x'.repeat(20_000)}`,
  '/jobs/%2F',
  '/runs',
  '/modules',
  '/artifacts/',
];
const WEIRD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53 + 1,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '',
  ' ',
  'x'.repeat(1000),
  '5',
  '0x10',
  [],
  [1, 2],
  [[[]]],
  {},
  { $gt: 0 },
  { __proto__: { admin: true } },
  '\u0000',
  '\ud800',
  '🙂',
  // What a coercing validator would turn into numbers, or into out-of-range ones.
  '3',
  ' 3',
  '3.0',
  '1e999',
  '-1e999',
  '1e1',
  [3],
  [[0], [1]],
  ['0', '1'],
  'a\u0000b',
  'tab\there',
  `urn:uuid:3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f`,
];
const QUERY_VALUES = [
  '',
  '0',
  '-0',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '99999999999999999999',
  '1,2',
  '%00',
  '%zz',
  'x'.repeat(3_000),
  '__proto__',
  'queued',
  'running',
  'pipeline',
  'train-modular',
  '20',
  '100',
  '101',
  'true',
  '[]',
  '{}',
  '%F0%9F%92%A9',
  // Numbers that are not canonical decimals.
  '1e999',
  '-Infinity',
  '1e1',
  '0x10',
  '010',
  '%2B5',
  '%205',
  '5%20',
  '5.0',
  '0b11',
  '%00%35',
];
/** Cursors whose dates parse in JavaScript but do not fit PostgreSQL's timestamptz. */
const OUT_OF_RANGE_CURSORS = ['+010000-01-01T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z'].map((at) =>
  Buffer.from(`${at}|3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f`).toString('base64url'),
);

function secretFor(r: Random, world: World): { authorization?: string | string[]; caller: Caller } {
  const s = world.secrets;
  const valid = (caller: Exclude<Caller, 'anonymous'>) => ({ authorization: `Bearer ${s[caller]}`, caller });
  switch (r.int(16)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return valid('alice');
    case 4:
    case 5:
      return valid('bob');
    case 6:
      return valid('reader');
    case 7:
      return valid('submitter');
    case 8:
      return { authorization: `bearer   ${s.alice}  `, caller: 'alice' }; // case and spaces RFC 9110 allows
    case 9:
      return { authorization: [`Bearer ${s.alice}`, `Bearer ${s.bob}`], caller: 'alice' }; // Node keeps the first
    case 10:
      return { caller: 'anonymous' };
    case 11:
      return { authorization: `Bearer ${s.revoked}`, caller: 'anonymous' };
    case 12:
      return { authorization: `Bearer ${s.alice}x`, caller: 'anonymous' };
    case 13:
      return { authorization: `Bearer mwt_${r.bytes(32).toString('base64url')}`, caller: 'anonymous' };
    case 14:
      return {
        authorization: r.pick(['Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer ', `Bearer ${'A'.repeat(5_000)}`, s.alice, `Token ${s.admin}`, `Bearer ${s.alice.toUpperCase()}`]),
        caller: 'anonymous',
      };
    default:
      return valid('admin');
  }
}

function idFor(r: Random, world: World, kind: ResourceKind): { id: string; owner?: Owner } {
  const roll = r.int(10);
  if (roll < 6) {
    const owner = r.pick<Owner>(['alice', 'bob', 'bob', 'nobody']);
    const ids = world.owned[owner][r.chance(0.8) ? kind : r.pick<ResourceKind>(['job', 'run', 'modularization', 'module', 'artifact'])];
    if (ids.length) {
      const id = r.pick(ids);
      if (r.chance(0.05)) return { id: `urn:uuid:${id}` };
      return { id: r.chance(0.1) ? id.toUpperCase() : id, owner: world.ownerOf.get(id) };
    }
  }
  if (roll < 8) return { id: r.uuid() };
  return { id: r.pick(HOSTILE_IDS) };
}

function query(r: Random): string {
  const keys = ['state', 'type', 'limit', 'cursor', 'limit[]', 'sort', 'constructor[prototype][admin]', '__proto__[x]', 'state'];
  const parts = Array.from({ length: r.int(5) }, () => `${r.pick(keys)}=${r.pick(QUERY_VALUES)}`);
  if (r.chance(0.2)) parts.push(`cursor=${r.bytes(r.int(60)).toString('base64url')}`);
  if (r.chance(0.1)) parts.push(`cursor=${r.pick(OUT_OF_RANGE_CURSORS)}`);
  return parts.length ? `?${parts.join('&')}` : r.pick(['', '?', '?&&', '?limit']);
}

function nested(r: Random): string {
  const depth = 30 + r.int(5_000);
  return r.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `{"type":"pipeline","params":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
}

/** A POST /jobs body: often almost valid, with one field wrong, or a reference to someone's resource. */
function jobBody(r: Random, world: World): { body: string; touches?: Owner } {
  const type = r.pick(['train-modular', 'train-standard', 'modularize', 'reuse', 'pipeline', 'train', '', 'TRAIN-MODULAR']);
  const params: Record<string, unknown> = {};
  let touches: Owner | undefined;
  const reference = (kind: ResourceKind) => {
    const { id, owner } = idFor(r, world, kind);
    touches ??= owner;
    return id;
  };
  if (type === 'modularize') params.runId = reference('run');
  if (type === 'reuse') {
    params.modularizationId = reference('modularization');
    params.targetClasses = r.chance(0.7) ? [0, 1] : r.pick(WEIRD_VALUES);
    if (r.chance(0.5)) params.standardRunId = reference('run');
  }
  const fields = ['epochs', 'batchSize', 'lr', 'momentum', 'seed', 'trainLimit', 'alpha', 'beta', 'threshold', 'dataset', 'model', 'targetClasses', 'bogus'];
  for (let i = r.int(3); i > 0; i--) params[r.pick(fields)] = r.pick(WEIRD_VALUES);
  const shapes = [
    () => JSON.stringify({ type, params }),
    () => JSON.stringify({ type, params: r.pick(WEIRD_VALUES) }),
    () => JSON.stringify(r.pick(WEIRD_VALUES)),
    () => `{"type":"${type}","params":{"epochs":1e309}}`, // JSON.parse makes Infinity of it
    () => `{"type":"${type}","params":{"lr":-1e999,"epochs":"-Infinity"}}`,
    () => JSON.stringify({ type: 'pipeline', [`${'f'.repeat(r.int(3_000))}\u0000`]: 1 }), // an unknown field's name is echoed, cut short
    () => `{"type":"train-standard","type":"pipeline"}`,
    () => '{"type":"train-standard","params":{"__proto__":{"epochs":1}}}',
    () => '{"type":"train-standard","constructor":{"prototype":{"admin":true}}}',
    () => nested(r),
    () => r.bytes(r.int(200)).toString('latin1'),
    () => JSON.stringify({ type: 'train-standard', params: { padding: 'x'.repeat(70_000) } }),
    () => '',
  ];
  const shape = r.chance(0.35) ? 0 : r.int(shapes.length);
  // Only the first shape sends `params`, and with them the references.
  return { body: shapes[shape](), touches: shape === 0 ? touches : undefined };
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/jsonx',
  '*/*',
];

function downloadHeaders(r: Random): Record<string, string> {
  const headers: Record<string, string> = {};
  if (r.chance(0.5))
    headers.range = r.pick(['bytes=0-10', 'bytes=-1', 'bytes=999999-', 'bytes=5-2', 'bytes=0-1,4-5', 'bytes=-0', 'bytes=x', `bytes=${'9'.repeat(400)}-`, 'items=0-1', 'bytes=0-']);
  if (r.chance(0.3)) headers['if-none-match'] = r.pick(['*', '"x"', 'W/"x"', 'W/', '""', ',,,', '"a", W/"b"', 'x'.repeat(2_000)]);
  if (r.chance(0.3)) headers['if-range'] = r.pick(['"x"', 'W/"x"', 'Wed, 25 Nov 2026 10:00:00 GMT', '', 'garbage']);
  return headers;
}

export function fuzzRequest(r: Random, world: World): FuzzRequest {
  const auth = secretFor(r, world);
  const headers: Record<string, string | string[]> = auth.authorization === undefined ? {} : { authorization: auth.authorization };
  const base = { headers, caller: auth.caller };
  const roll = r.int(20);
  if (roll < 9) {
    const [method, route, kind] = r.pick(ROUTES);
    const { id, owner } = kind ? idFor(r, world, kind) : { id: r.chance(0.5) ? r.uuid() : r.pick(HOSTILE_IDS), owner: undefined };
    if (route.endsWith('download')) Object.assign(headers, downloadHeaders(r));
    // A different method on the route now and then: 404 or 405-like answers, never 5xx.
    const verb = r.chance(0.1) ? r.pick(['PUT', 'PATCH', 'OPTIONS', 'HEAD', 'POST']) : method;
    return { ...base, method: verb, path: route.replace(':id', id) + (r.chance(0.1) ? query(r) : ''), touches: owner };
  }
  if (roll < 12) return { ...base, method: 'GET', path: `/jobs${query(r)}`, lists: true };
  if (roll < 17) {
    const { body, touches } = jobBody(r, world);
    headers['content-type'] = r.chance(0.8) ? 'application/json' : r.pick(CONTENT_TYPES);
    if (r.chance(0.15)) headers['idempotency-key'] = r.pick(['k', 'same-key', 'x'.repeat(300), 'two words', r.uuid()]);
    return { ...base, method: 'POST', path: '/jobs', body, touches };
  }
  if (roll < 18) {
    headers['content-type'] = 'application/json';
    const name = r.chance(0.5) ? r.pick(WEIRD_VALUES) : r.pick(['a\u0000b', '\u0000', 'ok\u001f', 'del\u007f']);
    const body = JSON.stringify(r.chance(0.5) ? { name, scopes: r.pick([['root'], [], 'admin', ['read', 'read'], null, ['read']]) } : r.pick(WEIRD_VALUES));
    return { ...base, method: r.pick(['POST', 'GET']), path: '/keys', body };
  }
  return { ...base, method: r.pick(['GET', 'GET', 'POST', 'DELETE', 'OPTIONS']), path: r.pick([...JUNK_PATHS, '/healthz', '/docs/json', '/docs']) };
}
