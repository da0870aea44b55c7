// The native backend's recycled output arrays (packages/native/src/output-pool.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputPool } from '../../packages/native/src/output-pool.js';

test('an array given back goes out again as the next output of its length, never one released to a reader', () => {
  const pool = new OutputPool(1024);
  const first = pool.take(16);
  pool.give(first);
  assert.equal(pool.take(16), first);
  assert.notEqual(pool.take(8), first);
  const read = pool.take(16);
  pool.release(read);
  pool.give(read);
  assert.notEqual(pool.take(16), read);
});

test('keeps as many free bytes as were lent at once, above its minimum: a second step allocates nothing', () => {
  const pool = new OutputPool(64);
  const step = () => Array.from({ length: 10 }, () => pool.take(1024));
  const arrays = step();
  for (const values of arrays) pool.give(values);
  const again = step();
  // By identity: deepEqual would take any ten zero-filled arrays of the length.
  assert.ok(again.every((values) => arrays.includes(values)));
});

test('keeps no more free bytes than were ever lent at once (nor than its minimum), dropping the lengths least recently used', () => {
  const pool = new OutputPool(0);
  const large = pool.take(1024);
  pool.give(large);
  // 4 KiB were lent at most, and 4 KiB are free: a 2 KiB array given back now takes the place of the 4 KiB one.
  const small = pool.take(512);
  pool.give(small);
  assert.equal(pool.take(512), small);
  assert.notEqual(pool.take(1024), large);
  // An array larger than any lent before raises the peak, and is kept.
  const huge = pool.take(4096);
  pool.give(huge);
  assert.equal(pool.take(4096), huge);
});

test('a process that trains another model recycles the new arrays, not those of the last model', () => {
  const pool = new OutputPool(0);
  const stepOf = (length: number) => () => Array.from({ length: 10 }, () => pool.take(length));
  const bigModel = stepOf(1024);
  for (const values of bigModel()) pool.give(values);
  // The next model's arrays are smaller, and all of the last model's are still free: its second
  // step must get its first step's arrays back, not allocate anew.
  const smallModel = stepOf(512);
  const first = smallModel();
  for (const values of first) pool.give(values);
  const second = smallModel();
  assert.ok(second.every((values) => first.includes(values)));
});
