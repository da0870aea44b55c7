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
  return createRequire(import.meta.url)(addonPath);
}
