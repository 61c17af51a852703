/**
 * A shard's side of durability (journal/epochs.ts): before a batch's first state-changing command
 * it enters the current epoch; when the commands ran it closes that epoch (if no other shard did),
 * journals the batch's outcome records (the engine's events, with per-command balance DELTAs, and
 * the source labels it learned) tagged with that epoch, ends them with a SEAL — or a CLOSE listing
 * the shards that still write in epochs ≤ it, when this shard closed it — writes and fdatasyncs
 * them, and leaves, which publishes the epochs now durable. It never waits for another thread to
 * commit: the caller holds the batch's replies and events until DURABLE reaches its epoch.
 */
import type { EventBuffer } from '../core/events.js';
import type { Engine } from '../engine.js';
import type { SourceLabel } from '../journal/format.js';
import { armEngineCopy, CopyBuffers, warmEngineBuffers, type EngineCopy } from '../journal/snapshot-copy.js';
import type { EpochControl } from '../journal/epochs.js';
import type { SegmentWriter } from '../journal/segment-writer.js';

/** Copy-buffer bytes a shard pages in between two batches at most (64 pages: some 50–150 µs). */
const WARM_BUDGET_BYTES = 256 << 10;

export class ShardJournal {
  /** The epoch the current batch is tagged with, or 0 when it has not entered one (yet). */
  private epoch = 0;
  /** Source labels learned in the current batch, journaled before its events. */
  private readonly sources: SourceLabel[] = [];
  /** Scratch for the busy list of a CLOSE. */
  private readonly busy: number[] = [];
  /** The last snapshot generation this shard served. */
  private servedSnapshot: number;
  constructor(
    private readonly writer: SegmentWriter,
    private readonly control: EpochControl,
    private readonly shard: number,
    private readonly stopping: () => boolean,
    /** Posts this shard's snapshot part (raw copies on shared memory) to the router. */
    private readonly sendImage: (generation: number, copy: EngineCopy) => void,
    /**
     * Where this shard's snapshot copies go, reused by every snapshot (the router takes one at a
     * time); best allocated at start-up (reserveEngineBuffers).
     */
    private readonly snapshotBuffers = new CopyBuffers(),
  ) {
    this.servedSnapshot = control.snapshotRequested;
  }

  /**
   * Enters the current epoch before a command that may change state (a no-op once entered). May
   * wait, briefly, until other shards finish executing batches of older epochs.
   */
  begin(): void {
    if (this.epoch === 0) this.epoch = this.control.enter(this.shard);
  }

  /** A source label the shard just learned: journaled with the batch, before its events. */
  source(id: number, label: string): void {
    this.begin();
    this.sources.push({ id, label });
  }

  /**
   * Ends the batch (or the part of it that ran before a full reply ring): closes its epoch if
   * still current, journals its labels, events and seal, writes and fdatasyncs them (durability
   * "fsync"), and leaves the epoch. Returns the epoch whose durability the batch's replies must
   * wait for, or 0 when the batch entered none (it changed nothing).
   */
  end(events: EventBuffer): number {
    const epoch = this.epoch;
    if (epoch === 0) {
      if (events.count > 0) throw new Error('shard journal: events of a batch that entered no epoch');
      return 0;
    }
    const closed = this.control.endExecution(this.shard, epoch, this.busy);
    if (this.sources.length > 0) {
      this.writer.appendSources(epoch, this.sources);
      this.sources.length = 0;
    }
    if (events.count > 0) this.writer.appendEvents(epoch, events.data(), events.strings);
    // Every batch ends with a seal, even one that wrote nothing else: a closer may have listed this
    // shard, and recovery needs the seal to know it lost nothing of that epoch.
    if (closed) this.writer.appendClose(epoch, this.busy);
    else this.writer.seal(epoch);
    this.writer.flush();
    this.writer.sync(); // fdatasync with durability "fsync", nothing with "none"
    this.control.leave(this.shard);
    this.epoch = 0;
    return epoch;
  }

  /**
   * Between batches: when the router asked for a snapshot this shard has not served yet, counts
   * itself paused (the router may now arm the balance table's copy), hands the router this
   * shard's part — its books' lazy copies, armed (journal/snapshot-copy.ts armEngineCopy: level
   * heads, labels, a mark of its key log, ids; the columns are copied later, chunk by chunk, by
   * the snapshot writer's thread, or by this shard's guards before it changes a slot) — and waits
   * until the router has armed the balances' copy: well under a millisecond at 1 M orders. Otherwise,
   * pages in a little more of the copy buffers when a book outgrew them (a few page faults, at
   * most WARM_BUDGET_BYTES; O(books) when there is nothing to do), so the copies take none.
   */
  serveSnapshot(engine: Engine): void {
    const requested = this.control.snapshotRequested;
    if (requested <= this.servedSnapshot) {
      warmEngineBuffers(engine, this.snapshotBuffers, WARM_BUDGET_BYTES);
      return;
    }
    this.servedSnapshot = requested;
    this.control.enterSnapshotPause();
    this.sendImage(requested, armEngineCopy(engine, this.snapshotBuffers));
    this.control.waitResumed(requested, this.stopping);
  }

  close(): void {
    this.writer.close();
  }
}
