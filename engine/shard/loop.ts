/**
 * A shard's batch loop: drain every command available on the command ring, execute each, then
 * end the batch — release the command ring once, journal the batch (shard-journal.ts: one write
 * and one fdatasync, tagged with its epoch), publish the depth of the books it touched, write its
 * events, and queue the batch's span of the reply ring, which becomes visible once its epoch is
 * durable (reply-writer.ts). The shard does not wait for that: it runs the next batch meanwhile
 * (epochs are pipelined), and releases held replies whenever DURABLE advances. An idle shard with
 * held replies sleeps on DURABLE; an idle shard without spins briefly, then sleeps in Atomics.wait
 * until the router publishes (it never burns an idle core).
 *
 * Visibility: replies, events (and so pushes) of a batch are never visible before its epoch is
 * durable. The depth board is published at the end of each batch, once the batch is written and
 * synced by this shard, possibly before its epoch is durable (with several shards, DURABLE also
 * waits for the others' batches of that epoch): depth may run ahead of acknowledgements by the
 * batches in flight, as it may run ahead of a client's reading of its reply.
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
/** Ops that change nothing (queries): a batch of only these enters no epoch and journals nothing. */
const READ_ONLY = new Uint8Array(256);
for (const op of [Op.QUERY_PENDING, Op.QUERY_ORDER, Op.QUERY_BOOK, Op.QUERY_SUMMARY, Op.QUERY_DEPTH]) READ_ONLY[op] = 1;
/** Slice of the waits for DURABLE while idle, so that stop() and a closed ring are noticed. */
const DURABLE_WAIT_MS = 50;

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
      this.replies.release();
      this.journal?.serveSnapshot(this.engine);
      if (ring.available() === 0) {
        if (this.stopRequested) return;
        if (this.replies.held > 0) {
          // Idle with replies held back: sleep until DURABLE moves (commands that arrive meanwhile
          // wait for it too: at most the rest of another shard's batch and its fdatasync).
          this.replies.waitDurable(DURABLE_WAIT_MS);
          continue;
        }
        if (ring.isFinished()) return;
        ring.waitForData(50);
        continue;
      }
      let count = 0;
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

  /** Runs one command (entering an epoch first if it may change state); marks its market dirty when it can change the book. */
  execute(view: DataView, at: number): void {
    const op = view.getUint8(at + COMMAND_HEAD.at.op);
    if (this.journal !== null && READ_ONLY[op] === 0) this.journal.begin();
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
   * End-of-batch work that must precede the replies: journal the batch (written and synced, its
   * epoch left), queue its replies' span until that epoch is durable, publish depth, write the
   * events (into the same held span). Also called mid-batch (a full reply ring): the rest of the
   * batch then enters a new epoch at its next state-changing command.
   */
  flushBeforeReplies(): void {
    const epoch = this.journal === null ? 0 : this.journal.end(this.engine.events);
    for (let i = 0; i < this.dirtyCount; i++) {
      const market = this.dirtyList[i]!;
      this.dirty[market] = 0;
      const book = this.engine.books[market];
      if (book !== null && book !== undefined) this.depth.publish(market, book);
    }
    this.dirtyCount = 0;
    this.replies.endBatch(epoch);
    this.sendEvents(epoch);
  }

  /**
   * Copies the accumulated events into EVENTS records (split at record boundaries), then resets
   * them. Each record carries only the strings its own BALANCE records refer to, re-indexed from 0,
   * so that a batch with many balance updates never needs a record bigger than the ring allows.
   * Each record joins the batch's held span (epoch `epoch`) as it is written, so that a batch
   * whose events outgrow the ring can still release them as space is needed.
   */
  private sendEvents(epoch: number): void {
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
      this.replies.endBatch(epoch);
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
