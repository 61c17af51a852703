/**
 * A snapshot copy taken lazily, chunk by chunk, while matching goes on (copy-on-write at chunk
 * granularity): at the epoch boundary the owner only arms it (O(chunks)); afterwards any thread
 * may copy a chunk, and a writer must call `ensure(unit)` before it changes a unit below
 * `guardBelow`, which copies that unit's chunk first unless it was copied already. The snapshot
 * writer's thread copies every chunk left (`finish`), so the writers rarely copy at all, and the
 * copy holds each unit exactly as it was when armed.
 *
 * A unit is a row of every column (a book's order slot, a balance-table row): `per` elements of
 * each column. Columns and the state live in SharedArrayBuffers, so a spec posted to another
 * thread shares them. Chunk states: PENDING → COPYING (claimed with compareExchange by the one
 * thread that copies it) → DONE; a writer that finds a chunk COPYING spins until it is DONE (a
 * chunk is tens of KiB: microseconds).
 *
 * State layout (Int32): [0] units armed (0: no copy under way: guards off), [1] chunks copied,
 * then from HEADER one cell per chunk.
 */

export type LazyColumnArray = Float64Array | Uint32Array | Uint8Array | Int32Array | BigInt64Array;

export interface LazyColumn {
  /** The whole source column and the whole destination (same type and length), both on shared memory. */
  readonly from: LazyColumnArray;
  readonly to: LazyColumnArray;
  /** Elements per unit. */
  readonly per: number;
}

/** What a lazy copy is made of; structured-cloneable (the arrays are shared, not copied). */
export interface LazyCopySpec {
  readonly columns: readonly LazyColumn[];
  readonly state: Int32Array;
  /** log2 of the units per chunk (CHUNK_SHIFT but in tests). */
  readonly shift: number;
}

/** Units per chunk: 1,024 order slots are ~110 KiB over all book columns; 1,024 balance rows 16 B per asset each. */
export const CHUNK_SHIFT = 10;
const HEADER = 16; // a cache line of its own
const UNITS = 0;
const COPIED = 1;
const PENDING = 0;
const COPYING = 1;
const DONE = 2;

/** The shared state of a lazy copy over at most `maxUnits` units in chunks of 2^shift. */
export function lazyCopyState(maxUnits: number, shift: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer((HEADER + chunksOf(maxUnits, shift)) * 4));
}

function chunksOf(units: number, shift: number): number {
  return Math.ceil(units / (1 << shift));
}

export class LazyCopy {
  private readonly columns: readonly LazyColumn[];
  private readonly state: Int32Array;
  private readonly shift: number;

  constructor(readonly spec: LazyCopySpec) {
    this.columns = spec.columns;
    this.state = spec.state;
    this.shift = spec.shift;
  }

  /** Units a writer must ensure() before changing them; 0 when no copy is under way. */
  get guardBelow(): number {
    return this.state[UNITS]!;
  }

  /**
   * Starts a copy of units [0, units) as they are now. Only while no thread changes the columns
   * and no earlier copy of this state is unfinished (a snapshot pause, one snapshot at a time).
   */
  arm(units: number): void {
    const chunks = chunksOf(units, this.shift);
    if (HEADER + chunks > this.state.length) throw new RangeError(`lazy copy: ${units} units exceed the state's capacity`);
    this.state.fill(PENDING, HEADER, HEADER + chunks);
    Atomics.store(this.state, COPIED, 0);
    Atomics.store(this.state, UNITS, units);
  }

  /** Before changing unit `unit` (below guardBelow): copies its chunk unless that was done. */
  ensure(unit: number): void {
    const at = HEADER + (unit >>> this.shift);
    if (Atomics.load(this.state, at) !== DONE) this.claim(at);
  }

  /** Copies every chunk not copied yet, then turns the guards off. Returns the chunks this call copied. */
  finish(): number {
    const chunks = chunksOf(Atomics.load(this.state, UNITS), this.shift);
    let copied = 0;
    for (let at = HEADER; at < HEADER + chunks; at++) {
      if (Atomics.load(this.state, at) !== DONE && this.claim(at)) copied++;
    }
    Atomics.store(this.state, UNITS, 0);
    return copied;
  }

  /** Chunks copied of the copy under way (by any thread). */
  get chunksCopied(): number {
    return Atomics.load(this.state, COPIED);
  }

  /** Copies the chunk whose state is at `at`, or waits while another thread does; true if this call copied it. */
  private claim(at: number): boolean {
    const state = this.state;
    if (Atomics.compareExchange(state, at, PENDING, COPYING) !== PENDING) {
      while (Atomics.load(state, at) !== DONE) { /* another thread is copying it: microseconds */ }
      return false;
    }
    const first = (at - HEADER) << this.shift;
    const end = Math.min(first + (1 << this.shift), state[UNITS]!);
    try {
      for (const column of this.columns) {
        const from = first * column.per;
        column.to.set(column.from.subarray(from, end * column.per) as never, from);
      }
    } finally {
      // Even if the copy threw (the snapshot then fails): a writer spinning on this chunk must go on.
      Atomics.store(state, at, DONE);
      Atomics.add(state, COPIED, 1);
    }
    return true;
  }
}
