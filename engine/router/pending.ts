/**
 * The router's commands in flight, by request id: what to call with each reply. Request ids are
 * handed out in sequence and answered roughly in that order, so the table is an array indexed by
 * the id's low bits (a power-of-two window over the ids in flight), grown when a new id lands on
 * a slot still taken by an older one; ids beyond the largest window go to a Map (only when one
 * command stays unanswered while millions of later ones pass).
 *
 * Why not a Map for everything: a Map that gets one set and one delete per command rehashes into a
 * new backing table every few hundred commands, and an obsolete table keeps a pointer to its
 * successor and to every callback it held (for live iterators). Once one of those tables is
 * promoted to the old generation, the scavenger treats it as a root and keeps the whole chain of
 * later tables, and every callback (with its request's objects) they reference, alive until the
 * next full GC: measured on the gateway's main thread, 6–40 % of all it allocated survived each
 * scavenge, and scavenges paused it 3–8 ms every 200–300 ms under HTTP order load (0.3 % and
 * ~0.3 ms with this table).
 */

/** Initial window (slots); a power of two. */
const INITIAL_SLOTS = 1024;
/** Largest window before collisions go to the overflow Map. */
const MAX_SLOTS = 1 << 20;

export class PendingTable<T> {
  /** Request id held by each slot; -1 when free. */
  private ids: Float64Array;
  private values: (T | undefined)[];
  private mask: number;
  /** Entries whose slot was taken and the window could not grow further. */
  private readonly overflow = new Map<number, T>();
  private count = 0;

  constructor(slots: number = INITIAL_SLOTS) {
    if (!Number.isInteger(Math.log2(slots))) throw new Error('PendingTable: slots must be a power of two');
    this.ids = new Float64Array(slots).fill(-1);
    this.values = new Array<T | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
  }

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** Adds `value` under `id` (a non-negative integer below 2^53, not already held). */
  set(id: number, value: T): void {
    let slot = id & this.mask;
    while (this.ids[slot] !== -1) {
      if (this.ids.length >= MAX_SLOTS) {
        this.overflow.set(id, value);
        this.count++;
        return;
      }
      this.grow();
      slot = id & this.mask;
    }
    this.ids[slot] = id;
    this.values[slot] = value;
    this.count++;
  }

  /** Removes and returns the value held under `id`, or undefined. */
  take(id: number): T | undefined {
    const slot = id & this.mask;
    if (this.ids[slot] === id) {
      const value = this.values[slot];
      this.ids[slot] = -1;
      this.values[slot] = undefined;
      this.count--;
      return value;
    }
    if (this.overflow.size === 0) return undefined;
    const value = this.overflow.get(id);
    if (value !== undefined) {
      this.overflow.delete(id);
      this.count--;
    }
    return value;
  }

  /** Removes and returns every value (in no particular order). */
  takeAll(): T[] {
    const all: T[] = [];
    for (let slot = 0; slot < this.ids.length; slot++) {
      if (this.ids[slot] === -1) continue;
      all.push(this.values[slot]!);
      this.ids[slot] = -1;
      this.values[slot] = undefined;
    }
    all.push(...this.overflow.values());
    this.overflow.clear();
    this.count = 0;
    return all;
  }

  /** Doubles the window, re-placing every entry (ids in flight span less than the new window, or it doubles again). */
  private grow(): void {
    const oldIds = this.ids;
    const oldValues = this.values;
    let slots = oldIds.length * 2;
    for (;;) {
      const ids = new Float64Array(slots).fill(-1);
      const mask = slots - 1;
      let fits = true;
      for (let i = 0; i < oldIds.length && fits; i++) {
        const id = oldIds[i]!;
        if (id === -1) continue;
        if (ids[id & mask] !== -1) fits = false;
        else ids[id & mask] = id;
      }
      if (fits || slots >= MAX_SLOTS) break;
      slots *= 2;
    }
    this.ids = new Float64Array(slots).fill(-1);
    this.values = new Array<T | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
    for (let i = 0; i < oldIds.length; i++) {
      const id = oldIds[i]!;
      if (id === -1) continue;
      const slot = id & this.mask;
      if (this.ids[slot] === -1) {
        this.ids[slot] = id;
        this.values[slot] = oldValues[i];
      } else {
        this.overflow.set(id, oldValues[i]!);
      }
    }
  }
}
