/**
 * @mwt/native as core sees it. The package depends on core (its kernel names), so core does not
 * depend on it, not even for types: select.ts imports it dynamically, as it imports tfjs-node, and
 * checks here that it exports what it is called for.
 */
export interface NativeBackendModule {
  /** The name tfjs knows the backend by. */
  backendName: string;
  /** Registers the backend once per process; throws (naming the fix) when the addon was not built. */
  register(): void;
  /** Threads the native kernels use. */
  threads(): number;
}

export function asNativeBackendModule(mod: unknown): NativeBackendModule {
  if (typeof mod === 'object' && mod !== null && 'NATIVE_BACKEND' in mod && 'registerNativeBackend' in mod && 'nativeThreads' in mod) {
    const { NATIVE_BACKEND: backendName, registerNativeBackend: register, nativeThreads: threads } = mod;
    if (typeof backendName === 'string' && typeof register === 'function' && typeof threads === 'function') {
      return {
        backendName,
        register: () => {
          register();
        },
        threads: () => {
          const count: unknown = threads();
          if (typeof count !== 'number') throw new Error(`@mwt/native's nativeThreads() returned ${String(count)}`);
          return count;
        },
      };
    }
  }
  throw new Error('@mwt/native does not export NATIVE_BACKEND, registerNativeBackend and nativeThreads');
}
