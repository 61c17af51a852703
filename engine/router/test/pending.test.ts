/**
 * The router's table of commands in flight (pending.ts): sequential ids answered in order and out
 * of order, windows that grow past a slow command, the overflow beyond the largest window, and
 * random interleavings against a Map.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PendingTable } from '../pending.js';

test('sequential ids answered in order: each value once, then gone', () => {
  const t = new PendingTable<string>(8);
  for (let id = 1; id <= 100; id++) {
    t.set(id, `v${id}`);
    if (id > 4) assert.equal(t.take(id - 4), `v${id - 4}`);
  }
  assert.equal(t.size, 4);
  assert.equal(t.take(96), undefined, 'already taken');
  for (let id = 97; id <= 100; id++) assert.equal(t.take(id), `v${id}`);
  assert.equal(t.size, 0);
  assert.equal(t.take(100), undefined);
});

test('a command still in flight while later ones pass: the window grows, nothing is lost', () => {
  const t = new PendingTable<number>(4);
  t.set(0, -1); // slow
  for (let id = 1; id <= 5000; id++) {
    t.set(id, id);
    assert.equal(t.take(id), id);
  }
  assert.equal(t.size, 1);
  assert.equal(t.take(0), -1);
  assert.equal(t.size, 0);
});

test('ids never collide with an absent one: take of an unknown id, large ids (above 2^32)', () => {
  const t = new PendingTable<string>(16);
  const big = 2 ** 40 + 3;
  t.set(big, 'big');
  assert.equal(t.take(3), undefined);
  assert.equal(t.take(big + 16), undefined);
  assert.equal(t.take(big), 'big');
});

test('beyond the largest window, colliding ids go to the overflow and come back', () => {
  const t = new PendingTable<number>(4);
  const window = 1 << 20;
  t.set(0, 0);
  t.set(window, 1); // same slot in every window up to the largest: overflow
  t.set(2 * window, 2);
  assert.equal(t.size, 3);
  assert.equal(t.take(window), 1);
  assert.equal(t.take(0), 0);
  assert.equal(t.take(2 * window), 2);
  assert.equal(t.size, 0);
});

test('takeAll returns every value once and empties the table', () => {
  const t = new PendingTable<number>(4);
  const window = 1 << 20;
  for (const id of [1, 2, 3, 9, 17, window + 1]) t.set(id, id);
  assert.deepEqual(t.takeAll().sort((a, b) => a - b), [1, 2, 3, 9, 17, window + 1]);
  assert.equal(t.size, 0);
  assert.equal(t.take(9), undefined);
  t.set(9, 90);
  assert.equal(t.take(9), 90);
});

test('random sets and takes agree with a Map', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(300)), { maxLength: 400 }), (ops) => {
    const t = new PendingTable<number>(2);
    const m = new Map<number, number>();
    let next = 0;
    for (const [add, k] of ops) {
      if (add) {
        const id = next++;
        t.set(id, id * 10);
        m.set(id, id * 10);
      } else {
        const id = next === 0 ? 0 : k % next;
        assert.equal(t.take(id), m.get(id));
        m.delete(id);
      }
      assert.equal(t.size, m.size);
    }
    assert.deepEqual(t.takeAll().sort((a, b) => a - b), [...m.values()].sort((a, b) => a - b));
  }));
});

test('slots must be a power of two', () => {
  assert.throws(() => new PendingTable(12));
});
