/**
 * The shard's end of its reply ring as a RecordSink. Replies are claimed as commands run and made
 * visible together at the end of the batch, after the batch's depth is published and its events
 * are written. When the ring is full mid-batch, the writer does the same end-of-batch work early
 * (so the router can drain), then waits for space.
 */
import { NIL, type RingProducer } from '../wire/ring.js';
import { RecordViews } from '../wire/record-views.js';
import type { RecordSink } from '../wire/sink.js';

export class ReplyWriter implements RecordSink {
  readonly view: DataView;
  readonly views: RecordViews;

  constructor(
    private readonly ring: RingProducer,
    /**
     * Makes the batch so far durable, publishes depth and writes pending events; called before
     * replies become visible — `midBatch` when a full ring forces it before the batch ends.
     */
    private readonly beforePublish: (midBatch: boolean) => void,
    /** True once the shard must give up waiting (shutdown). */
    private readonly stopping: () => boolean,
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
      this.ring.waitForSpace(bytes, 100);
      at = this.ring.tryClaim(bytes);
    }
    return at;
  }

  get maxRecordSize(): number {
    return this.ring.maxRecordSize;
  }

  /** Makes every claimed reply visible (end of batch). */
  publish(): void {
    this.beforePublish(false);
    this.ring.publish();
  }

  private claimSlow(bytes: number): number {
    this.beforePublish(true);
    return this.claimRaw(bytes);
  }
}
