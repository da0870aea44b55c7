#!/usr/bin/env node
/**
 * Compiles src/*.cc into build/mwt_native.node with the system's C++ compiler (CXX, default g++),
 * against the Node-API headers of the `node-api-headers` npm package, so nothing is downloaded.
 * Runs at `npm ci` (the package's install script) and from scripts/prepare.sh; a no-op when the
 * build is newer than every source. Without a compiler it says so and exits 0 (the workers then use
 * the wasm backend) unless --strict.
 *
 * Where oneDNN is installed (Debian: apt-get install libdnnl-dev; scripts/prepare.sh does it as root),
 * the convolutions run through it (src/conv_dnnl.cc); without it the addon's own kernels do.
 *
 *   node packages/native/scripts/build.mjs [--force] [--strict]
 *   MWT_NATIVE_MARCH=x86-64-v3 (default: native, i.e. this machine's instruction set)
 *   MWT_NATIVE_DNNL=0 builds without oneDNN even where it is installed
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

// oneDNN is used where a program including its header links against it.
function findDnnl() {
  if (process.env.MWT_NATIVE_DNNL === '0') return false;
  const dir = mkdtempSync(join(os.tmpdir(), 'mwt-dnnl-'));
  try {
    const probe = join(dir, 'probe.cc');
    writeFileSync(probe, '#include <oneapi/dnnl/dnnl.hpp>\nint main() { dnnl::engine e(dnnl::engine::kind::cpu, 0); return 0; }\n');
    return spawnSync(compiler, ['-std=c++17', probe, '-o', join(dir, 'probe'), '-ldnnl'], { stdio: 'ignore' }).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sources = readdirSync(sourceDir)
  .filter((f) => f.endsWith('.cc'))
  .map((f) => join(sourceDir, f));
const inputs = [
  ...sources,
  ...readdirSync(sourceDir)
    .filter((f) => f.endsWith('.h'))
    .map((f) => join(sourceDir, f)),
  fileURLToPath(import.meta.url),
];
if (spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status !== 0) giveUp(`no C++ compiler (${compiler}); install g++ (Debian: apt-get install g++)`);
const dnnl = findDnnl();
// What the last build was made with: installing oneDNN later (or removing it) rebuilds.
const features = join(buildDir, 'features.json');
const featureLine = JSON.stringify({ dnnl, march });
const sameFeatures = existsSync(features) && readFileSync(features, 'utf8') === featureLine;
if (!force && sameFeatures && existsSync(output) && inputs.every((file) => statSync(file).mtimeMs <= statSync(output).mtimeMs)) {
  say(`up to date: ${output}`);
  process.exit(0);
}

const headers = join(dirname(createRequire(import.meta.url).resolve('node-api-headers/package.json')), 'include');
const flags = ['-std=c++17', '-O3', `-march=${march}`, '-ffp-contract=fast', '-fPIC', '-pthread', '-fvisibility=hidden', '-DNODE_GYP_MODULE_NAME=mwt_native', `-I${headers}`];
if (dnnl) flags.push('-DMWT_HAVE_DNNL', '-fopenmp');
const libraries = dnnl ? ['-ldnnl'] : [];

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
const linked = await run([...flags, '-shared', ...objects, '-o', `${output}.tmp`, ...libraries]);
if (linked.code !== 0) giveUp(`linking failed\n${linked.errors}`);
// Replace atomically: a running worker may have the old file mapped.
renameSync(`${output}.tmp`, output);
writeFileSync(features, featureLine);
say(
  `built ${output} (-march=${march}, ${dnnl ? 'with oneDNN' : 'without oneDNN: apt-get install libdnnl-dev for faster wide convolutions'}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
