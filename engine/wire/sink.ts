import { RecordViews } from './record-views.js';

/**
 * Where a shard writes reply records: a claim gives a byte offset into `view` with room for
 * `bytes`; nothing is visible to the reader until the writer publishes. The reply ring implements
 * it; tests use a plain buffer.
 */
export interface RecordSink {
  readonly view: DataView;
  /** Typed-array views over the same bytes (fast field writes). */
  readonly views: RecordViews;
  /** Byte offset of `bytes` of room in `view`; blocks (boundedly) or throws if there is none. */
  claim(bytes: number): number;
}

/** A growable in-memory sink, for tests and for codecs' round-trip checks. */
export class BufferSink implements RecordSink {
  view = new DataView(new ArrayBuffer(1 << 12));
  views = new RecordViews(this.view.buffer);
  length = 0;
  readonly records: number[] = [];

  claim(bytes: number): number {
    if (this.length + bytes > this.view.byteLength) {
      const bigger = new ArrayBuffer(Math.max(this.view.byteLength * 2, this.length + bytes));
      new Uint8Array(bigger).set(new Uint8Array(this.view.buffer, 0, this.length));
      this.view = new DataView(bigger);
      this.views = new RecordViews(bigger);
    }
    const at = this.length;
    this.length += bytes;
    this.records.push(at);
    return at;
  }
}
