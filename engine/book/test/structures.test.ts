/**
 * The book's typed-array structures on their own: price levels (both orderings, insert and
 * remove anywhere, pool exhaustion), the order-id hash index (collisions, wrap-around,
 * backward-shift deletes) and the order columns' free list; each also against a plain model.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NIL, OrderColumns } from '../order-columns.js';
import { OrderIdIndex } from '../order-id-index.js';
import { PriceLevels } from '../price-levels.js';

/** Prices of the live levels, best first. */
function pricesOf(levels: PriceLevels): number[] {
  const out: number[] = [];
  for (let i = 0; i < levels.size; i++) out.push(levels.price[levels.nth(i)]!);
  return out;
}

test('bid levels are ordered highest first, ask levels lowest first', () => {
  const bids = new PriceLevels(1, 16);
  const asks = new PriceLevels(-1, 16);
  for (const p of [500, 100, 300, 900, 700]) {
    assert.notEqual(bids.findOrCreate(p), NIL);
    assert.notEqual(asks.findOrCreate(p), NIL);
  }
  assert.deepEqual(pricesOf(bids), [900, 700, 500, 300, 100]);
  assert.deepEqual(pricesOf(asks), [100, 300, 500, 700, 900]);
  assert.equal(bids.price[bids.best()], 900);
  assert.equal(asks.price[asks.best()], 100);
});

test('a new level starts empty, and finding an existing price returns the same level', () => {
  const levels = new PriceLevels(1, 16);
  const level = levels.findOrCreate(42);
  assert.deepEqual([levels.head[level], levels.tail[level], levels.total[level], levels.count[level]], [NIL, NIL, 0, 0]);
  levels.total[level] = 7;
  assert.equal(levels.findOrCreate(42), level);
  assert.equal(levels.find(42), level);
  assert.equal(levels.total[level], 7, 'finding does not reset the level');
  assert.equal(levels.find(41), NIL);
  assert.equal(levels.size, 1);
});

test('levels are inserted and removed at the best end and in the middle', () => {
  for (const direction of [1, -1] as const) {
    const levels = new PriceLevels(direction, 16);
    const sorted = (ps: number[]): number[] => [...ps].sort((a, b) => (b - a) * direction);
    let model = [200, 400, 600];
    for (const p of model) levels.findOrCreate(p);
    const better = direction === 1 ? 800 : 100;
    levels.findOrCreate(better); // a new best
    model.push(better);
    assert.deepEqual(pricesOf(levels), sorted(model));
    assert.equal(levels.price[levels.best()], better);
    levels.findOrCreate(500); // the middle
    model.push(500);
    assert.deepEqual(pricesOf(levels), sorted(model));
    levels.remove(levels.best()); // the best
    model = model.filter((p) => p !== better);
    assert.deepEqual(pricesOf(levels), sorted(model));
    levels.remove(levels.find(400)); // the middle
    model = model.filter((p) => p !== 400);
    assert.deepEqual(pricesOf(levels), sorted(model));
    levels.remove(levels.nth(levels.size - 1)); // the worst
    model = sorted(model).slice(0, -1);
    assert.deepEqual(pricesOf(levels), model);
    assert.equal(levels.find(400), NIL);
    while (levels.size > 0) levels.remove(levels.best());
    assert.equal(levels.best(), NIL);
  }
});

test('an exhausted level pool returns NIL and recovers when a level is removed', () => {
  const levels = new PriceLevels(-1, 4);
  const made = [10, 20, 30, 40].map((p) => levels.findOrCreate(p));
  assert.equal(new Set(made).size, 4);
  assert.ok(made.every((l) => l !== NIL));
  assert.equal(levels.findOrCreate(50), NIL, 'a fifth price');
  assert.equal(levels.findOrCreate(5), NIL, 'a fifth price at the best end');
  assert.deepEqual(pricesOf(levels), [10, 20, 30, 40], 'a refused insert changes nothing');
  assert.equal(levels.findOrCreate(30), made[2], 'existing prices are still found');
  levels.remove(levels.find(20));
  const reused = levels.findOrCreate(25);
  assert.equal(reused, made[1], 'the freed level is reused');
  assert.deepEqual(pricesOf(levels), [10, 25, 30, 40]);
  assert.equal(new PriceLevels(1, 0).findOrCreate(1), NIL, 'a pool of no levels');
});

