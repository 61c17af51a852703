/**
 * Encodes commands into a shard's command ring (router side). Each method claims a record, writes
 * the fields, and publishes (at once, or with `deferPublish` in a microtask together with the
 * other commands of the same task); it returns false, writing nothing, when the ring is full.
 * Source labels are interned for all shards; a shard gets a label's text with the first command
 * that uses it.
 */
import { BALANCE_RECORD } from '../core/events.js';
import {
  align8, BALANCE_UPDATE, CANCEL, COMMAND_HEAD, EVENTS_HEAD, FLAG_SOURCE_TEXT, Op, PLACE_LIMIT, PLACE_MARKET, QUERY_BOOK, QUERY_ORDER,
  QUERY_DEPTH, QUERY_PENDING, QUERY_SUMMARY,
} from '../wire/commands.js';
import { NIL, type RingProducer } from '../wire/ring.js';

const utf8 = new TextEncoder();
const H = COMMAND_HEAD.at;
/** With deferred publishing, commands published at once after this many held back (keeps the shard busy meanwhile). */
const PUBLISH_EVERY = 64;

export class CommandWriter {
  /** Source ids whose text this shard has been sent. */
  private readonly knownSources = new Set<number>();

  /** Whether a flush of the ring is queued (deferred publishing only). */
  private flushQueued = false;
  /** Commands written since the last publish (deferred publishing only). */
  private held = 0;
  private readonly flush = (): void => {
    this.flushQueued = false;
    this.held = 0;
    this.ring.publish();
  };

  /**
   * With `deferPublish`, commands written in one synchronous stretch (one event-loop task, e.g.
   * a WebSocket frame of orders) become visible together in a microtask: one cursor store and at
   * most one wake of a sleeping shard for all of them, instead of one per command. Without it
   * (tests that write and read the ring in one thread), each command is published at once.
   */
  constructor(private readonly ring: RingProducer, private readonly deferPublish = false) {}

  /** Makes every command written so far visible to the shard now (a queued flush then finds nothing to do). */
  publishNow(): void {
    this.ring.publish();
  }

  placeLimit(
    request: number, time: number, user: number, market: number, side: number, amount: number, price: number,
    takerFee: number, makerFee: number, source: number, sourceText: Uint8Array,
  ): boolean {
    const withText = !this.knownSources.has(source);
    const at = this.claim(PLACE_LIMIT.size, withText ? sourceText : null);
    if (at === NIL) return false;
    const v = this.ring.view;
    const f = PLACE_LIMIT.at;
    this.head(at, Op.PLACE_LIMIT, withText ? FLAG_SOURCE_TEXT : 0, market, user, request, time);
    v.setUint8(at + f.side, side);
    v.setInt32(at + f.source, source, true);
    v.setFloat64(at + f.amount, amount, true);
    v.setFloat64(at + f.price, price, true);
    v.setFloat64(at + f.takerFee, takerFee, true);
    v.setFloat64(at + f.makerFee, makerFee, true);
    if (withText) this.writeSourceText(at + PLACE_LIMIT.size, source, sourceText);
    this.queuePublish();
    return true;
  }

  placeMarket(
    request: number, time: number, user: number, market: number, side: number, amount: number,
    takerFee: number, source: number, sourceText: Uint8Array,
  ): boolean {
    const withText = !this.knownSources.has(source);
    const at = this.claim(PLACE_MARKET.size, withText ? sourceText : null);
    if (at === NIL) return false;
    const v = this.ring.view;
    const f = PLACE_MARKET.at;
    this.head(at, Op.PLACE_MARKET, withText ? FLAG_SOURCE_TEXT : 0, market, user, request, time);
    v.setUint8(at + f.side, side);
    v.setInt32(at + f.source, source, true);
    v.setFloat64(at + f.amount, amount, true);
    v.setFloat64(at + f.takerFee, takerFee, true);
    if (withText) this.writeSourceText(at + PLACE_MARKET.size, source, sourceText);
    this.queuePublish();
    return true;
  }

  cancel(request: number, time: number, user: number, market: number, orderId: number): boolean {
    const at = this.tryClaim(CANCEL.size);
    if (at === NIL) return false;
    this.head(at, Op.CANCEL, 0, market, user, request, time);
    this.ring.view.setFloat64(at + CANCEL.at.orderId, orderId, true);
    this.queuePublish();
    return true;
  }

  /**
   * Whether a balance.update with these texts can travel: its command must fit this ring, and the
   * BALANCE event it causes one record of the reply ring (as large as this one) with string
   * lengths the event encoding's u16 can hold. A text that cannot is refused, never "busy".
   */
  fitsBalanceUpdate(business: string, detail: string): boolean {
    const texts = utf8.encode(business).length + utf8.encode(detail).length;
    const event = EVENTS_HEAD.size + BALANCE_RECORD.size + 4 + texts;
    return texts <= 0xffff && align8(BALANCE_UPDATE.size + texts) <= this.ring.maxRecordSize && event <= this.ring.maxRecordSize;
  }

