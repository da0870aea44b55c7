// Which adapters `auto` refuses: software implementations of Vulkan/WebGPU, named by their adapter info.
// The lavapipe info is what Dawn reports on these machines; the others are written in the same shape
// (a real NVIDIA adapter's info is what scripts/gpu-check.sh prints).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeAdapter, formatAdapter } from '../../packages/core/src/backend/webgpu/adapter.js';

type Info = Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>;

function adapter(info: Info, isFallbackAdapter = false): GPUAdapter {
  return { info: { ...info, subgroupMinSize: 0, subgroupMaxSize: 0, isFallbackAdapter }, isFallbackAdapter } as unknown as GPUAdapter;
}

test('GPUs are real adapters; their driver is reported', () => {
  const nvidia = describeAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3', description: 'NVIDIA: 580.159.04 580.159.4.0' }));
  assert.equal(nvidia.software, false);
  assert.equal(nvidia.driver, 'NVIDIA: 580.159.04 580.159.4.0');
  assert.match(formatAdapter(nvidia), /^nvidia hopper NVIDIA H100 80GB HBM3 \(driver: NVIDIA: 580\.159\.04/);
  const amd = describeAdapter(adapter({ vendor: 'amd', architecture: 'rdna-3', device: '', description: 'radv: Mesa 25.0.7' }));
  assert.equal(amd.software, false);
});

test('lavapipe/llvmpipe, SwiftShader and fallback adapters are software', () => {
  const cases: Info[] = [
    { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1' },
    { vendor: 'google', architecture: '', device: 'swiftshader-device', description: 'SwiftShader driver' },
    { vendor: 'mesa', architecture: '', device: '', description: 'lavapipe' },
  ];
  for (const info of cases) assert.equal(describeAdapter(adapter(info)).software, true, JSON.stringify(info));
  assert.equal(describeAdapter(adapter({ vendor: 'x', architecture: 'y', device: 'z', description: 'w' }, true)).software, true, 'a fallback adapter');
  assert.match(formatAdapter(describeAdapter(adapter(cases[0]))), /; software adapter\)$/);
});
