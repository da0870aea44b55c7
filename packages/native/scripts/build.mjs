#!/usr/bin/env node
/**
 * Compiles src/*.cc into build/mwt_native.node with the system's C++ compiler (CXX, default g++),
 * against the Node-API headers of the `node-api-headers` npm package, so nothing is downloaded.
 * Runs at `npm ci` (the package's install script) and from scripts/prepare.sh; a no-op when the
 * build is newer than every source. Without a compiler it says so and exits 0 (the workers then use
 * the wasm backend) unless --strict.
 *
 *   node packages/native/scripts/build.mjs [--force] [--strict]
 *   MWT_NATIVE_MARCH=x86-64-v3 (default: native, i.e. this machine's instruction set)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'src');
const buildDir = join(root, 'build');
const output = join(buildDir, 'mwt_native.node');
const force = process.argv.includes('--force');
const strict = process.argv.includes('--strict');
const compiler = process.env.CXX || 'g++';
const march = process.env.MWT_NATIVE_MARCH || 'native';

function say(message) {
  console.log(`[mwt-native] ${message}`);
}

function giveUp(message) {
  say(`${message}; the workers will use the wasm backend instead`);
  process.exit(strict ? 1 : 0);
}

const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.cc')).map((f) => join(sourceDir, f));
const inputs = [...sources, ...readdirSync(sourceDir).filter((f) => f.endsWith('.h')).map((f) => join(sourceDir, f)), fileURLToPath(import.meta.url)];
if (!force && existsSync(output) && inputs.every((file) => statSync(file).mtimeMs <= statSync(output).mtimeMs)) {
  say(`up to date: ${output}`);
  process.exit(0);
}
if (spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status !== 0) giveUp(`no C++ compiler (${compiler}); install g++ (Debian: apt-get install g++)`);

const headers = join(dirname(createRequire(import.meta.url).resolve('node-api-headers/package.json')), 'include');
const flags = ['-std=c++17', '-O3', `-march=${march}`, '-ffp-contract=fast', '-fPIC', '-pthread', '-fvisibility=hidden', '-DNODE_GYP_MODULE_NAME=mwt_native', `-I${headers}`];

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(compiler, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk) => (errors += chunk));
    child.on('close', (code) => resolve({ code, errors }));
    child.on('error', (error) => resolve({ code: 1, errors: error.message }));
  });
}

mkdirSync(buildDir, { recursive: true });
const started = Date.now();
// One compiler per core: the kernels are template-heavy and take a while at -O3.
const objects = sources.map((file) => join(buildDir, file.slice(sourceDir.length + 1).replace(/\.cc$/, '.o')));
const queue = sources.map((file, i) => [file, objects[i]]);
const failures = [];
await Promise.all(
  Array.from({ length: Math.min(os.availableParallelism(), queue.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { code, errors } = await run([...flags, '-c', next[0], '-o', next[1]]);
      if (code !== 0) failures.push(`${next[0]}:\n${errors}`);
    }
  }),
);
if (failures.length > 0) giveUp(`compiling failed\n${failures.join('\n')}`);
const linked = await run([...flags, '-shared', ...objects, '-o', `${output}.tmp`]);
if (linked.code !== 0) giveUp(`linking failed\n${linked.errors}`);
// Replace atomically: a running worker may have the old file mapped.
renameSync(`${output}.tmp`, output);
say(`built ${output} (-march=${march}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
