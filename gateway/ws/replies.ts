/**
 * Replies in request order, per connection. Each frame a client sends gets one answer — a JSON
 * reply, a JSON array for a batch, a binary frame for binary order entry — which waits in its
 * connection's queue until every answer before it has gone out, however the engine's shards
 * interleave. Answers that complete together (one reply drain of the router) leave together: the
 * connections with something ready are flushed once, corked, in a microtask after the drain.
 */
import type { Session } from './session.js';

/** One frame's answer. `pending` counts the answers it still waits for. */
export abstract class FrameAnswer {
  pending: number;
  /** The next frame's answer in the connection's queue. */
  next: FrameAnswer | null = null;
  /** What must run once this answer has been sent (a subscription's first push). */
  after: (() => void)[] | null = null;

  constructor(pending: number) {
    this.pending = pending;
  }

  /** The message to send once nothing is pending. */
  abstract message(): string | Uint8Array;
}

/** The answer to a JSON frame: one reply, or for a batch the array of its replies. */
export class JsonAnswer extends FrameAnswer {
  private readonly texts: string[];

  constructor(count: number, private readonly batch: boolean) {
    super(count);
    this.texts = new Array<string>(count);
  }

  /** Records the reply text of request `index`; true when it was the last one missing. */
  set(index: number, text: string): boolean {
    this.texts[index] = text;
    return --this.pending === 0;
  }

  message(): string {
    return this.batch ? `[${this.texts.join(',')}]` : this.texts[0]!;
  }
}

/** The answer to a binary order-entry frame: its reply records, filled in as the engine answers. */
export class BinaryAnswer extends FrameAnswer {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(count: number, recordSize: number) {
    super(count);
    this.bytes = new Uint8Array(count * recordSize);
    this.view = new DataView(this.bytes.buffer);
  }

  /** One record is complete; true when it was the last one missing. */
  done(): boolean {
    return --this.pending === 0;
  }

  message(): Uint8Array {
    return this.bytes;
  }
}

/** Where connections with a complete answer at the head of their queue wait for the next flush. */
export class FlushQueue {
  private ready: Session[] = [];
  private scheduled = false;
  private readonly flushAll = (): void => this.run();

  constructor(private readonly flush: (session: Session) => void) {}

  /** `session` has a complete answer at its head: flush it soon (once per microtask checkpoint). */
  schedule(session: Session): void {
    if (session.flushScheduled) return;
    session.flushScheduled = true;
    this.ready.push(session);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushAll);
    }
  }

  private run(): void {
    const ready = this.ready;
    this.ready = [];
    this.scheduled = false;
    for (const session of ready) {
      session.flushScheduled = false;
      this.flush(session);
    }
  }
}
