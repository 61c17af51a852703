/**
 * A shard's batch loop: drain every command available on the command ring, execute each, then
 * end the batch — release the command ring once, then publish the depth of the books it touched,
 * send its events and make the replies visible. An idle shard spins briefly, then sleeps in
 * Atomics.wait until the router publishes (it never burns an idle core).
 */
import type { Engine } from '../engine.js';
import { COMMAND_HEAD, EVENTS_HEAD, Op, ReplyKind } from '../wire/commands.js';
import { NIL, type RingConsumer } from '../wire/ring.js';
import { ShardDispatcher } from './dispatch.js';
import type { DepthBoard } from './depth-board.js';
import type { ReplyWriter } from './reply-writer.js';
import { BALANCE_RECORD, EventKind, eventRecordSize } from '../core/events.js';
import type { ShardJournal } from './shard-journal.js';

const utf8 = new TextEncoder();

export interface ShardStats {
  batches: number;
  commands: number;
}

export class ShardLoop {
  readonly stats: ShardStats = { batches: 0, commands: 0 };
  private readonly dispatcher: ShardDispatcher;
  /** Markets whose book changed in this batch (by index), and how many there are. */
  private readonly dirty: Uint8Array;
  private readonly dirtyList: Int32Array;
  private dirtyCount = 0;
  private stopRequested = false;

  constructor(
    private readonly engine: Engine,
    private readonly commands: RingConsumer,
    private readonly replies: ReplyWriter,
    private readonly depth: DepthBoard,
    /** Null: no journal (state in memory only). */
    private readonly journal: ShardJournal | null = null,
  ) {
    this.dispatcher = new ShardDispatcher(engine, replies.maxRecordSize, journal === null ? null : (id, label) => journal.source(id, label));
    this.dirty = new Uint8Array(engine.specs.markets.length);
    this.dirtyList = new Int32Array(engine.specs.markets.length);
  }

  stop(): void {
    this.stopRequested = true;
  }

  /** Runs until the router closes the command ring (after draining it) or stop() is called. */
  run(): void {
    const ring = this.commands;
    for (;;) {
      this.journal?.serveSnapshot(this.engine);
      if (ring.available() === 0) {
        if (ring.isFinished() || this.stopRequested) return;
        ring.waitForData(50);
        continue;
      }
      let count = 0;
      this.journal?.begin();
      for (let at = ring.next(); at !== NIL; at = ring.next()) {
        this.execute(ring.view, at);
        count++;
      }
      ring.release(); // before the replies: a client that got its answer finds the command's space free again
      this.replies.publish();
      this.stats.batches++;
      this.stats.commands += count;
    }
  }

  /** Runs one command; marks its market dirty when it can change the book. */
  execute(view: DataView, at: number): void {
    const op = view.getUint8(at + COMMAND_HEAD.at.op);
    this.dispatcher.execute(view, at, this.replies);
    if (op === Op.PLACE_LIMIT || op === Op.PLACE_MARKET || op === Op.CANCEL) {
      const market = view.getUint16(at + COMMAND_HEAD.at.market, true);
      if (market < this.dirty.length && this.dirty[market] === 0) {
        this.dirty[market] = 1;
        this.dirtyList[this.dirtyCount++] = market;
      }
    }
  }

  /**
   * End-of-batch work that must precede the replies: make the batch durable (journal, then wait
   * for its epoch), publish depth, send events. Mid-batch (a full reply ring), the rest of the
   * batch continues in a new epoch.
   */
  flushBeforeReplies(midBatch = false): void {
    if (this.journal !== null) {
      this.journal.commit(this.engine.events);
      if (midBatch) this.journal.begin();
    }
    for (let i = 0; i < this.dirtyCount; i++) {
      const market = this.dirtyList[i]!;
      this.dirty[market] = 0;
      const book = this.engine.books[market];
      if (book !== null && book !== undefined) this.depth.publish(market, book);
    }
    this.dirtyCount = 0;
    this.sendEvents();
  }

  /**
   * Copies the accumulated events into EVENTS records (split at record boundaries), then resets
   * them. Each record carries only the strings its own BALANCE records refer to, re-indexed from 0,
   * so that a batch with many balance updates never needs a record bigger than the ring allows.
   */
  private sendEvents(): void {
    const events = this.engine.events;
    if (events.count === 0) return;
    const bytes = events.data();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const strings = events.strings.map((s) => utf8.encode(s));
    const prefix = [0]; // prefix[i] = wire bytes of strings [0, i)
    for (const s of strings) prefix.push(prefix[prefix.length - 1]! + 2 + s.length);
    const max = this.replies.maxRecordSize - EVENTS_HEAD.size;
    let start = 0;
    while (start < bytes.length) {
      let end = start;
      let first = -1; // the chunk's strings: [first, last)
      let last = -1;
      while (end < bytes.length) {
        const size = eventRecordSize(bytes, end);
        let f = first;
        let l = last;
        if (bytes[end] === EventKind.BALANCE) {
          const business = view.getInt32(end + BALANCE_RECORD.at.business, true);
          const detail = view.getInt32(end + BALANCE_RECORD.at.detail, true);
          f = Math.min(f < 0 ? business : f, business, detail);
          l = Math.max(l, business + 1, detail + 1);
        }
        const stringBytes = f < 0 ? 0 : prefix[l]! - prefix[f]!;
        if (end + size - start + stringBytes > max && end > start) break;
        end += size;
        first = f;
        last = l;
      }
      this.writeEvents(bytes.subarray(start, end), strings, Math.max(first, 0), Math.max(last, 0), prefix);
      start = end;
    }
    events.reset();
  }

  /** One EVENTS record: `chunk`, then strings [first, last), which its BALANCE records index from 0. */
  private writeEvents(chunk: Uint8Array, strings: readonly Uint8Array[], first: number, last: number, prefix: readonly number[]): void {
    const stringBytes = prefix[last]! - prefix[first]!;
    const at = this.replies.claimRaw(EVENTS_HEAD.size + chunk.length + stringBytes);
    const v = this.replies.view;
    const f = EVENTS_HEAD.at;
    v.setUint8(at + f.kind, ReplyKind.EVENTS);
    v.setUint32(at + f.eventBytes, chunk.length, true);
    v.setUint32(at + f.strings, last - first, true);
    v.setUint32(at + f.stringBytes, stringBytes, true);
    const out = new Uint8Array(v.buffer, v.byteOffset + at + EVENTS_HEAD.size, chunk.length + stringBytes);
    out.set(chunk, 0);
    if (first > 0) {
      for (let p = 0; p < chunk.length; p += eventRecordSize(chunk, p)) {
        if (chunk[p] !== EventKind.BALANCE) continue;
        const r = at + EVENTS_HEAD.size + p;
        v.setInt32(r + BALANCE_RECORD.at.business, v.getInt32(r + BALANCE_RECORD.at.business, true) - first, true);
        v.setInt32(r + BALANCE_RECORD.at.detail, v.getInt32(r + BALANCE_RECORD.at.detail, true) - first, true);
      }
    }
    let p = chunk.length;
    for (let i = first; i < last; i++) {
      const s = strings[i]!;
      out[p] = s.length & 0xff;
      out[p + 1] = s.length >>> 8;
      out.set(s, p + 2);
      p += 2 + s.length;
    }
  }
}
