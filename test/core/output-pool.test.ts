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
  assert.deepEqual(new Set(again), new Set(arrays));
});

test('keeps no more free bytes than were ever lent at once (nor than its minimum)', () => {
  const pool = new OutputPool(0);
  const large = pool.take(1024);
  pool.give(large);
  // 4 KiB were lent at most, and 4 KiB are free: a 2 KiB array given back now is dropped.
  const small = pool.take(512);
  pool.give(small);
  assert.notEqual(pool.take(512), small);
  assert.equal(pool.take(1024), large);
});
