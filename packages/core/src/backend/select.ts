import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { asNativeBackendModule } from './native-module.js';
import { formatAdapter, type AdapterDescription } from './webgpu/adapter.js';

/** Which tfjs backend to run on; `auto` tries the fastest one that loads. */
export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'native' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendPreference, 'auto'>;

export interface FallbackAttempt {
  name: BackendName;
  reason: string;
}

export interface BackendInfo {
  name: BackendName;
  /** What `tf.getBackend()` reports once the backend is active. */
  tfBackend: string;
  /** The npm package that provides the kernels. */
  package: string;
  /** Threads the kernels actually use (native and wasm). */
  threads?: number;
  /** The GPU (webgpu): vendor, architecture, device, driver. */
  adapter?: AdapterDescription;
  /** Faster backends that `auto` skipped, and why. */
  fallbacksTried: FallbackAttempt[];
}

const ENV_VAR = 'MWT_BACKEND';
const PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'native', 'wasm', 'cpu'];
/**
 * Fastest first: libtensorflow on CUDA, tfjs' WebGPU kernels on Dawn (Vulkan) on a real GPU,
 * libtensorflow on the CPU, our own C++ kernels (built at install where a C++ compiler exists),
 * wasm SIMD, pure JS.
 */
const AUTO_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'native', 'wasm', 'cpu'];
const PACKAGES: Readonly<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  tensorflow: '@tensorflow/tfjs-node',
  native: '@mwt/native',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

type Loaded = Omit<BackendInfo, 'fallbacksTried'>;

export function readPreference(env: NodeJS.ProcessEnv = process.env): BackendPreference {
  const raw = env[ENV_VAR]?.trim();
  if (raw === undefined || raw === '') return 'auto';
  const match = PREFERENCES.find((p) => p === raw);
  if (match === undefined) {
    throw new Error(`${ENV_VAR}="${raw}" is not a valid backend; allowed values: ${PREFERENCES.join(', ')}`);
  }
  return match;
}

async function activate(tfBackend: string, pkg: string): Promise<void> {
  // The tfjs-node packages register 'tensorflow' on whichever tfjs-core they
  // resolve; if that is not our copy, setBackend would fail with a vaguer error.
  if (!tf.findBackendFactory(tfBackend)) {
    throw new Error(`${pkg} loaded but did not register tfjs backend '${tfBackend}' with this @tensorflow/tfjs`);
  }
  // setBackend resolves false (after a console warning) instead of rejecting.
  if (!(await tf.setBackend(tfBackend))) throw new Error(`tf.setBackend('${tfBackend}') failed to initialise`);
  await tf.ready();
}

/** tfjs-node(-gpu) are optional and untyped here; importing them registers 'tensorflow'. */
async function loadNative(name: 'tensorflow-gpu' | 'tensorflow'): Promise<Loaded> {
  const specifier: string = PACKAGES[name];
  // A variable specifier keeps tsc from needing the (absent) type declarations.
  const mod: unknown = await import(specifier);
  if (typeof mod !== 'object' || mod === null) throw new Error(`${specifier} did not export a module object`);
  await activate('tensorflow', specifier);
  return { name, tfBackend: tf.getBackend(), package: specifier };
}

/**
 * @mwt/native depends on core, so core imports it only here, dynamically. The specifier is a literal,
 * so that bundlers include the package (scripts/gpu-pack.sh), typed as a plain string, so that tsc
 * does not resolve it: core has no type dependency on it either (native-module.ts checks its exports).
 */
async function loadNativeKernels(): Promise<Loaded> {
  // The assertion is the point (see above), though a literal needs none to be a string.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  const mod: unknown = await import('@mwt/native' as string);
  const native = asNativeBackendModule(mod);
  native.register();
  await activate(native.backendName, PACKAGES.native);
  return { name: 'native', tfBackend: tf.getBackend(), package: PACKAGES.native, threads: native.threads() };
}

/**
 * Dawn and tfjs-backend-webgpu load only here. `auto` refuses a software adapter (lavapipe and the
 * like are far slower than the CPU backends); an explicit MWT_BACKEND=webgpu takes whatever Dawn has.
 */