test('price levels behave as a sorted set of prices under random inserts and removes', () => {
  const op = fc.record({ insert: fc.boolean(), price: fc.integer({ min: 1, max: 40 }) });
  fc.assert(fc.property(fc.constantFrom<1 | -1>(1, -1), fc.integer({ min: 1, max: 24 }), fc.array(op, { maxLength: 200 }), (direction, capacity, ops) => {
    const levels = new PriceLevels(direction, capacity);
    const model = new Map<number, number>(); // price → level
    for (const { insert, price } of ops) {
      const known = model.get(price);
      if (insert) {
        const level = levels.findOrCreate(price);
        if (known !== undefined) assert.equal(level, known);
        else if (model.size === capacity) assert.equal(level, NIL);
        else {
          assert.ok(level !== NIL && ![...model.values()].includes(level), 'a fresh level');
          model.set(price, level);
        }
      } else if (known !== undefined) {
        levels.remove(known);
        model.delete(price);
      } else {
        assert.equal(levels.find(price), NIL);
      }
      const expected = [...model.keys()].sort((a, b) => (b - a) * direction);
      assert.deepEqual(pricesOf(levels), expected);
      assert.equal(levels.best(), expected.length === 0 ? NIL : model.get(expected[0]!));
      for (const [p, level] of model) assert.equal(levels.find(p), level);
    }
  }), { numRuns: 300 });
});

/** The index's home slot of an id (private: read through a cast so that collisions can be built on purpose). */
function homeOf(index: OrderIdIndex): (id: number) => number {
  const home = (index as unknown as { home?: (id: number) => number }).home;
  assert.equal(typeof home, 'function', 'OrderIdIndex#home exists');
  return home!.bind(index);
}

/** `count` ids (small and above 2^32) whose home slot is `slot`. */
function collidingIds(index: OrderIdIndex, slot: number, count: number): number[] {
  const home = homeOf(index);
  const ids: number[] = [];
  for (let id = 1; ids.length < count; id++) {
    if (home(id) === slot) ids.push(id);
    const big = id * 4294967296 + 12345;
    if (ids.length < count && home(big) === slot) ids.push(big);
  }
  return ids;
}

test('the order-id index finds, replaces and deletes ids that share a home slot', () => {
  const index = new OrderIdIndex(16); // 32 slots
  const ids = collidingIds(index, 5, 12);
  ids.forEach((id, i) => index.set(id, i));
  ids.forEach((id, i) => assert.equal(index.get(id), i, `id ${id}`));
  index.set(ids[3]!, 99);
  assert.equal(index.get(ids[3]!), 99, 'set replaces');
  for (const at of [0, 6, 11, 1]) {
    index.delete(ids[at]!);
    assert.equal(index.get(ids[at]!), NIL);
  }
  ids.forEach((id, i) => {
    if (![0, 6, 11, 1].includes(i)) assert.equal(index.get(id), i === 3 ? 99 : i, `id ${id} after deletes`);
  });
  index.delete(123456789); // absent: nothing happens
  assert.equal(index.get(ids[2]!), 2);
});

test('the order-id index handles probe runs that wrap around the end of the table', () => {
  const index = new OrderIdIndex(16); // 32 slots: the last is 31
  const atEnd = collidingIds(index, 31, 4);
  const atStart = collidingIds(index, 0, 3);
  const ids = [...atEnd, ...atStart];
  ids.forEach((id, i) => index.set(id, i));
  ids.forEach((id, i) => assert.equal(index.get(id), i));
  const deleted = new Set<number>();
  for (const id of [atEnd[0]!, atStart[0]!, atEnd[2]!]) {
    index.delete(id);
    deleted.add(id);
    ids.forEach((other, i) => assert.equal(index.get(other), deleted.has(other) ? NIL : i, `id ${other} after deleting ${id}`));
  }
});

