/** `npm run keys -- create | list | revoke`, run for real as a child process against the test database. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { waitFor } from '../support/processes.js';
import { DATABASE_URL, startApp, type Harness } from './helpers.js';

const run = promisify(execFile);
const CACHE_TTL_MS = 300;

let h: Harness;
before(async () => {
  h = await startApp('keys-cli', { keyCacheTtlMs: CACHE_TTL_MS });
});
after(() => h.close());

/** The CLI through its npm script, as the README tells users to run it (`direct`: the script npm runs, minus npm's start-up). */
async function keys(args: string[], { direct = false } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const [command, commandArgs] = direct ? [process.execPath, ['--import', 'tsx', 'apps/api/src/cli/keys.ts']] : ['npm', ['run', '--silent', 'keys', '--']];
  try {
    const { stdout, stderr } = await run(command, [...commandArgs, ...args], { env: { ...process.env, DATABASE_URL } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

test('create prints the key once, stores its hash, and the key works with its scopes', async () => {
  const created = await keys(['create', '--name', 'cli test', '--scopes', 'read,submit']);
  assert.equal(created.code, 0, created.stderr);
  // Only the key on stdout, so that MWT_KEY=$(npm run --silent keys -- create ...) captures it.
  assert.match(created.stdout, /^mwt_[A-Za-z0-9_-]{43}\n$/);
  const secret = created.stdout.trim();
  const id = /created API key (\S+) "cli test" \(read, submit\)/.exec(created.stderr)?.[1];
  assert.ok(id, created.stderr);
  h.trackKey(id);
  const row = await h.prisma.apiKey.findUniqueOrThrow({ where: { id } });
  assert.equal(row.secretHash, createHash('sha256').update(secret).digest('hex'));
  assert.deepEqual(row.scopes, ['read', 'submit']);

  const as = { secret };
  assert.equal((await h.request('GET', '/jobs', undefined, { as })).status, 200);
  assert.equal((await h.request('POST', '/jobs', { type: 'train-standard' }, { as })).status, 201);
  assert.equal((await h.request('GET', '/keys', undefined, { as })).status, 403);

  const listed = await keys(['list']);
  assert.equal(listed.code, 0, listed.stderr);
  const line = listed.stdout.split('\n').find((l) => l.startsWith(id));
  assert.ok(line, listed.stdout);
  assert.match(line, new RegExp(`^${id}\\s+cli test\\s+${secret.slice(0, 12)}\\s+read,submit\\s+\\S+Z\\s+\\S+Z\\s+-$`), 'used, not revoked');
  assert.ok(!listed.stdout.includes(secret.slice(12)), 'list never shows a secret');

  const revoked = await keys(['revoke', id]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, new RegExp(`^revoked API key ${id} "cli test" at \\S+Z`));
  // Another process revoked it: this API stops accepting it within its key-cache TTL.
  await waitFor('the revoked key to be rejected', async () => ((await h.request('GET', '/jobs', undefined, { as })).status === 401 ? true : undefined), 5_000, 50);
  const after = await keys(['list']);
  assert.match(after.stdout.split('\n').find((l) => l.startsWith(id)) ?? '', /\S+Z$/, 'list shows the revocation date');
});

test('mistakes exit non-zero with a message: 2 with the usage, 1 for an unknown key', async () => {
  const cases: [string[], number, RegExp][] = [
    [['create', '--name', 'x', '--scopes', 'read,root'], 2, /--scopes: unknown scope "root"; choose from read, submit, admin\nusage:/],
    [['create', '--scopes', 'read'], 2, /--name: 1 to 100 characters/],
    [['revoke', 'not-an-id'], 2, /revoke needs the key id/],
    [['revoke', '3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f'], 1, /no API key 3f0e8d5c-6a7b-4c1d-9e2f-0a1b2c3d4e5f/],
    [['list', '--verbose'], 2, /Unknown option '--verbose'/],
  ];
  const results = await Promise.all(cases.map(([args]) => keys(args, { direct: true })));
  cases.forEach(([args, code, message], i) => {
    assert.equal(results[i].code, code, args.join(' '));
    assert.match(results[i].stderr, message, args.join(' '));
    assert.equal(results[i].stdout, '', 'nothing on stdout');
  });
});
