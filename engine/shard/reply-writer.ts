/**
 * The shard's end of its reply ring as a RecordSink. Replies are claimed as commands run; at the
 * end of a batch (after its frames are journaled, its depth published and its events written)
 * the batch's span of the ring is queued with the epoch it was journaled in, and it becomes
 * visible (`publishTo`) once that epoch is durable — right away without a journal, or once
 * DURABLE (journal/epochs.ts) reaches it. Spans are released in ring order, so replies and events
 * keep the order they were written in, and nothing a batch wrote is visible before its epoch is
 * durable. Meanwhile the shard runs its next batches (at most MAX_HELD_BATCHES held).
 *
 * When the ring is full mid-batch, the writer does the end-of-batch work early for the commands
 * that ran (so their span can be released), then waits for space: for DURABLE when claimed
 * replies are still held, else for the router to consume.
 */
import type { EpochControl } from '../journal/epochs.js';
import { NIL, type RingProducer } from '../wire/ring.js';
import { RecordViews } from '../wire/record-views.js';
import type { RecordSink } from '../wire/sink.js';

/** Most batch spans held back at once (a shard with this many waits for DURABLE before running more). */
export const MAX_HELD_BATCHES = 64;
/** Slice of every wait, so that a stopping shard notices. */
const WAIT_SLICE_MS = 50;

export class ReplyWriter implements RecordSink {
  readonly view: DataView;
  readonly views: RecordViews;
  /** Held spans, oldest first, in a circular queue: the ring position each ends at and its epoch. */
  private readonly spanEnds = new Int32Array(MAX_HELD_BATCHES);
  private readonly spanEpochs = new Float64Array(MAX_HELD_BATCHES);
  private spanHead = 0;
  private spanCount = 0;

  constructor(
    private readonly ring: RingProducer,
    /**
     * End-of-batch work for the commands run so far (journal, depth, events, then `endBatch`);
     * `midBatch` when a full ring forces it before the batch ends.
     */
    private readonly beforePublish: (midBatch: boolean) => void,
    /** True once the shard must give up waiting (shutdown). */
    private readonly stopping: () => boolean,
    /** The shared epoch cells whose DURABLE releases held spans; null: no journal, nothing is held. */
    private readonly epochs: EpochControl | null = null,
  ) {
    this.view = ring.view;
    this.views = new RecordViews(ring.buffers.data);
  }

  claim(bytes: number): number {
    const at = this.ring.tryClaim(bytes);
    if (at !== NIL) return at;
    return this.claimSlow(bytes);
  }

  /** Claims without running `beforePublish` on a full ring (for the events themselves). */
  claimRaw(bytes: number): number {
    let at = this.ring.tryClaim(bytes);
    while (at === NIL) {
      if (this.stopping()) throw new Error('reply ring full at shutdown');
      this.release();
      // Held spans fill (part of) the ring: space comes with DURABLE. Else the router must consume.
      if (this.spanCount > 0) this.waitDurable(1);
      else this.ring.waitForSpace(bytes, 100);
      at = this.ring.tryClaim(bytes);
    }
    return at;
  }

  get maxRecordSize(): number {
    return this.ring.maxRecordSize;
  }

  /** Spans held back, waiting for their epoch to be durable. */
  get held(): number {
    return this.spanCount;
  }

  /** End of batch: the end-of-batch work, then whatever is durable becomes visible. */
  publish(): void {
    this.beforePublish(false);
    this.release();
  }

  /**
   * Marks the end of a span: everything claimed so far and not yet in a span becomes visible at a
   * `release()` once `epoch` is durable (0: once the spans before it are). Nothing is published
   * here: a batch's replies and events become visible together. Waits for DURABLE while
   * MAX_HELD_BATCHES spans are held.
   */
  endBatch(epoch: number): void {
    const end = this.ring.claimed;
    if (this.spanCount > 0) {
      const last = (this.spanHead + this.spanCount - 1) % MAX_HELD_BATCHES;
      if (epoch === 0 || epoch === this.spanEpochs[last]) {
        this.spanEnds[last] = end; // same epoch (or none of its own): extend the last span
        return;
      }
    }
    while (this.spanCount === MAX_HELD_BATCHES) {
      if (this.stopping()) throw new Error('replies held at shutdown');
      this.waitDurable(WAIT_SLICE_MS);
      this.release();
    }
    const slot = (this.spanHead + this.spanCount) % MAX_HELD_BATCHES;
    this.spanEnds[slot] = end;
    this.spanEpochs[slot] = epoch;
    this.spanCount++;
  }

  /** Makes visible every held span whose epoch is durable (in order; stops at the first that is not). */
  release(): void {
    if (this.spanCount === 0) return;
    const durable = this.epochs === null ? Infinity : this.epochs.durable; // (epoch 0: nothing to wait for)
    let end = -1;
    let released = false;
    while (this.spanCount > 0 && this.spanEpochs[this.spanHead]! <= durable) {
      end = this.spanEnds[this.spanHead]!;
      released = true;
      this.spanHead = (this.spanHead + 1) % MAX_HELD_BATCHES;
      this.spanCount--;
    }
    if (released) this.ring.publishTo(end);
  }

  /** Waits (Atomics.wait, up to `timeoutMs`) for DURABLE to move while the oldest held span is not durable yet. */
  waitDurable(timeoutMs: number): void {
    if (this.epochs === null || this.spanCount === 0) return;
    const durable = this.epochs.durable;
    if (durable >= this.spanEpochs[this.spanHead]!) return;
    this.epochs.waitDurableChange(durable, timeoutMs);
  }

  /** Shutdown: waits until every held span is visible (or the shard must stop waiting). */
  drain(): void {
    this.release();
    while (this.spanCount > 0 && !this.stopping()) {
      this.waitDurable(WAIT_SLICE_MS);
      this.release();
    }
  }

  private claimSlow(bytes: number): number {
    this.beforePublish(true);
    return this.claimRaw(bytes);
  }
}
