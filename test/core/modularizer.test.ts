import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modularizeMasks, PackedBits, subTaskMask, type SampleMasks } from '@mwt/core';

/** Sample masks from rows of '0'/'1' strings; two layers: 3 kernels then 2 kernels. */
function samples(rows: string[], labels: number[]): SampleMasks {
  const layers = [
    { name: 'conv2', kernels: 3, offset: 0 },
    { name: 'conv3', kernels: 2, offset: 3 },
  ];
  const bits = new PackedBits(rows.length, 5);
  rows.forEach((row, r) => [...row].forEach((ch, k) => ch === '1' && bits.set(r, k)));
  return { layers, totalKernels: 5, bits, labels: Int32Array.from(labels) };
}

describe('modularizer', () => {
  // Class 0: 10 samples; kernel 0 always on, kernel 1 on in 9 of 10 (f = 0.9), kernel 3 in 8 (0.8), kernel 4 never.
  // Class 1: 4 samples; kernel 2 always on; layer 2 kernels on in 3 of 4 (0.75) and 1 of 4.
  const class0 = [...Array(10)].map((_, i) => `1${i < 9 ? 1 : 0}0${i < 8 ? 1 : 0}0`);
  const class1 = ['00110', '00110', '00110', '00101'];
  const data = samples([...class0, ...class1], [...Array(10).fill(0), ...Array(4).fill(1)]);

  it('keeps kernels with frequency >= threshold and lowers an empty layer by 0.05 steps', () => {
    const result = modularizeMasks(data, { threshold: 0.9, numClasses: 2 });
    const [m0, m1] = result.modules;
    // Class 0: layer 1 keeps 0 and 1 (f 1.0, 0.9). Layer 2 has f 0.8 and 0 -> lowered twice to 0.8, keeps kernel 3.
    assert.deepEqual([...m0.mask], [1, 1, 0, 1, 0]);
    assert.ok(Math.abs(m0.layerThresholds[1] - 0.8) < 1e-9);
    assert.ok(Math.abs(m0.layerThresholds[0] - 0.9) < 1e-9);
    // Class 1: layer 1 keeps kernel 2; layer 2 (0.75, 0.25) is lowered to 0.75.
    assert.deepEqual([...m1.mask], [0, 0, 1, 1, 0]);
    assert.ok(Math.abs(m1.layerThresholds[1] - 0.75) < 1e-9);
    assert.equal(result.krr, (3 / 5 + 2 / 5) / 2);
  });

  it('computes cohesion and coupling as mean pairwise Jaccard indices', () => {
    const result = modularizeMasks(data, { threshold: 0.9, numClasses: 2 });
    // Coupling: modules {0,1,3} and {2,3}: 1 / 4.
    assert.equal(result.coupling, 0.25);
    // Class 0 sample masks ANDed with {0,1,3}: 8 x {0,1,3}, 1 x {0,1}, 1 x {0}.
    const c0 = [...Array(8).fill([0, 1, 3]), [0, 1], [0]];
    // Class 1 ANDed with {2,3}: 3 x {2,3}, 1 x {2}.
    const c1 = [...Array(3).fill([2, 3]), [2]];
    const meanJaccard = (sets: number[][]) => {
      let sum = 0;
      let n = 0;
      for (let i = 0; i < sets.length; i++) {
        for (let j = i + 1; j < sets.length; j++) {
          const a = new Set(sets[i]);
          const inter = sets[j].filter((x) => a.has(x)).length;
          sum += inter / new Set([...sets[i], ...sets[j]]).size;
          n++;
        }
      }
      return sum / n;
    };
    const expected = (meanJaccard(c0) + meanJaccard(c1)) / 2;
    assert.ok(Math.abs(result.cohesion - expected) < 1e-12);
  });

  it('builds a sub-task mask as the OR of module masks', () => {
    const result = modularizeMasks(data, { threshold: 0.9, numClasses: 2 });
    assert.deepEqual([...subTaskMask(result, [0, 1])], [1, 1, 1, 1, 0]);
    assert.throws(() => subTaskMask(result, [7]), /class 7/);
  });

  it('rejects a threshold outside (0, 1]', () => {
    assert.throws(() => modularizeMasks(data, { threshold: 0, numClasses: 2 }), /threshold/);
    assert.throws(() => modularizeMasks(data, { threshold: 1.5, numClasses: 2 }), /threshold/);
  });
});
