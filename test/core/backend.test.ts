// Backend choice is cached per process, so every scenario runs in a fresh
// child process to stay independent of the others and of test order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { addonPath } from '@mwt/native';

const run = promisify(execFile);
const selectUrl = new URL('../../packages/core/src/backend/select.ts', import.meta.url).href;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const nativeBuilt = existsSync(addonPath);

interface ChildResult {
  ok: boolean;
  /** BackendInfo as JSON when ok; the error message otherwise. */
  value: unknown;
  /** The same object came back from a second initBackend() and currentBackend(). */
  cached: boolean;
  stderr: string;
}

/** Runs initBackend(...args) in a fresh Node process with the given env overrides. */
async function initInChild(env: Record<string, string | undefined>, args = ''): Promise<ChildResult> {
  const script = `
    import { initBackend, currentBackend } from ${JSON.stringify(selectUrl)};
    try {
      const info = await initBackend(${args});
      const again = await initBackend(${args});
      console.log(JSON.stringify({ ok: true, value: info, cached: again === info && currentBackend() === info }));
    } catch (err) {
      console.log(JSON.stringify({ ok: false, value: err instanceof Error ? err.message : String(err), cached: false }));
    }`;
  const childEnv: NodeJS.ProcessEnv = { ...process.env, MWT_BACKEND: undefined, MWT_QUIET: undefined, ...env };
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: childEnv,
  });
  const parsed: unknown = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
  assert.ok(typeof parsed === 'object' && parsed !== null && 'ok' in parsed && 'value' in parsed && 'cached' in parsed);
  return { ok: parsed.ok === true, value: parsed.value, cached: parsed.cached === true, stderr };
}

interface Fallback {
  name: string;
  reason: string;
}

interface ChildInfo {
  name: unknown;
  tfBackend: unknown;
  package: unknown;
  threads: unknown;
  fallbacksTried: Fallback[];
}

function isFallback(v: unknown): v is Fallback {
  return typeof v === 'object' && v !== null && 'name' in v && typeof v.name === 'string' && 'reason' in v && typeof v.reason === 'string';
}

/** Narrows the child's JSON to the BackendInfo fields these tests look at. */
function info(result: ChildResult): ChildInfo {
  assert.ok(result.ok, `initBackend failed: ${String(result.value)}`);
  const v = result.value;
  assert.ok(typeof v === 'object' && v !== null && 'fallbacksTried' in v && Array.isArray(v.fallbacksTried));
  const fallbacks: unknown[] = v.fallbacksTried;
  assert.ok(fallbacks.every(isFallback));
  const fields: Record<string, unknown> = { ...v };
  return { name: fields.name, tfBackend: fields.tfBackend, package: fields.package, threads: fields.threads, fallbacksTried: fallbacks.filter(isFallback) };
}

test(
  'auto picks the native kernels where they are built and reports why the tfjs-node backends were skipped',
  { skip: nativeBuilt ? false : 'native kernels not built' },
  async () => {
    const result = await initInChild({});
    const chosen = info(result);
    assert.equal(chosen.name, 'native');
    assert.equal(chosen.tfBackend, 'mwt-native');
    assert.equal(chosen.package, '@mwt/native');
    assert.equal(typeof chosen.threads, 'number');
    const tried = chosen.fallbacksTried;
    assert.deepEqual(
      tried.map((f) => f.name),
      ['tensorflow-gpu', 'webgpu', 'tensorflow'],
    );
    assert.match(tried[0].reason, /@tensorflow\/tfjs-node-gpu/);
    // No GPU here: Dawn finds no adapter, or only lavapipe (software), which auto must refuse.
    assert.match(tried[1].reason, /no WebGPU adapter|only a software adapter is available: .*software adapter/);
    assert.match(tried[2].reason, /@tensorflow\/tfjs-node/);
    assert.ok(result.cached, 'second initBackend() call must return the cached info');
    assert.match(result.stderr, /\[mwt\] tfjs backend: native \(@mwt\/native, \d+ threads?/);
  },
);

test('without the native kernels, auto falls back to wasm and says how to build them', async () => {
  const result = await initInChild({ MWT_NATIVE_ADDON: '/nonexistent/mwt_native.node' });
  const chosen = info(result);
  assert.equal(chosen.name, 'wasm');
  assert.equal(chosen.tfBackend, 'wasm');
  assert.equal(chosen.package, '@tensorflow/tfjs-backend-wasm');
  assert.deepEqual(
    chosen.fallbacksTried.map((f) => f.name),
    ['tensorflow-gpu', 'webgpu', 'tensorflow', 'native'],
  );
  assert.match(chosen.fallbacksTried[3].reason, /not built.*npm run build:native/);
  // The log line names each skipped backend with its reason.
  assert.match(
    result.stderr,
    /\[mwt\] tfjs backend: wasm \(@tensorflow\/tfjs-backend-wasm, \d+ threads?; skipped tensorflow-gpu \(.+\), webgpu \(.+\), tensorflow \(.+\), native \(.*not built.*\)\)/,
  );
});

test('MWT_BACKEND=bogus throws naming the variable and the allowed values', async () => {
  const result = await initInChild({ MWT_BACKEND: 'bogus' });
  assert.equal(result.ok, false);
  assert.match(String(result.value), /MWT_BACKEND/);
  assert.match(String(result.value), /auto, tensorflow-gpu, webgpu, tensorflow, native, wasm, cpu/);
});

test('MWT_BACKEND=cpu selects the pure-JS backend; MWT_QUIET=1 silences the log line', async () => {
  const result = await initInChild({ MWT_BACKEND: 'cpu', MWT_QUIET: '1' });
  const chosen = info(result);
  assert.equal(chosen.name, 'cpu');
  assert.equal(chosen.tfBackend, 'cpu');
  assert.deepEqual(chosen.fallbacksTried, []);
  assert.doesNotMatch(result.stderr, /\[mwt\]/);
});

test('an explicit backend that cannot load throws with the reason instead of falling back', async () => {
  const result = await initInChild({ MWT_QUIET: '1' }, "'tensorflow'");
  assert.equal(result.ok, false);
  assert.match(String(result.value), /'tensorflow'.*@tensorflow\/tfjs-node.*Cannot find package/);
});

test('MWT_BACKEND=webgpu takes the adapter Dawn has, a software one included, and logs vendor, architecture, device and driver', async (t) => {
  const result = await initInChild({ MWT_BACKEND: 'webgpu' });
  if (!result.ok && /no WebGPU adapter/.test(String(result.value))) {
    t.skip(`Dawn finds no adapter here (${String(result.value)}); scripts/ensure-lavapipe.sh installs lavapipe`);
    return;
  }
  const chosen = info(result);
  assert.equal(chosen.name, 'webgpu');
  assert.equal(chosen.tfBackend, 'webgpu');
  assert.equal(chosen.package, '@tensorflow/tfjs-backend-webgpu');
  const value = result.value as { adapter?: { vendor: unknown; architecture: unknown; device: unknown; driver: unknown; software: unknown } };
  assert.ok(value.adapter, 'the adapter is reported');
  for (const field of ['vendor', 'architecture', 'device', 'driver'] as const) assert.equal(typeof value.adapter[field], 'string', field);
  assert.equal(typeof value.adapter.software, 'boolean');
  assert.match(result.stderr, /\[mwt\] tfjs backend: webgpu \(@tensorflow\/tfjs-backend-webgpu, adapter .+ \(driver: .+\)\)/);
});
