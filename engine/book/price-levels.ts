/**
 * The price levels of one side of a book: a pool of levels (struct-of-arrays with a free list)
 * and a sorted array of the live ones, best price at the END so that taking or emptying the best
 * level is O(1) and inserts near the top of the book move few entries.
 *
 * Sort key = price for bids (ascending: highest last) and −price for asks (lowest price last).
 */
import { NIL } from './order-columns.js';

export class PriceLevels {
  /** Per level: price in ticks, FIFO head/tail order slots, Σ left in lots, order count. */
  readonly price: Float64Array;
  readonly head: Int32Array;
  readonly tail: Int32Array;
  readonly total: Float64Array;
  readonly count: Int32Array;
  /** Sorted live levels: keys[i] ascending, ids[i] the level at keys[i]. */
  private readonly keys: Float64Array;
  private readonly ids: Int32Array;
  private live: number;
  private readonly freeNext: Int32Array;
  private freeHead: number;

  /** +1 for bids, −1 for asks. */
  constructor(readonly direction: 1 | -1, readonly capacity: number) {
    this.price = new Float64Array(capacity);
    this.head = new Int32Array(capacity);
    this.tail = new Int32Array(capacity);
    this.total = new Float64Array(capacity);
    this.count = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
    this.freeNext = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeNext[i] = i + 1 < capacity ? i + 1 : NIL;
    this.freeHead = capacity > 0 ? 0 : NIL;
    this.live = 0;
  }

  /** Number of live levels. */
  get size(): number {
    return this.live;
  }

  /** The best level, or NIL when this side is empty. */
  best(): number {
    return this.live === 0 ? NIL : this.ids[this.live - 1]!;
  }

  /** The i-th best level (0 = best), for depth and book listings. */
  nth(i: number): number {
    return this.ids[this.live - 1 - i]!;
  }

  /** The level at `price`, or NIL. */
  find(price: number): number {
    const at = this.search(price * this.direction);
    return at >= 0 ? this.ids[at]! : NIL;
  }

  /** The level at `price`, created empty when missing; NIL when the pool is exhausted. */
  findOrCreate(price: number): number {
    const key = price * this.direction;
    const at = this.search(key);
    if (at >= 0) return this.ids[at]!;
    const level = this.freeHead;
    if (level === NIL) return NIL;
    this.freeHead = this.freeNext[level]!;
    this.price[level] = price;
    this.head[level] = NIL;
    this.tail[level] = NIL;
    this.total[level] = 0;
    this.count[level] = 0;
    const insertAt = -at - 1;
    this.keys.copyWithin(insertAt + 1, insertAt, this.live);
    this.ids.copyWithin(insertAt + 1, insertAt, this.live);
    this.keys[insertAt] = key;
    this.ids[insertAt] = level;
    this.live++;
    return level;
  }

  /** Removes an empty level. */
  remove(level: number): void {
    if (this.ids[this.live - 1] === level) {
      this.live--; // the best level: the common case, found without a search
    } else {
      const at = this.search(this.price[level]! * this.direction);
      this.keys.copyWithin(at, at + 1, this.live);
      this.ids.copyWithin(at, at + 1, this.live);
      this.live--;
    }
    this.freeNext[level] = this.freeHead;
    this.freeHead = level;
  }

  /** Index of `key` in keys, or −(insertion point) − 1. Searches from the best end first. */
  private search(key: number): number {
    let lo = 0;
    let hi = this.live - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.keys[mid]!;
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }
}
