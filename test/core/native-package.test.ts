// @mwt/native is a package of its own that depends on core (MwT's kernel names), so core must know
// it only by dynamic import: no dependency in package.json, no static import, no type import.
// And the kernels' typed attributes: checked against each kernel's contract, not cast.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as native from '@mwt/native';
import { asNativeBackendModule } from '../../packages/core/src/backend/native-module.js';
import { hasAttrs, isBoolean, isNumber, isNumberArray, nullable, requireAttrs } from '../../packages/core/src/kernel-attrs.js';
import { MWT_KERNEL_ATTRS, MWT_SGD_UPDATE } from '../../packages/core/src/kernel-names.js';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the package graph', () => {
  test('core neither depends on @mwt/native nor imports it but dynamically, by an untyped specifier', () => {
    const manifest: unknown = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8'));
    assert.ok(typeof manifest === 'object' && manifest !== null);
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies']) {
      const deps: unknown = Reflect.get(manifest, field);
      assert.ok(deps === undefined || (typeof deps === 'object' && deps !== null && !('@mwt/native' in deps)), `core's ${field} name @mwt/native`);
    }
    const importers = sources(join(root, 'packages/core')).filter((file) => {
      const text = readFileSync(file, 'utf8');
      return /from ['"](@mwt\/native|[./]+\/native\/)/.test(text) || /import\(['"]@mwt\/native['"]\)/.test(text);
    });
    assert.deepEqual(importers, []);
    const left = existsSync(join(root, 'packages/core/src/backend/native')) ? sources(join(root, 'packages/core/src/backend/native')) : [];
    assert.deepEqual(left, [], 'the backend lives in packages/native/src');
  });

  test('@mwt/native depends on core only for the kernel contract (kernel-names, kernel-attrs)', () => {
    const specifiers = sources(join(root, 'packages/native/src')).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/from '(@mwt\/[^']+)'/g)].map((match) => match[1]));
    assert.deepEqual([...new Set(specifiers)].sort(), ['@mwt/core/kernel-attrs', '@mwt/core/kernel-names']);
  });

  test("select.ts's view of the package matches what it exports", () => {
    const module = asNativeBackendModule(native);
    assert.equal(module.backendName, native.NATIVE_BACKEND);
    assert.throws(() => asNativeBackendModule({ NATIVE_BACKEND: 'x', registerNativeBackend: () => undefined }), /does not export/);
    assert.throws(() => asNativeBackendModule(undefined), /does not export/);
  });
});

describe('typed kernel attributes', () => {
  const guards = { axis: nullable((value: unknown): value is number | number[] => isNumber(value) || isNumberArray(value)), keepDims: isBoolean };

  test("accept what tfjs' ops pass, null for a default included, and reject other types", () => {
    assert.ok(hasAttrs({ axis: [1, 2], keepDims: false }, guards));
    const sumOfAll: tf.NamedAttrMap = { keepDims: true };
    Reflect.set(sumOfAll, 'axis', null); // what tf.sum(x) passes (NamedAttrMap has no null)
    assert.ok(hasAttrs(sumOfAll, guards));
    assert.ok(!hasAttrs({ axis: 'all', keepDims: true }, guards));
    assert.ok(!hasAttrs({ axis: 1 }, guards), 'a missing attribute');
  });

  test('an MwT kernel called against its contract throws naming the kernel', () => {
    const attrs = { lr: 0.1, momentum: 0.9, weightDecay: 0, nesterov: 'yes' };
    assert.throws(() => requireAttrs(MWT_SGD_UPDATE, attrs, MWT_KERNEL_ATTRS[MWT_SGD_UPDATE]), /MwtSgdUpdate: attributes .* do not match/);
    assert.doesNotThrow(() => requireAttrs(MWT_SGD_UPDATE, { ...attrs, nesterov: false }, MWT_KERNEL_ATTRS[MWT_SGD_UPDATE]));
  });

  test('the native backend registers every MwT kernel the contract names', { skip: existsSync(native.addonPath) ? false : 'native kernels not built' }, () => {
    native.registerNativeBackend();
    for (const kernelName of Object.keys(MWT_KERNEL_ATTRS)) assert.ok(tf.getKernel(kernelName, native.NATIVE_BACKEND), kernelName);
  });
});
