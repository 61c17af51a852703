/**
 * The shared state of epoch-based group commit (Silo/SiloR) with shard-closed epochs, one cell
 * per 64-byte line (a shard's two cells share its line):
 *  - EPOCH: the current epoch;
 *  - DURABLE: the last epoch whose every frame, in every shard's log, is on disk (and provably so
 *    to recovery: see engine/journal/README.md, "Durable epochs without a commit record");
 *  - ACTIVE(s): nonzero while shard s has journal work not yet on disk: set when its batch starts
 *    changing state (to an epoch ≤ the one the batch is tagged with), cleared once the batch's
 *    frames are written and fdatasync'd;
 *  - EXEC(s): the epoch shard s's batch is tagged with while it executes (changes shared state),
 *    0 otherwise.
 *
 * A batch (ShardJournal): `enter` before its first state-changing command — sets ACTIVE, reads
 * the tag epoch t, sets EXEC = t, then waits until no shard executes a batch of an older epoch
 * (so an epoch-t batch never reads the effects of a newer epoch's batch: causes are never in a
 * later epoch than their effects); `endExecution` once its commands ran — clears EXEC and closes t
 * (EPOCH t → t+1) if no one did yet; the closer lists the shards ACTIVE in epochs ≤ t, which it
 * journals in its CLOSE frame (recovery needs their frames before it may replay t); the shard
 * then writes and fdatasyncs its frames and `leave`s — clears ACTIVE and publishes DURABLE as
 * far as no ACTIVE shard holds it back. A shard releases the replies of a batch once DURABLE has
 * reached the batch's epoch. There is no committer thread and no commit record in series: one
 * fdatasync per batch, in the shard that ran it.
 * Epochs start at 1 (0 means "none") and are doubles below 2^53 in BigInt64 cells.
 */
const LINE = 8; // BigInt64 cells per 64-byte line
const EPOCH = 0;
const DURABLE = LINE;
const SNAPSHOT = 3 * LINE; // generation requested
const PAUSED = 3 * LINE + 1; // shards paused for the requested generation
const RESUME = 3 * LINE + 2; // generation released
const FIRST_SHARD = 4 * LINE;
/** Offsets inside a shard's line. */
const ACTIVE = 0;
const EXEC = 1;
/** Spins on another shard's EXEC before sleeping on it. */
const EXEC_SPINS = 200;

export class EpochControl {
  readonly cells: BigInt64Array;
  /** Shards sharing these cells. */
  readonly shards: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.cells = new BigInt64Array(buffer);
    this.shards = this.cells.length / LINE - 4;
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

  /**
   * Shard side, before the first command of a batch that may change state: marks the shard
   * ACTIVE, takes the epoch to tag the batch with, and returns it once no shard executes a batch
   * of an older epoch (blocks meanwhile: at most the rest of that batch's execution).
   *
   * ACTIVE is stored once, before the tag is read, and never raised: a closer that saw it lists
   * this shard with that value, and DURABLE must keep waiting for this shard until it leaves.
   * EXEC is stored and the epoch re-read until both agree (Dekker-style with the waiting side):
   * either a newer batch's scan sees this EXEC, or this re-read sees the newer epoch and takes it.
   */
  enter(shard: number): number {
    const line = FIRST_SHARD + shard * LINE;
    Atomics.store(this.cells, line + ACTIVE, Atomics.load(this.cells, EPOCH));
    let tag: bigint;
    for (let retried = false; ; retried = true) {
      tag = Atomics.load(this.cells, EPOCH);
      Atomics.store(this.cells, line + EXEC, tag);
      if (Atomics.load(this.cells, EPOCH) === tag) {
        if (retried) Atomics.notify(this.cells, line + EXEC); // a newer shard may sleep on the older value we showed
        break;
      }
    }
    this.waitForOlderExecutions(shard, tag);
    return Number(tag);
  }