async function loadWebgpu(allowSoftware: boolean): Promise<Loaded> {
  const { registerWebgpuBackend, WEBGPU_BACKEND } = await import('./webgpu/backend.js');
  const { adapter } = await registerWebgpuBackend(allowSoftware);
  await activate(WEBGPU_BACKEND, PACKAGES.webgpu);
  return { name: 'webgpu', tfBackend: tf.getBackend(), package: PACKAGES.webgpu, adapter };
}

async function loadWasm(): Promise<Loaded> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // In Node the .wasm binaries are read from disk, so point at the package's dist/.
  const binary = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
  wasm.setWasmPaths(path.dirname(binary) + path.sep);
  // Only a request: tfjs-backend-wasm 4.22 disables its threaded binary under
  // Node (tfjs#3830), so getThreadsCount() reports what is really used.
  if (typeof wasm.setThreadsCount === 'function') wasm.setThreadsCount(os.availableParallelism());
  await activate('wasm', PACKAGES.wasm);
  const threads = typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : undefined;
  return { name: 'wasm', tfBackend: tf.getBackend(), package: PACKAGES.wasm, threads };
}

async function loadCpu(): Promise<Loaded> {
  await activate('cpu', PACKAGES.cpu);
  return { name: 'cpu', tfBackend: tf.getBackend(), package: PACKAGES.cpu };
}

function load(name: BackendName, explicit: boolean): Promise<Loaded> {
  switch (name) {
    case 'webgpu':
      return loadWebgpu(explicit);
    case 'tensorflow-gpu':
    case 'tensorflow':
      return loadNative(name);
    case 'native':
      return loadNativeKernels();
    case 'wasm':
      return loadWasm();
    case 'cpu':
      return loadCpu();
  }
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

async function selectBackend(preference: BackendPreference): Promise<BackendInfo> {
  if (preference !== 'auto') {
    try {
      return { ...(await load(preference, true)), fallbacksTried: [] };
    } catch (err) {
      // An explicit choice must not silently degrade to a slower backend.
      throw new Error(`tfjs backend '${preference}' requested but ${PACKAGES[preference]} cannot be used: ${reasonOf(err)}`);
    }
  }
  const fallbacksTried: FallbackAttempt[] = [];
  for (const name of AUTO_ORDER) {
    try {
      return { ...(await load(name, false)), fallbacksTried };
    } catch (err) {
      fallbacksTried.push({ name, reason: reasonOf(err) });
    }
  }
  const summary = fallbacksTried.map((f) => `${f.name}: ${f.reason}`).join('; ');
  throw new Error(`no tfjs backend could be loaded (${summary})`);
}

function describe(info: BackendInfo): string {
  const threads = info.threads === undefined ? '' : `, ${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  const skipped = info.fallbacksTried.length === 0 ? '' : `; skipped ${info.fallbacksTried.map((f) => `${f.name} (${f.reason})`).join(', ')}`;
  const adapter = info.adapter === undefined ? '' : `, adapter ${formatAdapter(info.adapter)}`;
  return `[mwt] tfjs backend: ${info.name} (${info.package}${threads}${adapter}${skipped})`;
}

let cached: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

/**
 * Picks and activates the tfjs backend once per process. Later calls return
 * the same info; asking for a different explicit backend afterwards throws,
 * because tensors already created would silently change backend.
 */
export async function initBackend(preference: BackendPreference = readPreference()): Promise<BackendInfo> {
  if (pending === undefined) {
    pending = selectBackend(preference).then(
      (info) => {
        cached = info;
        if (process.env.MWT_QUIET !== '1') process.stderr.write(`${describe(info)}\n`);
        return info;
      },
      (err: unknown) => {
        pending = undefined; // let the caller retry with another preference
        throw err;
      },
    );
  }
  const info = await pending;
  if (preference !== 'auto' && preference !== info.name) {
    throw new Error(`tfjs backend already initialised as '${info.name}'; cannot switch to '${preference}'`);
  }
  return info;
}

/** The backend chosen by initBackend, or undefined before it has finished. */
export function currentBackend(): BackendInfo | undefined {
  return cached;
}
