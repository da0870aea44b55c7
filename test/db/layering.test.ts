/**
 * immich's layering, kept by source scans: nothing outside packages/db talks to Prisma, and the
 * owner filter is built only inside the repositories, which take the caller's Principal. A route or
 * a worker phase that queried Prisma, or narrowed a query by owner itself, fails here.
 * Tests, the schema (prisma/) and the benchmarks (bench/, which set up and inspect rows as tests
 * do) are not scanned.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const SCANNED = ['apps', 'packages', 'scripts'];
const SOURCE = /\.(ts|mts|cts|js|mjs)$/;

/** Every source file under `dir`, as a path from the repository root (dependencies, builds and generated code left out). */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist', 'build', 'generated'].includes(entry.name) ? [] : sources(path);
    return SOURCE.test(entry.name) ? [path] : [];
  });
}

const files = SCANNED.flatMap(sources).map((path) => relative(root, join(root, path)));

/** `file:line: text` for each line of the files `where` keeps that matches `pattern`. */
function matches(pattern: RegExp, where: (file: string) => boolean): string[] {
  return files.filter(where).flatMap((file) =>
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .flatMap((line, i) => (pattern.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
}

const outsideDb = (file: string) => !file.startsWith('packages/db/');

test('the scan sees the services (it would pass vacuously on an empty tree)', () => {
  for (const expected of ['apps/api/src/routes/jobs.ts', 'apps/worker/src/phases/train.ts', 'packages/db/src/repositories/jobs.ts']) assert.ok(files.includes(expected), expected);
});

test('nothing outside packages/db imports Prisma or its generated client', () => {
  assert.deepEqual(matches(/@prisma\/|generated\/client|\bPrismaClient\b|\bPrisma\./, outsideDb), []);
});

test('nothing outside packages/db makes a Prisma call', () => {
  // A client's model delegate or $-method (prisma.job..., this.prisma.$transaction, tx.run...), wherever the client came from.
  assert.deepEqual(matches(/\b(prisma|tx)\??\.\s*[$\w]|\.\$(transaction|queryRaw|executeRaw|disconnect)\b/, outsideDb), []);
});

test('the owner filter is built only inside the repositories', () => {
  const home = (file: string) => file.startsWith('packages/db/src/repositories/') || file === 'packages/db/src/owner-filter.ts';
  assert.deepEqual(
    matches(/\b(visibleJobs|ownedThroughJob|jobOwner)\b|from\s+['"][^'"]*owner-filter/, (file) => !home(file)),
    [],
  );
});

test('worker phases share code through their own modules, not through each other: reuse imports nothing of modularize', () => {
  assert.deepEqual(
    matches(/from\s+['"]\.\/modularize['"]/, (file) => file.startsWith('apps/worker/src/phases/')),
    [],
  );
});
