/**
 * Sequences of order and deal ids. Ids are positive integers below 2^53, never reused.
 *
 * One engine alone counts locally. Shards share one counter per kind in a SharedArrayBuffer and
 * take ids in blocks (one Atomics.add per block), so shards do not contend on every order; each
 * shard's ids — hence each market's — increase, and every id is unique across shards.
 */
export interface IdSequence {
  /** Takes the next id. */
  next(): number;
  /** The id `next()` would return (for status and snapshots). */
  peek(): number;
  /** Continues from `id` (after a restore); never moves backwards. */
  advanceTo(id: number): void;
}

export class LocalIds implements IdSequence {
  private nextId: number;

  constructor(first = 1) {
    this.nextId = first;
  }

  next(): number {
    return this.nextId++;
  }

  peek(): number {
    return this.nextId;
  }

  advanceTo(id: number): void {
    if (id > this.nextId) this.nextId = id;
  }
}

/** A counter shared by all shards: cell `index` of a BigInt64Array over a SharedArrayBuffer holds the next free id. */
export class SharedIds implements IdSequence {
  private readonly cells: BigInt64Array;
  private current = 0;
  private end = 0;

  constructor(buffer: SharedArrayBuffer, private readonly index: number, private readonly block = 1024) {
    this.cells = new BigInt64Array(buffer);
  }

  /** A buffer for `kinds` shared counters, each starting at 1. */
  static allocate(kinds: number): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(kinds * 64); // one cache line each
    const cells = new BigInt64Array(buffer);
    for (let i = 0; i < kinds; i++) cells[i * 8] = 1n;
    return buffer;
  }

  next(): number {
    if (this.current === this.end) {
      this.current = Number(Atomics.add(this.cells, this.index * 8, BigInt(this.block)));
      this.end = this.current + this.block;
    }
    return this.current++;
  }

  peek(): number {
    return this.current === this.end ? Number(Atomics.load(this.cells, this.index * 8)) : this.current;
  }

  advanceTo(id: number): void {
    for (;;) {
      const old = Atomics.load(this.cells, this.index * 8);
      if (BigInt(id) <= old || Atomics.compareExchange(this.cells, this.index * 8, old, BigInt(id)) === old) break;
    }
    if (this.current < id) this.current = this.end = 0;
  }
}
