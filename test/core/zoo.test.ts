import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildArchitecture, createModel, disposeModel, forward, maskedConvNames, MODEL_NAMES, modelCost, withoutMasks } from '@mwt/core';
import { randomImages, setupBackend } from '../support/tf';

before(setupBackend);

describe('model zoo', () => {
  it('builds every public model name for MNIST and CIFAR shapes; the first conv is never masked', () => {
    for (const name of MODEL_NAMES) {
      for (const shape of [[28, 28, 1], [32, 32, 3]] as [number, number, number][]) {
        const modular = buildArchitecture(name, shape, 10, { modular: true });
        const standard = buildArchitecture(name, shape, 10, { modular: false });
        const masked = maskedConvNames(modular);
        assert.ok(masked.length > 0, name);
        assert.ok(!masked.includes('conv1'), `${name}: first conv is masked`);
        assert.equal(maskedConvNames(standard).length, 0);
        assert.deepEqual(withoutMasks(modular), standard);
      }
    }
  });

  it('has the paper sizes: VGG16-BN 13 conv (12 masked), ResNet18 16 masked convs, CIFAR VGG16 ~15M params', () => {
    const vgg = buildArchitecture('vgg16', [32, 32, 3], 10, { modular: false });
    assert.equal(vgg.blocks.filter((b) => b.type === 'conv').length, 13);
    assert.equal(maskedConvNames(buildArchitecture('vgg16', [32, 32, 3], 10, { modular: true })).length, 12);
    assert.equal(maskedConvNames(buildArchitecture('resnet18', [32, 32, 3], 10, { modular: true })).length, 16);
    const { params } = modelCost(vgg);
    assert.ok(params > 14e6 && params < 16e6, `vgg16 params ${params}`);
    assert.throws(() => buildArchitecture('vgg19' as 'vgg16', [32, 32, 3], 10, { modular: true }), /unknown model "vgg19"/);
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
