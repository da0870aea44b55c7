/**
 * @mwt/native: the `native` tfjs backend, multithreaded C++ kernels (src/*.cc, built into
 * build/mwt_native.node at install) behind the cpu backend's tensor storage. @mwt/core loads it by
 * dynamic import (backend/select.ts: MWT_BACKEND=native, or auto) and calls registerNativeBackend().
 */
export { addonPath, nativeKernels, BinaryOp, ReduceOp, UnaryOp, type ConvGeometry, type NativeKernels } from './addon.js';
export { NATIVE_BACKEND, NativeBackend } from './backend.js';
export { nativeThreads, registerNativeBackend } from './register.js';
