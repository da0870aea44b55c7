/**
 * Finding a GPU through Dawn (the `webgpu` npm package: Dawn's Node bindings, which reach GPUs
 * through Vulkan on Linux). Loaded only by dynamic import, so nothing maps Dawn's 21 MB binary
 * unless the webgpu backend is asked for.
 */

/** What the adapter says about itself, for the worker's log and the GPU check. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  /** On Vulkan, the driver's name and version (e.g. "NVIDIA: 580.159.04", "llvmpipe: Mesa 25.0.7 ..."). */
  driver: string;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP) or a fallback adapter: no use for real work. */
  software: boolean;
}

export interface OpenedAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  description: AdapterDescription;
}

/** Names that CPU implementations of Vulkan/WebGPU report in their adapter info. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|warp|microsoft basic render/i;

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  const fields = [info.vendor, info.architecture, info.device, info.description];
  // isFallbackAdapter moved from the adapter to its info in newer specs; Dawn reports either.
  const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const software = fallback || info.architecture === 'software' || fields.some((field) => SOFTWARE_NAMES.test(field));
  return { vendor: info.vendor, architecture: info.architecture, device: info.device, driver: info.description, software };
}

export function formatAdapter(d: AdapterDescription): string {
  const parts = [d.vendor || 'unknown vendor', d.architecture, d.device].filter((p) => p !== '');
  return `${parts.join(' ')} (driver: ${d.driver || 'unknown'}${d.software ? '; software adapter' : ''})`;
}

let opened: Promise<OpenedAdapter> | undefined;

/**
 * Dawn's high-performance adapter. With `allowSoftware` false a CPU adapter (lavapipe etc.) is
 * refused, naming it, so that `auto` never trains on one; tests and explicit requests may use it.
 */
export async function openAdapter(allowSoftware: boolean): Promise<OpenedAdapter> {
  opened ??= (async () => {
    const dawn = await import('webgpu');
    // tfjs-backend-webgpu reads the usage-flag constants (GPUBufferUsage, GPUMapMode, ...) as globals.
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter === null) throw new Error('Dawn found no WebGPU adapter (no Vulkan driver: install a GPU driver, or mesa-vulkan-drivers >= 25 for lavapipe)');
    return { gpu, adapter, description: describeAdapter(adapter) };
  })();
  const result = await opened.catch((err: unknown) => {
    opened = undefined;
    throw err;
  });
  if (!allowSoftware && result.description.software) {
    throw new Error(`only a software adapter is available: ${formatAdapter(result.description)}`);
  }
  return result;
}
