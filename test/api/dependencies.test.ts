/**
 * The API's install footprint: everything @mwt/api depends on, followed transitively through the
 * workspace packages and node_modules, must hold no TensorFlow and no @mwt/core, so that a slim API
 * image needs neither tfjs nor the native addon (issue 11).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  workspaces?: string[];
}

const readManifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** Workspace package directories by package name, from the root manifest's `dir/*` globs. */
function workspacePackages(): Map<string, string> {
  const byName = new Map<string, string>();
  for (const pattern of readManifest(root).workspaces ?? []) {
    const parent = join(root, pattern.replace(/\/\*$/, ''));
    for (const entry of readdirSync(parent)) {
      const dir = join(parent, entry);
      if (existsSync(join(dir, 'package.json'))) byName.set(readManifest(dir).name, dir);
    }
  }
  return byName;
}

/** Where node resolves `name` from `fromDir`: the nearest node_modules up the tree. */
function resolvePackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir)) return undefined;
  }
}

/** Every package name reachable from `start` (its own name included), with the path that reached it. */
function dependencyClosure(start: string): Map<string, string[]> {
  const workspaces = workspacePackages();
  const startDir = workspaces.get(start);
  assert.ok(startDir, `${start} is not a workspace package`);
  const reached = new Map<string, string[]>([[start, [start]]]);
  const queue: string[] = [startDir];
  const visitedDirs = new Set<string>([startDir]);
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    const manifest = readManifest(dir);
    const via = reached.get(manifest.name) ?? [manifest.name];
    const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies, ...manifest.peerDependencies });
    for (const name of names) {
      if (!reached.has(name)) reached.set(name, [...via, name]);
      // An optional dependency that failed to install (tfjs-node here) has no directory: still counted above.
      const depDir = workspaces.get(name) ?? resolvePackage(name, dir);
      if (depDir && !visitedDirs.has(depDir)) {
        visitedDirs.add(depDir);
        queue.push(depDir);
      }
    }
  }
  return reached;
}

test("@mwt/api's dependency closure holds no @tensorflow/* and no @mwt/core", () => {
  const closure = dependencyClosure('@mwt/api');
  // The walk did reach through the workspace packages and into node_modules.
  for (const expected of ['@mwt/shared', '@mwt/db', '@mwt/catalog', 'fastify', 'typebox']) assert.ok(closure.has(expected), `closure lacks ${expected}`);
  const forbidden = [...closure.entries()].filter(([name]) => name.startsWith('@tensorflow/') || name === '@mwt/core' || name === '@mwt/native');
  assert.deepEqual(
    forbidden.map(([, path]) => path.join(' -> ')),
    [],
    'the API must not install the ML core',
  );
});

test('the closure walk does find TensorFlow where it is (the worker)', () => {
  const closure = dependencyClosure('@mwt/worker');
  assert.ok(closure.has('@mwt/core'));
  assert.ok(closure.has('@tensorflow/tfjs'));
});
