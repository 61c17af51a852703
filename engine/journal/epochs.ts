/**
 * The shared state of epoch-based group commit (Silo/SiloR), one cell per 64-byte line:
 *  - EPOCH: the current epoch; shards tag what they journal with the epoch they read at batch start;
 *  - DURABLE: the last epoch whose every frame, in every shard's log, is on disk;
 *  - APPENDS: bumped by a shard each time it wrote journal frames (wakes the committer);
 *  - ACTIVE(s): the epoch shard s is journaling in right now, or 0 when it is between batches.
 * The committer advances EPOCH, waits until no shard is ACTIVE in the old epoch (each has written
 * and fdatasync'd its frames), records the old epoch in the commit log, then publishes DURABLE.
 * A shard releases the replies of a batch only once DURABLE has reached the batch's epoch.
 * Epochs start at 1 (0 means "idle") and are doubles below 2^53 in BigInt64 cells.
 */
const LINE = 8; // BigInt64 cells per 64-byte line
const EPOCH = 0;
const DURABLE = LINE;
const APPENDS = 2 * LINE;
const SNAPSHOT = 3 * LINE; // generation requested
const PAUSED = 3 * LINE + 1; // shards paused for the requested generation
const RESUME = 3 * LINE + 2; // generation released
const FIRST_ACTIVE = 4 * LINE;

export class EpochControl {
  readonly cells: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.cells = new BigInt64Array(buffer);
  }

  static allocate(shards: number, firstEpoch: number): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer((4 + shards) * LINE * 8);
    const cells = new BigInt64Array(buffer);
    cells[EPOCH] = BigInt(Math.max(1, firstEpoch));
    cells[DURABLE] = BigInt(Math.max(1, firstEpoch) - 1);
    return buffer;
  }

  get epoch(): number {
    return Number(Atomics.load(this.cells, EPOCH));
  }

  get durable(): number {
    return Number(Atomics.load(this.cells, DURABLE));
  }

  /** Shard side: marks the start of journaling in the current epoch and returns it. */
  enter(shard: number): number {
    for (;;) {
      const epoch = Atomics.load(this.cells, EPOCH);
      Atomics.store(this.cells, FIRST_ACTIVE + shard * LINE, epoch);
      // Re-check: if the committer advanced meanwhile, it may not have seen us; take the new epoch.
      if (Atomics.load(this.cells, EPOCH) === epoch) return Number(epoch);
    }
  }

  /**
   * Shard side: it is done with the epoch it entered; when it `wrote` frames (written, and synced
   * when durable), the committer is woken to close that epoch.
   */
  leave(shard: number, wrote: boolean): void {
    Atomics.store(this.cells, FIRST_ACTIVE + shard * LINE, 0n);
    if (!wrote) return;
    Atomics.add(this.cells, APPENDS, 1n);
    Atomics.notify(this.cells, APPENDS);
  }

  /** Shard side: blocks until `epoch` is durable, in slices of `sliceMs` so `stop()` can interrupt. */
  waitDurable(epoch: number, sliceMs: number, stop: () => boolean): boolean {
    const target = BigInt(epoch);
    for (;;) {
      const durable = Atomics.load(this.cells, DURABLE);
      if (durable >= target) return true;
      if (stop()) return false;
      Atomics.wait(this.cells, DURABLE, durable, sliceMs);
    }
  }

  /** Committer side: the APPENDS counter (changes when shards wrote). */
  get appends(): bigint {
    return Atomics.load(this.cells, APPENDS);
  }

  /** Committer side: starts the next epoch; returns the one that is closing. */
  advance(): number {
    return Number(Atomics.add(this.cells, EPOCH, 1n));
  }

  /** Committer side: true while some shard still journals in `epoch`. */
  anyActiveIn(epoch: number, shards: number): boolean {
    const e = BigInt(epoch);
    for (let s = 0; s < shards; s++) if (Atomics.load(this.cells, FIRST_ACTIVE + s * LINE) === e) return true;
    return false;
  }

  /** Committer side: publishes `epoch` as durable and wakes waiting shards. */
  publishDurable(epoch: number): void {
    Atomics.store(this.cells, DURABLE, BigInt(epoch));
    Atomics.notify(this.cells, DURABLE);
  }

  /**
   * Snapshots: the router requests generation g; each shard, between batches (outside any epoch),
   * captures its part, counts itself paused and waits for RESUME ≥ g; the router copies the
   * balance table while all shards are paused, then resumes them.
   */
  requestSnapshot(): number {
    Atomics.store(this.cells, PAUSED, 0n);
    return Number(Atomics.add(this.cells, SNAPSHOT, 1n)) + 1;
  }

  /** Shard side: the generation requested (compare with the last one it served). */
  get snapshotRequested(): number {
    return Number(Atomics.load(this.cells, SNAPSHOT));
  }

  get paused(): number {
    return Number(Atomics.load(this.cells, PAUSED));
  }

  /** Shard side: counts itself paused for `generation`, then blocks until the router resumes it. */
  pauseForSnapshot(generation: number, stop: () => boolean): void {
    Atomics.add(this.cells, PAUSED, 1n);
    const g = BigInt(generation);
    for (;;) {
      const resumed = Atomics.load(this.cells, RESUME);
      if (resumed >= g || stop()) return;
      Atomics.wait(this.cells, RESUME, resumed, 50);
    }
  }

  resume(generation: number): void {
    Atomics.store(this.cells, RESUME, BigInt(generation));
    Atomics.notify(this.cells, RESUME);
  }

  static readonly APPENDS_INDEX = APPENDS;
}
