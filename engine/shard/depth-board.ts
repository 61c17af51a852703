/**
 * Published depth: after each batch, a shard copies the best levels of every book the batch
 * touched into shared memory, so gateways answer order.depth without a round trip to the shard.
 *
 * Per market: an Int32 header on its own cache line — [seq, askLevels, bidLevels, askComplete,
 * bidComplete] — and for each side up to `levels` (price ticks, Σ left lots) pairs of Float64.
 * A seqlock guards it: the writer makes `seq` odd, writes, makes it even; a reader copies between
 * two reads of an even, unchanged `seq` and retries otherwise. Since replies leave the shard after
 * the batch's depth is published, a client that saw its order acknowledged sees it in the depth.
 */
import { SIDE_ASK, SIDE_BID } from '../book/order-columns.js';
import type { OrderBook } from '../book/order-book.js';
import type { DepthLevel } from '../queries.js';

const HEADER_INTS = 16; // 64 bytes
const SEQ = 0;
const COUNT = [0, 1, 2]; // by side: [unused, ask, bid]
const COMPLETE = [0, 3, 4];
/** Reads retried while a publish is in progress before giving up (a publish takes microseconds). */
const MAX_READ_ATTEMPTS = 1_000_000;

export interface DepthBoardBuffers {
  readonly buffer: SharedArrayBuffer;
  readonly markets: number;
  readonly levels: number;
}

export class DepthBoard {
  private readonly header: Int32Array;
  private readonly data: Float64Array;
  private readonly stride: number;

  constructor(readonly buffers: DepthBoardBuffers) {
    this.stride = HEADER_INTS * 4 + 2 * buffers.levels * 16;
    this.header = new Int32Array(buffers.buffer);
    this.data = new Float64Array(buffers.buffer);
  }

  static allocate(markets: number, levels = 256): DepthBoardBuffers {
    const stride = HEADER_INTS * 4 + 2 * levels * 16;
    return { buffer: new SharedArrayBuffer(Math.max(8, markets * stride)), markets, levels };
  }

  /** Copies the best levels of both sides of `book` (writer: the shard holding the market). */
  publish(market: number, book: OrderBook): void {
    const h = (market * this.stride) / 4;
    Atomics.add(this.header, h + SEQ, 1);
    this.writeSide(market, book, SIDE_ASK);
    this.writeSide(market, book, SIDE_BID);
    Atomics.add(this.header, h + SEQ, 1);
  }

  private writeSide(market: number, book: OrderBook, side: number): void {
    const levels = book.levels(side);
    const n = Math.min(levels.size, this.buffers.levels);
    const h = (market * this.stride) / 4;
    let d = this.sideOffset(market, side);
    for (let i = 0; i < n; i++) {
      const level = levels.nth(i);
      this.data[d++] = levels.price[level]!;
      this.data[d++] = levels.total[level]!;
    }
    this.header[h + COUNT[side]!] = n;
    this.header[h + COMPLETE[side]!] = n === levels.size ? 1 : 0;
  }

  private sideOffset(market: number, side: number): number {
    return (market * this.stride + HEADER_INTS * 4 + (side === SIDE_ASK ? 0 : this.buffers.levels * 16)) / 8;
  }

  /**
   * Depth as order.depth serves it (up to `limit` levels per side, merged to `interval` ticks when
   * > 0), or null when the published levels cannot prove the answer complete (ask the shard).
   * Allocates.
   */
  read(market: number, limit: number, interval: number): { asks: DepthLevel[]; bids: DepthLevel[] } | null {
    const h = (market * this.stride) / 4;
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const before = Atomics.load(this.header, h + SEQ);
      if ((before & 1) !== 0) continue; // a write is in progress; it takes microseconds
      const asks = this.readSide(market, SIDE_ASK, limit, interval);
      const bids = this.readSide(market, SIDE_BID, limit, interval);
      if (Atomics.load(this.header, h + SEQ) !== before) continue;
      return asks === null || bids === null ? null : { asks, bids };
    }
    return null; // a writer that never finishes (a shard killed mid-publish): let the caller ask the shard
  }

  private readSide(market: number, side: number, limit: number, interval: number): DepthLevel[] | null {
    const h = (market * this.stride) / 4;
    const n = this.header[h + COUNT[side]!]!;
    const complete = this.header[h + COMPLETE[side]!] === 1;
    let d = this.sideOffset(market, side);
    const out: DepthLevel[] = [];
    let price = NaN;
    let amount = 0n;
    for (let i = 0; i < n; i++) {
      let p = this.data[d++]!;
      const lots = this.data[d++]!;
      if (interval > 0) {
        const remainder = p % interval;
        if (remainder !== 0) p = side === SIDE_ASK ? p - remainder + interval : p - remainder;
      }
      if (p === price) {
        amount += BigInt(lots);
        continue;
      }
      if (!Number.isNaN(price)) out.push({ price, amount });
      if (out.length >= limit) return out; // a later level exists, so every level returned is whole
      price = p;
      amount = BigInt(lots);
    }
    if (!Number.isNaN(price) && out.length < limit) {
      if (!complete) return null; // the last merged level may continue beyond what was published
      out.push({ price, amount });
    }
    return out;
  }
}
