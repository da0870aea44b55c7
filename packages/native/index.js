/**
 * Loads the compiled kernels (build/mwt_native.node). Throws, naming the fix, when they were not
 * built: the backend selection then falls back to wasm and logs why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the addon is: build/mwt_native.node here, or MWT_NATIVE_ADDON (an image built elsewhere, tests). */
export const addonPath = process.env.MWT_NATIVE_ADDON || join(dirname(fileURLToPath(import.meta.url)), 'build', 'mwt_native.node');

export function loadKernels() {
  if (!existsSync(addonPath)) {
    throw new Error(`native kernels not built (${addonPath} missing): run \`npm run build:native\` (needs g++)`);
  }
  // oneDNN's OpenMP threads (an addon built with it) read this when the addon loads. Spinning at the
  // end of each parallel region, OpenMP's default, costs whole time slices on a busy machine, where
  // the spinning thread holds the core that a descheduled one needs: threads wait passively.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  return createRequire(import.meta.url)(addonPath);
}
