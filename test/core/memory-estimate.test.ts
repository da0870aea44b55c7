/** The catalog's training-memory estimate on architectures small enough to count by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activationFloatsPerSample, buildArchitecture, estimateTrainingMemory, FIXED_OVERHEAD_BYTES, formatBytes, MB, type Architecture } from '@mwt/catalog';

test('conv (bias, no BN) -> flatten -> dense: every term counted by hand', () => {
  const arch: Architecture = {
    model: 'hand',
    inputShape: [4, 4, 1],
    outputs: 3,
    blocks: [
      { type: 'conv', name: 'conv1', filters: 2, kernelSize: 3, stride: 1, masked: false, batchNorm: false },
      { type: 'flatten', name: 'flatten' },
      { type: 'dense', name: 'fc', units: 3, relu: false, dropout: 0 },
    ],
  };
  // input 16 + conv output 4*4*2 = 32 floats kept 4 times + dense output 3 kept twice.
  assert.equal(activationFloatsPerSample(arch), 16 + 32 * 4 + 3 * 2);
  const estimate = estimateTrainingMemory({ arch, batchSize: 10, trainSamples: 100, testSamples: 20 });
  // 120 samples of 16 floats and a label; 119 parameters (18 + 2 + 96 + 3) in 4 copies; 150 floats a sample.
  assert.deepEqual(estimate, {
    overheadBytes: FIXED_OVERHEAD_BYTES,
    datasetBytes: 120 * (16 * 4 + 4),
    paramBytes: 119 * 4 * 4,
    activationBytes: 150 * 10 * 4,
    totalBytes: FIXED_OVERHEAD_BYTES + 120 * 68 + 119 * 16 + 6000,
  });
});

test('masked conv with BN -> global average pool -> dense', () => {
  const arch: Architecture = {
    model: 'hand',
    inputShape: [2, 2, 3],
    outputs: 2,
    blocks: [
      { type: 'conv', name: 'conv1', filters: 4, kernelSize: 3, stride: 1, masked: true },
      { type: 'globalAvgPool', name: 'gap' },
      { type: 'dense', name: 'fc', units: 2, relu: false, dropout: 0 },
    ],
  };
  // input 12 + conv 2*2*4 = 16 kept 6 times + pooled 4 kept twice + logits 2 kept twice.
  assert.equal(activationFloatsPerSample(arch), 12 + 16 * 6 + 4 * 2 + 2 * 2);
  // kernel 108, gamma and beta 8, gate 3x4 + 4x4 + 4 = 32, dense 4*2 + 2 = 10.
  assert.equal(estimateTrainingMemory({ arch, batchSize: 1, trainSamples: 0, testSamples: 0 }).paramBytes, 158 * 4 * 4);
});

test('residual block with an identity shortcut', () => {
  const arch: Architecture = {
    model: 'hand',
    inputShape: [2, 2, 4],
    outputs: 4,
    blocks: [{ type: 'residual', name: 'res1', filters: 4, innerFilters: 4, stride: 1, masked: false, projection: false }],
  };
  // input 16 + conv1 16*6 + conv2 16*6 + add, activation and split gradient 16*3.
  assert.equal(activationFloatsPerSample(arch), 16 + 96 + 96 + 48);
});

test('the estimate grows with the batch: resnet18 on CIFAR-10 at batch 1024 is many GB, at 16 under 1.5 GB', () => {
  const arch = buildArchitecture('resnet18', [32, 32, 3], 10, { modular: true });
  const at = (batchSize: number) => estimateTrainingMemory({ arch, batchSize, trainSamples: 50_000, testSamples: 10_000 }).totalBytes;
  assert.ok(at(1024) > 16 * 1024 * MB, formatBytes(at(1024)));
  assert.ok(at(16) < 1.5 * 1024 * MB, formatBytes(at(16)));
  assert.equal(formatBytes(9.6 * 1024 * MB), '9.6 GB');
  assert.equal(formatBytes(850 * MB), '850 MB');
});
