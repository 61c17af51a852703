/**
 * Order id → slot, for cancels and order lookups: open addressing with linear probing in typed
 * arrays, deletions by backward shift (no tombstones). Sized for twice the book's capacity.
 *
 * The home slot is `id mod size`: ids are handed out in increasing order, so live orders spread
 * evenly and recent ones sit next to each other in memory (a scrambling hash measured 17–28%
 * slower on the standard workload, from cache misses).
 */
import { NIL } from './order-columns.js';

export class OrderIdIndex {
  private readonly keys: Float64Array;
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.keys = new Float64Array(size);
    this.slots = new Int32Array(size).fill(NIL);
    this.mask = size - 1;
  }

  private home(id: number): number {
    return (id >>> 0) & this.mask; // ids are below 2^53; the low bits are the sequence
  }

  get(id: number): number {
    let at = this.home(id);
    for (;;) {
      const slot = this.slots[at]!;
      if (slot === NIL) return NIL;
      if (this.keys[at] === id) return slot;
      at = (at + 1) & this.mask;
    }
  }

  set(id: number, slot: number): void {
    let at = this.home(id);
    while (this.slots[at] !== NIL && this.keys[at] !== id) at = (at + 1) & this.mask;
    this.keys[at] = id;
    this.slots[at] = slot;
  }

  delete(id: number): void {
    let at = this.home(id);
    for (;;) {
      if (this.slots[at] === NIL) return;
      if (this.keys[at] === id) break;
      at = (at + 1) & this.mask;
    }
    // Backward-shift: pull later entries of the probe run into the hole when that shortens their probe.
    let hole = at;
    let next = (hole + 1) & this.mask;
    while (this.slots[next] !== NIL) {
      const home = this.home(this.keys[next]!);
      const distanceNext = (next - home) & this.mask;
      const distanceHole = (hole - home) & this.mask;
      if (distanceHole < distanceNext) {
        this.keys[hole] = this.keys[next]!;
        this.slots[hole] = this.slots[next]!;
        hole = next;
      }
      next = (next + 1) & this.mask;
    }
    this.slots[hole] = NIL;
  }
}
