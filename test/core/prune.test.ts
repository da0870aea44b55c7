import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  buildArchitecture,
  createModel,
  disposeModel,
  forward,
  maskedConvNames,
  maskOverrides,
  modelCost,
  pruneModel,
  type MaskedLayer,
  type Model,
  type ModelName,
} from '@mwt/core';
import { maxAbsDiff, randomImages, setupBackend } from '../support/tf.js';

before(setupBackend);

/** Gives BN running statistics non-trivial values, so that pruning BN is really exercised. */
function perturbStatistics(model: Model, seed: number): void {
  let s = seed;
  for (const [name, v] of model.params) {
    if (name.endsWith('/bn/mean')) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', s++));
    if (name.endsWith('/bn/variance')) v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', s++));
    // Conv biases (BN-free convs) start at 0: give them values too.
    if (name.endsWith('/bias') && v.shape.length === 1) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', s++));
  }
}

/** A random module mask that keeps at least one kernel per layer. */
function randomMask(model: Model, seed: number): { layers: MaskedLayer[]; mask: Uint8Array } {
  let offset = 0;
  const layers = maskedConvNames(model.arch).map((name) => {
    const kernels = model.params.get(`${name}/kernel`)?.shape[3] ?? 0;
    const layer = { name, kernels, offset };
    offset += kernels;
    return layer;
  });
  const mask = new Uint8Array(offset);
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const { kernels, offset: start } of layers) {
    for (let k = 0; k < kernels; k++) mask[start + k] = next() < 0.4 ? 1 : 0;
    mask[start + Math.floor(next() * kernels)] = 1;
  }
  return { layers, mask };
}

const cases: { model: ModelName; shape: [number, number, number]; width: number }[] = [
  { model: 'simcnn', shape: [28, 28, 1], width: 0.0625 },
  { model: 'vgg16', shape: [32, 32, 3], width: 0.0625 },
  { model: 'resnet18', shape: [32, 32, 3], width: 0.0625 },
  { model: 'rescnn', shape: [28, 28, 1], width: 0.0625 },
];

describe('physical pruning', () => {
  it("counts a pruned residual block's FLOPs as its convs only (channel re-indexing is free)", () => {
    const arch = buildArchitecture('resnet18', [32, 32, 3], 10, { modular: true, widthMultiplier: 0.0625 });
    const full = createModel(arch, 1);
    const { layers, mask } = randomMask(full, 2);
    const module = pruneModel(full, layers, mask);
    const block = module.arch.blocks.find((b) => b.type === 'residual' && b.projection);
    assert.ok(block && block.type === 'residual');
    const kernelsOf = (layer: string) => module.params.get(`${block.name}/${layer}/kernel`)?.shape ?? [];
    const alone = { ...module.arch, blocks: [block] };
    const [, , inC, inner] = kernelsOf('conv1');
    const [, , , conv2] = kernelsOf('conv2');
    const [, , , shortcut] = kernelsOf('shortcut');
    const side = 32 / 2; // the first projection block has stride 2
    const sized = { ...alone, inputShape: [32, 32, inC] as [number, number, number] };
    assert.equal(modelCost(sized).flops, side * side * (9 * inC * inner + 9 * inner * conv2 + inC * shortcut));
    disposeModel(full);
    disposeModel(module);
  });

  for (const { model: name, shape, width } of cases) {
    it(`${name}: the pruned module's logits equal the full model's with dropped kernels off and kept ones on`, () => {
      const arch = buildArchitecture(name, shape, 10, { modular: true, widthMultiplier: width });
      const full = createModel(arch, 3);
      perturbStatistics(full, 11);
      const { layers, mask } = randomMask(full, 5);
      const module = pruneModel(full, layers, mask);
      const x = randomImages(6, shape, 9);
      const expected = tf.tidy(() => forward(full.arch, full.params, x, { training: false, maskOverride: maskOverrides(layers, mask) }).logits);
      const actual = tf.tidy(() => forward(module.arch, module.params, x, { training: false }).logits);
      const scale = Math.max(...expected.abs().dataSync());
      assert.ok(maxAbsDiff(expected.dataSync(), actual.dataSync()) <= 1e-4 * Math.max(1, scale));
      // The module is really smaller: no mask generators, fewer kernels.
      assert.equal(maskedConvNames(module.arch).length, 0);
      assert.ok(modelCost(module.arch).params < modelCost(arch).params);
      assert.ok(modelCost(module.arch).flops < modelCost(arch).flops);
      if (name === 'resnet18') {
        // The masked 1x1 shortcuts were pruned too, and their kept channels joined the residual stream.
        const projections = module.arch.blocks.filter((b) => b.type === 'residual' && b.projection);
        assert.equal(projections.length, 3);
        assert.ok(projections.some((b) => b.type === 'residual' && (b.shortcutKept?.length ?? b.filters) < b.filters));
      }
      tf.dispose([x, expected, actual]);
      disposeModel(full);
      disposeModel(module);
    });
  }
});
