import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildArchitecture, createModel, disposeModel, forward, maskedConvNames, maskedLayers, MODEL_NAMES, modelCost, traceShapes, withoutMasks, type Block } from '@mwt/core';
import { randomImages, setupBackend } from '../support/tf.js';

before(setupBackend);

describe('model zoo', () => {
  it('builds every public model name for MNIST and CIFAR shapes; the first conv is never masked', () => {
    for (const name of MODEL_NAMES) {
      for (const shape of [
        [28, 28, 1],
        [32, 32, 3],
      ] as [number, number, number][]) {
        const modular = buildArchitecture(name, shape, 10, { modular: true });
        const standard = buildArchitecture(name, shape, 10, { modular: false });
        const masked = maskedConvNames(modular);
        assert.ok(masked.length > 0, name);
        assert.ok(!masked.includes('conv1'), `${name}: first conv is masked`);
        assert.equal(maskedConvNames(standard).length, 0);
        // VGG16 and ResNet18's baselines are the modular nets without masks; CNNSplitter's have no BN at all.
        if (name.startsWith('vgg16') || name.startsWith('resnet18')) assert.deepEqual(withoutMasks(modular), standard);
        else
          assert.ok(
            standard.blocks.every((b) => (b.type !== 'conv' && b.type !== 'residual') || b.batchNorm === false),
            name,
          );
      }
    }
  });

  it("equals the reference's counts at full width: masked layers and kernels of every paper model", () => {
    const expected = { vgg16: [12, 4160], simcnn: [12, 4160], resnet18: [19, 4736], rescnn: [11, 4224] } as const;
    for (const [name, [layerCount, kernelCount]] of Object.entries(expected)) {
      const layers = maskedLayers(buildArchitecture(name as keyof typeof expected, [32, 32, 3], 10, { modular: true }));
      assert.equal(layers.length, layerCount, name);
      assert.equal(
        layers.reduce((sum, layer) => sum + layer.kernels, 0),
        kernelCount,
        name,
      );
    }
    const vgg = buildArchitecture('vgg16', [32, 32, 3], 10, { modular: false });
    assert.equal(vgg.blocks.filter((b) => b.type === 'conv').length, 13);
    const { params } = modelCost(vgg);
    assert.ok(params > 14e6 && params < 16e6, `vgg16 params ${params}`);
    assert.throws(() => buildArchitecture('vgg19' as 'vgg16', [32, 32, 3], 10, { modular: true }), /unknown model "vgg19"/);
  });

  it('builds the reference structures: shortcuts masked, ResCNN 12 convs / 5 pools / adds without ReLU, dropout positions', () => {
    const describe = (block: Block) => (block.type === 'dense' ? `${block.name}:${block.dropout}` : block.type);
    const resnet = buildArchitecture('resnet18', [32, 32, 3], 10, { modular: true });
    assert.deepEqual(
      maskedConvNames(resnet).filter((n) => n.endsWith('/shortcut')),
      ['res3/shortcut', 'res5/shortcut', 'res7/shortcut'],
    );
    const rescnn = buildArchitecture('rescnn', [32, 32, 3], 10, { modular: true });
    assert.deepEqual(rescnn.blocks.map(describe), [
      'conv',
      'conv',
      'maxPool',
      'residual',
      'conv',
      'maxPool',
      'conv',
      'maxPool',
      'residual',
      'conv',
      'maxPool',
      'conv',
      'maxPool',
      'residual',
      'flatten',
      'fc1:0.5',
    ]);
    const convCount = rescnn.blocks.reduce((n, b) => n + (b.type === 'conv' ? 1 : b.type === 'residual' ? 2 : 0), 0);
    assert.equal(convCount, 12);
    assert.ok(rescnn.blocks.every((b) => b.type !== 'residual' || (b.activation === 'before-add' && !b.projection)));
    assert.deepEqual(traceShapes(rescnn).at(-1)?.input, [1, 1, 512]);
    // First conv: bias, no BN, unmasked (SimCNN and ResCNN); VGG16's keeps its BN.
    for (const name of ['simcnn', 'rescnn'] as const) {
      const first = buildArchitecture(name, [32, 32, 3], 10, { modular: true }).blocks[0];
      assert.ok(first.type === 'conv' && first.batchNorm === false && !first.masked, name);
    }
    const denseOf = (name: 'vgg16' | 'simcnn') =>
      buildArchitecture(name, [32, 32, 3], 10, { modular: true })
        .blocks.filter((b) => b.type === 'dense')
        .map(describe);
    assert.deepEqual(denseOf('vgg16'), ['fc1:0', 'fc2:0.5', 'fc3:0.5']);
    assert.deepEqual(denseOf('simcnn'), ['fc1:0.5', 'fc2:0.5', 'fc3:0']);
  });

  it('keeps the structure at 1/8 width in the -small variants', () => {
    for (const family of ['vgg16', 'simcnn', 'resnet18', 'rescnn'] as const) {
      const full = buildArchitecture(family, [32, 32, 3], 10, { modular: true });
      const small = buildArchitecture(`${family}-small`, [32, 32, 3], 10, { modular: true });
      assert.deepEqual(
        small.blocks.map((b) => b.type),
        full.blocks.map((b) => b.type),
        family,
      );
      assert.deepEqual(
        maskedLayers(small).map((l) => l.kernels),
        maskedLayers(full).map((l) => l.kernels / 8),
        family,
      );
    }
  });

  it('runs a forward pass of every family with masks in [0, 1)', () => {
    for (const name of ['vgg16-small', 'simcnn-small', 'resnet18-small', 'rescnn-small'] as const) {
      const arch = buildArchitecture(name, [28, 28, 1], 10, { modular: true, widthMultiplier: 0.0625 });
      const model = createModel(arch, 0);
      const x = randomImages(2, [28, 28, 1], 1);
      tf.tidy(() => {
        const out = forward(arch, model.params, x, { training: true, dropoutSeed: 1 });
        assert.deepEqual(out.logits.shape, [2, 10]);
        assert.equal(out.masks.length, maskedConvNames(arch).length);
        for (const m of out.masks) {
          const values = m.dataSync();
          assert.ok(values.every((v) => v >= 0 && v < 1));
        }
      });
      x.dispose();
      disposeModel(model);
    }
  });
});