  balanceUpdate(
    request: number, time: number, user: number, asset: number, business: string, businessId: number, change: bigint, detail: string,
  ): boolean {
    const businessBytes = utf8.encode(business);
    const detailBytes = utf8.encode(detail);
    if (businessBytes.length > 0xffff) return false;
    const size = align8(BALANCE_UPDATE.size + businessBytes.length + detailBytes.length);
    if (size > this.ring.maxRecordSize) return false;
    const at = this.tryClaim(size);
    if (at === NIL) return false;
    const v = this.ring.view;
    const f = BALANCE_UPDATE.at;
    this.head(at, Op.BALANCE_UPDATE, 0, 0, user, request, time);
    v.setUint16(at + f.asset, asset, true);
    v.setUint16(at + f.businessBytes, businessBytes.length, true);
    v.setUint32(at + f.detailBytes, detailBytes.length, true);
    v.setFloat64(at + f.businessId, businessId, true);
    v.setBigInt64(at + f.change, change, true);
    this.ring.bytes.set(businessBytes, at + BALANCE_UPDATE.size);
    this.ring.bytes.set(detailBytes, at + BALANCE_UPDATE.size + businessBytes.length);
    this.queuePublish();
    return true;
  }

  queryPending(request: number, user: number, market: number, offset: number, limit: number): boolean {
    const at = this.tryClaim(QUERY_PENDING.size);
    if (at === NIL) return false;
    this.head(at, Op.QUERY_PENDING, 0, market, user, request, 0);
    this.ring.view.setFloat64(at + QUERY_PENDING.at.offset, offset, true);
    this.ring.view.setUint32(at + QUERY_PENDING.at.limit, limit, true);
    this.queuePublish();
    return true;
  }

  queryOrder(request: number, market: number, orderId: number): boolean {
    const at = this.tryClaim(QUERY_ORDER.size);
    if (at === NIL) return false;
    this.head(at, Op.QUERY_ORDER, 0, market, 0, request, 0);
    this.ring.view.setFloat64(at + QUERY_ORDER.at.orderId, orderId, true);
    this.queuePublish();
    return true;
  }

  queryBook(request: number, market: number, side: number, offset: number, limit: number): boolean {
    const at = this.tryClaim(QUERY_BOOK.size);
    if (at === NIL) return false;
    this.head(at, Op.QUERY_BOOK, 0, market, 0, request, 0);
    this.ring.view.setUint8(at + QUERY_BOOK.at.side, side);
    this.ring.view.setFloat64(at + QUERY_BOOK.at.offset, offset, true);
    this.ring.view.setUint32(at + QUERY_BOOK.at.limit, limit, true);
    this.queuePublish();
    return true;
  }

  querySummary(request: number, market: number): boolean {
    const at = this.tryClaim(QUERY_SUMMARY.size);
    if (at === NIL) return false;
    this.head(at, Op.QUERY_SUMMARY, 0, market, 0, request, 0);
    this.queuePublish();
    return true;
  }

  queryDepth(request: number, market: number, limit: number, interval: number): boolean {
    const at = this.tryClaim(QUERY_DEPTH.size);
    if (at === NIL) return false;
    this.head(at, Op.QUERY_DEPTH, 0, market, 0, request, 0);
    this.ring.view.setUint32(at + QUERY_DEPTH.at.limit, limit, true);
    this.ring.view.setFloat64(at + QUERY_DEPTH.at.interval, interval, true);
    this.queuePublish();
    return true;
  }

  /** Wakes the shard if it sleeps (e.g. to serve a snapshot request). */
  wake(): void {
    this.ring.publish();
    this.ring.wake();
  }

  /** Closes the ring: the shard drains what is in it and stops. */
  close(): void {
    this.ring.close();
  }

  private claim(fixed: number, text: Uint8Array | null): number {
    return this.tryClaim(text === null ? fixed : align8(fixed + 1 + text.length));
  }

  /**
   * `ring.tryClaim`; when the ring is full, publishes what is still held back first, so that the
   * shard can free the space (a caller answered BUSY may retry before the queued flush runs).
   */
  private tryClaim(size: number): number {
    const at = this.ring.tryClaim(size);
    if (at === NIL && this.ring.unpublished !== 0) this.ring.publish();
    return at;
  }

  /** After a command is written: publish it now, or queue one flush for everything written in this task. */
  private queuePublish(): void {
    if (!this.deferPublish || ++this.held >= PUBLISH_EVERY) {
      this.held = 0;
      this.ring.publish(); // a long stretch: let the shard start on it while more is written
    } else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  }

  private head(at: number, op: number, flags: number, market: number, user: number, request: number, time: number): void {
    const v = this.ring.view;
    v.setUint8(at + H.op, op);
    v.setUint8(at + H.flags, flags);
    v.setUint16(at + H.market, market, true);
    v.setUint32(at + H.user, user, true);
    v.setFloat64(at + H.request, request, true);
    v.setFloat64(at + H.time, time, true);
  }

  private writeSourceText(at: number, source: number, text: Uint8Array): void {
    this.ring.view.setUint8(at, text.length);
    this.ring.bytes.set(text, at + 1);
    this.knownSources.add(source);
  }
}
