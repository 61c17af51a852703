/**
 * Order id → slot, for cancels and order lookups: open addressing with linear probing in typed
 * arrays, Robin Hood ordering, deletions by backward shift (no tombstones).
 *
 * The table in use is only as large as the book needs: it starts at INITIAL_ENTRIES and doubles
 * before it would pass a quarter full, up to twice the book's capacity (the size it used to have
 * from the start; there it may become half full). A book of 4,000 orders thus keeps its ids in
 * 16,384 entries (192 KiB) that stay in the core's caches, where a table sized for the capacity
 * from the start (2 M entries for 1 M orders) spread them over tens of megabytes: cancels and
 * fills missed the caches and the TLB, and the first write to each page of it came during the
 * run. Growing allocates nothing: the arrays allocated at construction have a region for every
 * size the table can take (the table of n entries is entries [n, 2n)); the next region has never
 * been written, so it is all free (slot + 1 = 0), and growing re-inserts every entry there, O(n)
 * once per doubling.
 *
 * The home slot is `id mod size`: ids are handed out in increasing order, so live orders spread
 * evenly and recent ones sit next to each other in memory (a scrambling hash measured 17–28%
 * slower on the standard workload, from cache misses). Increasing ids also make the entries of
 * one lap around the table land among the survivors of the previous lap, so a half-full table
 * probes much longer than a quarter-full one (on a model of the standard workload, ~1.5× the
 * time per insert, lookup and delete): hence the quarter.
 *
 * Robin Hood ordering (an entry never sits further from its home than the one it would displace)
 * is what keeps every operation O(1) here: consecutive ids fill consecutive slots, so a book of
 * many resting orders forms long occupied runs. A plain backward-shift delete has to scan to
 * the end of such a run; with Robin Hood it stops at the first entry already at its home, and a
 * lookup of an absent id stops as soon as it is further from home than the entry it meets.
 */
import { NIL } from './order-columns.js';

/** Entries of a new index's table (or twice its capacity, when that is smaller). */
export const INITIAL_ENTRIES = 4096;

export class OrderIdIndex {
  /** Per entry: the order id, and its slot + 1 (0 = a free entry). The table is entries [origin, 2 × origin). */
  private readonly keys: Float64Array;
  private readonly slots: Int32Array;
  /** Largest table: twice the capacity (rounded up to a power of two), so it is at most half full. */
  private readonly maxEntries: number;
  private mask: number;
  /** The table's first entry, which is also its size. */
  private origin: number;
  /** Entries in use. */
  private count = 0;

  constructor(capacity: number, initialEntries = INITIAL_ENTRIES) {
    let max = 16;
    while (max < capacity * 2) max *= 2;
    let size = 16;
    while (size < initialEntries && size < max) size *= 2;
    this.maxEntries = max;
    this.keys = new Float64Array(max * 2); // entries [0, 2 × max): every region up to the largest
    this.slots = new Int32Array(max * 2);
    this.mask = size - 1;
    this.origin = size;
  }

  private home(id: number): number {
    return (id >>> 0) & this.mask; // ids are below 2^53; the low bits are the sequence
  }

  get(id: number): number {
    const at = this.entryOf(id);
    return at < 0 ? NIL : this.slots[this.origin + at]! - 1;
  }

  /** Where `id` sits in the table in use (an offset from its origin), or -1. */
  private entryOf(id: number): number {
    const keys = this.keys;
    const slots = this.slots;
    const mask = this.mask;
    const origin = this.origin;
    let at = this.home(id);
    for (let dist = 0; ; dist++) {
      if (slots[origin + at] === 0) return -1;
      const key = keys[origin + at]!;
      if (key === id) return at;
      if (((at - this.home(key)) & mask) < dist) return -1; // id would have displaced this entry
      at = (at + 1) & mask;
    }
  }

  /** Maps `id` to `slot` (replacing an existing mapping). At most `capacity` ids may be mapped at a time. */
  set(id: number, slot: number): void {
    if (this.count >= (this.mask + 1) >> 2 && this.mask + 1 < this.maxEntries) this.grow();
    if (this.place(id, slot + 1)) this.count++;
  }

  delete(id: number): void {
    const at = this.entryOf(id);
    if (at < 0) return;
    const keys = this.keys;
    const slots = this.slots;
    const mask = this.mask;
    const origin = this.origin;
    // Backward shift: move the rest of the run one place towards home, up to an entry at home.
    let hole = at;
    let next = (at + 1) & mask;
    for (;;) {
      const value = slots[origin + next]!;
      if (value === 0) break;
      const key = keys[origin + next]!;
      if (this.home(key) === next) break;
      keys[origin + hole] = key;
      slots[origin + hole] = value;
      hole = next;
      next = (next + 1) & mask;
    }
    slots[origin + hole] = 0;
    this.count--;
  }

  /**
   * Robin Hood insert of `value` (slot + 1) under `id` into the table in use, which must have a
   * free entry. True when `id` was not there (else its value is replaced).
   */
  private place(id: number, value: number): boolean {
    const keys = this.keys;
    const slots = this.slots;
    const mask = this.mask;
    const origin = this.origin;
    let at = this.home(id);
    let key = id;
    let carried = value;
    for (let dist = 0; ; dist++) {
      const here = slots[origin + at]!;
      if (here === 0) {
        keys[origin + at] = key;
        slots[origin + at] = carried;
        return true;
      }
      const hereKey = keys[origin + at]!;
      if (hereKey === key) { // only `id` itself can match: a displaced entry's id is in the table once
        slots[origin + at] = carried;
        return false;
      }
      const hereDist = (at - this.home(hereKey)) & mask;
      if (hereDist < dist) {
        // Take this place; carry the entry we displaced on to its own new place.
        keys[origin + at] = key;
        slots[origin + at] = carried;
        key = hereKey;
        carried = here;
        dist = hereDist;
      }
      at = (at + 1) & mask;
    }
  }

  /** Doubles the table: every entry re-inserted into the next region, never written before (all free). */
  private grow(): void {
    const keys = this.keys;
    const slots = this.slots;
    const from = this.origin;
    const size = this.mask + 1;
    this.mask = size * 2 - 1;
    this.origin = size * 2;
    for (let at = from; at < from + size; at++) {
      const value = slots[at]!;
      if (value !== 0) this.place(keys[at]!, value);
    }
  }
}