test('order-id index: deletes in any order keep every remaining id findable', () => {
  const ids = fc.uniqueArray(fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })), { minLength: 1, maxLength: 16 });
  fc.assert(fc.property(ids.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length }))), ([list, deleteOrder]) => {
    const index = new OrderIdIndex(16);
    const model = new Map(list.map((id, slot) => [id, slot]));
    for (const [id, slot] of model) index.set(id, slot);
    for (const id of deleteOrder) {
      index.delete(id);
      model.delete(id);
      assert.equal(index.get(id), NIL);
      for (const [other, slot] of model) assert.equal(index.get(other), slot, `id ${other} after deleting ${id}`);
    }
  }), { numRuns: 500 });
});

interface IndexOp {
  readonly kind: 'set' | 'delete' | 'get';
  readonly id: number;
  readonly slot: number;
}

/**
 * Applies `ops` to `index` and to a Map (a set past `capacity` ids is skipped: the book never holds
 * more), checking the op's id after each and calling `afterEach`; returns the Map.
 */
function runAgainstMap(index: OrderIdIndex, ops: readonly IndexOp[], capacity: number, afterEach?: (model: Map<number, number>) => void): Map<number, number> {
  const model = new Map<number, number>();
  for (const o of ops) {
    if (o.kind === 'set' && (model.has(o.id) || model.size < capacity)) {
      index.set(o.id, o.slot);
      model.set(o.id, o.slot);
    } else if (o.kind === 'delete') {
      index.delete(o.id);
      model.delete(o.id);
    }
    assert.equal(index.get(o.id), model.get(o.id) ?? NIL);
    afterEach?.(model);
  }
  return model;
}

test('order-id index agrees with a Map under random sets, gets and deletes', () => {
  const capacity = 16;
  const id = fc.oneof(fc.integer({ min: 1, max: 48 }), fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER));
  const op = fc.record({ kind: fc.constantFrom('set', 'delete', 'get'), id, slot: fc.integer({ min: 0, max: capacity - 1 }) });
  fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
    const index = new OrderIdIndex(capacity);
    runAgainstMap(index, ops, capacity, (model) => {
      for (const [known, slot] of model) assert.equal(index.get(known), slot);
      assertRobinHood(index);
    });
  }), { numRuns: 300 });
});

/**
 * The Robin Hood invariant the early exits of get/delete rely on: along a run, an entry is never
 * more than one step further from its home than the entry before it, and a run starts at home.
 * Returns the number of entries in use.
 */
function assertRobinHood(index: OrderIdIndex): number {
  const { keys, slots, origin, mask } = index as unknown as { keys: Float64Array; slots: Int32Array; origin: number; mask: number };
  const home = homeOf(index);
  const used = (at: number): boolean => slots[origin + at] !== 0;
  const keyAt = (at: number): number => keys[origin + at]!;
  let count = 0;
  for (let at = 0; at <= mask; at++) {
    if (!used(at)) continue;
    count++;
    const dist = (at - home(keyAt(at))) & mask;
    const before = (at - 1) & mask;
    const prevDist = used(before) ? (before - home(keyAt(before))) & mask : -1;
    assert.ok(dist <= prevDist + 1, `entry at ${at} is ${dist} from home after one at ${prevDist}`);
  }
  return count;
}

/** Entries of the index's table in use. */
function entriesOf(index: OrderIdIndex): number {
  return (index as unknown as { mask: number }).mask + 1;
}

