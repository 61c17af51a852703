/**
 * A shard's side of durability: it journals the outcome records of each batch (the engine's
 * events, with per-command balance DELTAs) tagged with the epoch it entered at the batch's start,
 * writes and fdatasyncs them, leaves the epoch, and waits until the committer has made that epoch
 * durable — only then may the batch's replies and events become visible.
 */
import type { EventBuffer } from '../core/events.js';
import type { Engine } from '../engine.js';
import { captureEngine, type EngineImage } from '../journal/snapshot-image.js';
import type { EpochControl } from '../journal/epochs.js';
import type { SegmentWriter } from '../journal/segment-writer.js';

export class ShardJournal {
  /** The epoch this shard is journaling in, or 0 between batches. */
  private epoch = 0;
  /** Frames appended in the current epoch and not yet written. */
  private pending = false;
  /** The last snapshot generation this shard served. */
  private servedSnapshot: number;

  constructor(
    private readonly writer: SegmentWriter,
    private readonly control: EpochControl,
    private readonly shard: number,
    private readonly stopping: () => boolean,
    /** Posts this shard's snapshot part to the router. */
    private readonly sendImage: (generation: number, image: EngineImage) => void,
  ) {
    this.servedSnapshot = control.snapshotRequested;
  }

  /** Enters the current epoch (start of a batch, or after a mid-batch commit). */
  begin(): void {
    if (this.epoch === 0) this.epoch = this.control.enter(this.shard);
  }

  /** Journals a source label the shard just learned (before the orders that use it). */
  source(id: number, label: string): void {
    this.begin();
    this.writer.appendSources(this.epoch, [{ id, label }]);
    this.pending = true;
  }

  /**
   * Journals the events accumulated so far, makes them durable, and returns once their epoch is
   * durable (false if the shard is stopping and gave up waiting). Leaves the epoch either way.
   */
  commit(events: EventBuffer): boolean {
    if (this.epoch === 0) return true;
    const epoch = this.epoch;
    if (events.count > 0) {
      this.writer.appendEvents(epoch, events.data(), events.strings);
      this.pending = true;
    }
    const wrote = this.pending;
    if (wrote) {
      this.writer.flush();
      if (this.writer.durability === 'fsync') this.writer.sync();
      this.pending = false;
    }
    this.control.leave(this.shard, wrote);
    this.epoch = 0;
    return wrote ? this.control.waitDurable(epoch, 50, this.stopping) : true;
  }

  /**
   * Between batches: when the router asked for a snapshot this shard has not served yet, hands it
   * this shard's part (books, labels, keys, ids) and pauses until the router has copied the
   * balances. The pause lasts as long as the slowest shard takes to copy its books.
   */
  serveSnapshot(engine: Engine): void {
    const requested = this.control.snapshotRequested;
    if (requested <= this.servedSnapshot) return;
    this.servedSnapshot = requested;
    this.sendImage(requested, captureEngine(engine));
    this.control.pauseForSnapshot(requested, this.stopping);
  }

  close(): void {
    this.writer.close();
  }
}