  /**
   * Shard side, when the batch's commands have run (before writing its frames): clears EXEC and
   * closes `epoch` if it is still the current one. Returns true when this shard closed it; then
   * `busy` holds, as pairs (shard, epoch), every shard whose ACTIVE was set to an epoch ≤ `epoch`
   * (this one included): recovery may replay `epoch` only once each of them has sealed that
   * epoch or written a frame of a later one.
   */
  endExecution(shard: number, epoch: number, busy: number[]): boolean {
    const line = FIRST_SHARD + shard * LINE;
    Atomics.store(this.cells, line + EXEC, 0n);
    Atomics.notify(this.cells, line + EXEC);
    const e = BigInt(epoch);
    if (Atomics.compareExchange(this.cells, EPOCH, e, e + 1n) !== e) return false;
    busy.length = 0;
    for (let s = 0; s < this.shards; s++) {
      const active = Atomics.load(this.cells, FIRST_SHARD + s * LINE + ACTIVE);
      if (active !== 0n && active <= e) busy.push(s, Number(active));
    }
    return true;
  }

  /** Shard side: its frames are written (and fdatasync'd when durable); publishes what is now durable. */
  leave(shard: number): void {
    Atomics.store(this.cells, FIRST_SHARD + shard * LINE + ACTIVE, 0n);
    this.publishDurable();
  }

  /**
   * Raises DURABLE to the last epoch no ACTIVE shard can still write to: EPOCH − 1, or less than
   * the lowest ACTIVE. EPOCH is read first, so a shard that tags an epoch below it has set ACTIVE
   * before this scan (or has left). Never lowers DURABLE; wakes shards waiting on it.
   */
  publishDurable(): void {
    let durable = Atomics.load(this.cells, EPOCH) - 1n;
    for (let s = 0; s < this.shards; s++) {
      const active = Atomics.load(this.cells, FIRST_SHARD + s * LINE + ACTIVE);
      if (active !== 0n && active - 1n < durable) durable = active - 1n;
    }
    for (;;) {
      const current = Atomics.load(this.cells, DURABLE);
      if (current >= durable) return;
      if (Atomics.compareExchange(this.cells, DURABLE, current, durable) === current) {
        Atomics.notify(this.cells, DURABLE);
        return;
      }
    }
  }

  /**
   * Shard side: waits until DURABLE differs from `seen` (returned by a previous `durable` read) or
   * `timeoutMs` passed; returns the current DURABLE.
   */
  waitDurableChange(seen: number, timeoutMs: number): number {
    Atomics.wait(this.cells, DURABLE, BigInt(seen), timeoutMs);
    return this.durable;
  }

  /** Blocks until no shard but `shard` executes a batch tagged with an epoch below `tag`. */
  private waitForOlderExecutions(shard: number, tag: bigint): void {
    for (let s = 0; s < this.shards; s++) {
      if (s === shard) continue;
      const cell = FIRST_SHARD + s * LINE + EXEC;
      for (let spins = 0; ; spins++) {
        const exec = Atomics.load(this.cells, cell);
        if (exec === 0n || exec >= tag) break;
        // An older batch executes; it ends within its own commands (it never waits while executing).
        if (spins >= EXEC_SPINS) Atomics.wait(this.cells, cell, exec, 50);
      }
    }
  }

  /**
   * Snapshots: the router requests generation g; each shard, between batches (outside any epoch),
   * counts itself paused, copies its part and waits for RESUME ≥ g; once all are paused the router
   * copies the balance table (while the shards still copy their books), then resumes them.
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

  /**
   * Shard side, between batches: counts itself paused for the requested snapshot — it changes
   * nothing from now until it is resumed, so the router may copy the balance table while the shard
   * still copies its books — and wakes a router waiting on PAUSED_INDEX.
   */
  enterSnapshotPause(): void {
    Atomics.add(this.cells, PAUSED, 1n);
    Atomics.notify(this.cells, PAUSED);
  }

  /** Shard side: blocks until the router resumes `generation` (at once if it already has), or `stop()`. */
  waitResumed(generation: number, stop: () => boolean): void {
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

  /** The cell counting paused shards (Atomics.waitAsync on it: the router waiting for a snapshot's pause). */
  static readonly PAUSED_INDEX = PAUSED;
}