test('order-id index: the table starts small, doubles before it is more than a quarter full, and stops at twice the capacity', () => {
  const index = new OrderIdIndex(1000, 64); // at most 2,048 entries
  assert.equal(entriesOf(index), 64);
  const sizes: number[] = [];
  for (let id = 1; id <= 1000; id++) {
    index.set(id * 7, id);
    if (sizes.at(-1) !== entriesOf(index)) sizes.push(entriesOf(index));
    const entries = entriesOf(index);
    assert.ok(id <= (entries === 2048 ? entries / 2 : entries / 4), `${id} ids in ${entries} entries`);
  }
  assert.deepEqual(sizes, [64, 128, 256, 512, 1024, 2048]);
  for (let id = 1; id <= 1000; id++) assert.equal(index.get(id * 7), id);
  assert.equal(assertRobinHood(index), 1000);
  for (let id = 1; id <= 1000; id += 2) index.delete(id * 7);
  for (let id = 1; id <= 1000; id += 2) index.set(id * 7 + 3, id);
  assert.equal(entriesOf(index), 2048);
  for (let id = 1; id <= 1000; id++) {
    assert.equal(index.get(id * 7), id % 2 === 0 ? id : NIL);
    assert.equal(index.get(id * 7 + 3), id % 2 === 1 ? id : NIL);
  }
  assert.equal(assertRobinHood(index), 1000);
});

test('order-id index agrees with a Map while its table grows', () => {
  const capacity = 200;
  const id = fc.oneof(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
  const op = fc.record({ kind: fc.constantFrom('set', 'set', 'delete', 'get'), id, slot: fc.integer({ min: 0, max: capacity - 1 }) });
  fc.assert(fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
    const index = new OrderIdIndex(capacity, 16);
    const model = runAgainstMap(index, ops, capacity);
    for (const [known, slot] of model) assert.equal(index.get(known), slot);
    assert.equal(assertRobinHood(index), model.size);
  }), { numRuns: 200 });
});

test('order-id index: deleting from a long run of consecutive ids keeps the rest findable', () => {
  const index = new OrderIdIndex(1024);
  for (let id = 1; id <= 1000; id++) index.set(id, id);
  for (let id = 1; id <= 1000; id += 3) index.delete(id);
  for (let id = 1; id <= 1000; id++) assert.equal(index.get(id), (id - 1) % 3 === 0 ? NIL : id);
  assertRobinHood(index);
});

test('order columns hand out every slot once, then NIL, and reuse freed slots', () => {
  const columns = new OrderColumns(8);
  const slots: number[] = [];
  for (let i = 0; i < 8; i++) {
    slots.push(columns.allocate());
    assert.equal(columns.size, i + 1);
  }
  assert.deepEqual([...slots].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(columns.allocate(), NIL, 'full');
  assert.equal(columns.size, 8, 'a failed allocation changes nothing');
  columns.free(5);
  columns.free(2);
  assert.equal(columns.size, 6);
  assert.deepEqual(new Set([columns.allocate(), columns.allocate()]), new Set([2, 5]));
  assert.equal(columns.allocate(), NIL);
  assert.equal(new OrderColumns(0).allocate(), NIL, 'a book of no slots');
});

test('order columns agree with a set of used slots under random allocates and frees', () => {
  const op = fc.record({ allocate: fc.boolean(), pick: fc.nat() });
  fc.assert(fc.property(fc.integer({ min: 1, max: 20 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
    const columns = new OrderColumns(capacity);
    const used = new Set<number>();
    for (const { allocate, pick } of ops) {
      if (allocate) {
        const slot = columns.allocate();
        if (used.size === capacity) {
          assert.equal(slot, NIL);
        } else {
          assert.ok(slot >= 0 && slot < capacity && !used.has(slot), `slot ${slot} is free and in range`);
          used.add(slot);
        }
      } else if (used.size > 0) {
        const slot = [...used][pick % used.size]!;
        columns.free(slot);
        used.delete(slot);
      }
      assert.equal(columns.size, used.size);
    }
  }), { numRuns: 300 });
});
