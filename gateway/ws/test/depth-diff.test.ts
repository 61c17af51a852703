/**
 * The depth diff of the original accessws (aw_depth.c get_list_diff), case by case and as a
 * property: a client that applies each diff to its snapshot and truncates to the limit always
 * holds the book the server read. Plus the choice between a diff and a full snapshot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Depth, DepthLevel } from '../../../engine/queries.js';
import { ASKS, BIDS, diffDepth, diffSide, FULL_SNAPSHOT_MS, nextPush } from '../depth-diff.js';

/** Levels from [price, amount] pairs. */
const L = (...pairs: [number, number][]): DepthLevel[] => pairs.map(([price, amount]) => ({ price, amount: BigInt(amount) }));

describe('diffSide (asks, best = lowest first)', () => {
  it('no change → nothing', () => {
    assert.deepEqual(diffSide(L([5000, 1], [5001, 2]), L([5000, 1], [5001, 2]), 10, ASKS), []);
    assert.deepEqual(diffSide([], [], 10, ASKS), []);
  });

  it('a changed amount → the new level', () => {
    assert.deepEqual(diffSide(L([5000, 2]), L([5000, 1]), 10, ASKS), L([5000, 1]));
  });

  it('a new level (better, between, worse) → the level', () => {
    assert.deepEqual(diffSide(L([5001, 1], [5003, 1]), L([5000, 4], [5001, 1], [5002, 5], [5003, 1], [5004, 6]), 10, ASKS),
      L([5000, 4], [5002, 5], [5004, 6]));
  });

  it('a removed level → [price, 0]', () => {
    assert.deepEqual(diffSide(L([5000, 1], [5001, 1], [5002, 1]), L([5000, 1], [5002, 1]), 10, ASKS), L([5001, 0]));
    assert.deepEqual(diffSide(L([5000, 1]), [], 10, ASKS), L([5000, 0]));
  });

  it('levels beyond the limit: pushed out by a better one → not reported', () => {
    // limit 3: 4999 arrives, 5002 falls out of the window; clients truncate to 3 levels
    assert.deepEqual(diffSide(L([5000, 1], [5001, 1], [5002, 1]), L([4999, 7], [5000, 1], [5001, 1]), 3, ASKS), L([4999, 7]));
  });

  it('levels beyond the limit: the new list is shorter than the limit → old levels past its end are removed', () => {
    assert.deepEqual(diffSide(L([5000, 1], [5001, 1], [5002, 1]), L([5000, 1]), 3, ASKS), L([5001, 0], [5002, 0]));
    // full new list (= limit): old levels past its end stay unreported even when they are gone
    assert.deepEqual(diffSide(L([5000, 1], [5001, 1], [5002, 1], [5003, 1]), L([4998, 1], [4999, 1], [5000, 1]), 3, ASKS), L([4998, 1], [4999, 1]));
  });
});

describe('diffSide (bids, best = highest first)', () => {
  it('new better bid, removed worse bid, changed amount', () => {
    assert.deepEqual(diffSide(L([4999, 1], [4991, 1], [4980, 1]), L([5000, 3], [4999, 2], [4980, 1]), 10, BIDS),
      L([5000, 3], [4999, 2], [4991, 0]));
  });

  it('pushed out of the window by a better bid → not reported', () => {
    assert.deepEqual(diffSide(L([4999, 1], [4991, 1]), L([5000, 1], [4999, 1]), 2, BIDS), L([5000, 1]));
  });
});

describe('diffDepth', () => {
  it('omits a side without changes; null when nothing changed', () => {
    const old: Depth = { asks: L([5000, 2]), bids: L([4999, 1]) };
    assert.equal(diffDepth(old, { asks: L([5000, 2]), bids: L([4999, 1]) }, 10), null);
    assert.deepEqual(diffDepth(old, { asks: L([5000, 1]), bids: L([4999, 1]) }, 10), { asks: L([5000, 1]) });
    assert.deepEqual(diffDepth(old, { asks: L([5000, 2]), bids: [] }, 10), { bids: L([4999, 0]) });
    assert.deepEqual(diffDepth(old, { asks: [], bids: L([4998, 1]) }, 10), { asks: L([5000, 0]), bids: L([4999, 0], [4998, 1]) });
  });
});

describe('nextPush', () => {
  const a: Depth = { asks: L([5000, 2]), bids: [] };
  const b: Depth = { asks: L([5000, 1]), bids: [] };
  it('a diff before 60 s, a full snapshot from 60 s on, nothing when unchanged', () => {
    assert.deepEqual(nextPush(a, b, 10, 1000, 1000 + FULL_SNAPSHOT_MS - 1), { clean: false, diff: { asks: L([5000, 1]) } });
    assert.deepEqual(nextPush(a, b, 10, 1000, 1000 + FULL_SNAPSHOT_MS), { clean: true, depth: b });
    assert.equal(nextPush(a, a, 10, 1000, 1000 + 10 * FULL_SNAPSHOT_MS), null);
    assert.equal(FULL_SNAPSHOT_MS, 60_000);
  });
});

/** A client's copy of one side: apply the diff, drop zeros, sort best first, keep `limit` levels. */
function apply(side: readonly DepthLevel[], diff: readonly DepthLevel[], limit: number, direction: number): DepthLevel[] {
  const book = new Map(side.map((l) => [l.price, l.amount]));
  for (const l of diff) {
    if (l.amount === 0n) book.delete(l.price);
    else book.set(l.price, l.amount);
  }
  return [...book].map(([price, amount]) => ({ price, amount })).sort((x, y) => (x.price - y.price) * direction).slice(0, limit);
}

/** A whole book side: distinct prices with positive amounts. */
const bookSide = fc.uniqueArray(fc.record({ price: fc.integer({ min: 1, max: 40 }), amount: fc.bigInt({ min: 1n, max: 5n }) }), {
  selector: (l) => l.price, maxLength: 25,
});

describe('diff property', () => {
  it('snapshot + every diff, truncated to the limit = the book read, for any sequence of books', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.constantFrom(ASKS, BIDS), fc.array(bookSide, { minLength: 1, maxLength: 8 }), (limit, direction, books) => {
      const window = (levels: DepthLevel[]): DepthLevel[] => levels.map((l) => ({ price: l.price, amount: l.amount })).sort((x, y) => (x.price - y.price) * direction).slice(0, limit);
      let server = window(books[0]!);
      let client = server;
      for (const book of books.slice(1)) {
        const next = window(book);
        client = apply(client, diffSide(server, next, limit, direction), limit, direction);
        server = next;
        assert.deepEqual(client, server);
      }
    }), { numRuns: 500 });
  });
});
