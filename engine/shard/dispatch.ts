/**
 * A shard's command dispatch: one switch on the opcode, reading fields straight from the command
 * record, calling the engine, and writing the reply record. The only place that knows both the
 * record layouts and the engine API.
 */
import { Code } from '../codes.js';
import type { Engine } from '../engine.js';
import { writeOrderRecord, ORDER_RECORD } from '../core/events.js';
import type { OrderView } from '../core/order-view.js';
import { bookOrders, depth, marketSummary, pendingOrder, pendingOrders } from '../queries.js';
import {
  BALANCE_UPDATE, CANCEL, COMMAND_HEAD, DEPTH_LEVEL, FLAG_SOURCE_TEXT, Op, PLACE_LIMIT, PLACE_MARKET, QUERY_BOOK, QUERY_ORDER,
  QUERY_DEPTH, QUERY_PENDING, REPLY_HEAD, ReplyKind, SUMMARY_BODY,
} from '../wire/commands.js';
import type { RecordSink } from '../wire/sink.js';

const utf8 = new TextDecoder();
const H = COMMAND_HEAD.at;

export class ShardDispatcher {
  /** Most order records, and most depth levels per side, one reply record can carry. */
  private readonly maxOrders: number;
  private readonly maxLevelsPerSide: number;

  /**
   * `maxReplyBytes` is the largest record `out` accepts (the reply ring's maxRecordSize): a page or
   * depth longer than that is cut to what fits (a page's total still counts every order), so that
   * a large limit or offset cannot make the shard throw.
   */
  constructor(
    readonly engine: Engine,
    maxReplyBytes = Number.MAX_SAFE_INTEGER,
    /** Told of every source label the shard registers (the journal records it). */
    private readonly onSource: ((id: number, label: string) => void) | null = null,
  ) {
    this.maxOrders = Math.floor((maxReplyBytes - REPLY_HEAD.size) / ORDER_RECORD.size);
    this.maxLevelsPerSide = Math.floor((maxReplyBytes - REPLY_HEAD.size) / DEPTH_LEVEL.size / 2);
  }

  /** Executes the command at `at` and writes its reply to `out`. Never throws on a client's input. */
  execute(cmd: DataView, at: number, out: RecordSink): void {
    const op = cmd.getUint8(at + H.op);
    const market = cmd.getUint16(at + H.market, true);
    const user = cmd.getUint32(at + H.user, true);
    const request = cmd.getFloat64(at + H.request, true);
    const time = cmd.getFloat64(at + H.time, true);
    const engine = this.engine;
    switch (op) {
      case Op.PLACE_LIMIT: {
        const f = PLACE_LIMIT.at;
        const source = this.source(cmd, at, PLACE_LIMIT.size, cmd.getInt32(at + f.source, true));
        const code = engine.placeLimit(
          user, market, cmd.getUint8(at + f.side), cmd.getFloat64(at + f.amount, true), cmd.getFloat64(at + f.price, true),
          cmd.getFloat64(at + f.takerFee, true), cmd.getFloat64(at + f.makerFee, true), source, time,
        );
        this.replyOrder(out, op, request, code, engine.result);
        return;
      }
      case Op.PLACE_MARKET: {
        const f = PLACE_MARKET.at;
        const source = this.source(cmd, at, PLACE_MARKET.size, cmd.getInt32(at + f.source, true));
        const code = engine.placeMarket(
          user, market, cmd.getUint8(at + f.side), cmd.getFloat64(at + f.amount, true),
          cmd.getFloat64(at + f.takerFee, true), source, time,
        );
        this.replyOrder(out, op, request, code, engine.result);
        return;
      }
      case Op.CANCEL: {
        const code = engine.cancel(user, market, cmd.getFloat64(at + CANCEL.at.orderId, true), time);
        this.replyOrder(out, op, request, code, engine.result);
        return;
      }
      case Op.BALANCE_UPDATE: {
        const f = BALANCE_UPDATE.at;
        const businessBytes = cmd.getUint16(at + f.businessBytes, true);
        const detailBytes = cmd.getUint32(at + f.detailBytes, true);
        const textAt = cmd.byteOffset + at + BALANCE_UPDATE.size;
        const business = utf8.decode(new Uint8Array(cmd.buffer, textAt, businessBytes));
        const detail = utf8.decode(new Uint8Array(cmd.buffer, textAt + businessBytes, detailBytes));
        const code = engine.updateBalance(
          user, cmd.getUint16(at + f.asset, true), business, cmd.getFloat64(at + f.businessId, true),
          cmd.getBigInt64(at + f.change, true), detail, time,
        );
        this.replyHead(out, op, request, code, 0, 0);
        return;
      }
      case Op.QUERY_PENDING: {
        const page = pendingOrders(engine, user, market, cmd.getFloat64(at + QUERY_PENDING.at.offset, true), Math.min(cmd.getUint32(at + QUERY_PENDING.at.limit, true), this.maxOrders));
        if (page === null) this.replyHead(out, op, request, Code.UNKNOWN_MARKET, 0, 0);
        else this.replyOrders(out, op, request, page.total, page.items);
        return;
      }
      case Op.QUERY_ORDER: {
        const order = pendingOrder(engine, market, cmd.getFloat64(at + QUERY_ORDER.at.orderId, true));
        if (order === null) this.replyHead(out, op, request, Code.ORDER_NOT_FOUND, 0, 0);
        else this.replyOrders(out, op, request, 1, [order]);
        return;
      }
      case Op.QUERY_BOOK: {
        const f = QUERY_BOOK.at;
        const page = bookOrders(engine, market, cmd.getUint8(at + f.side), cmd.getFloat64(at + f.offset, true), Math.min(cmd.getUint32(at + f.limit, true), this.maxOrders));
        if (page === null) this.replyHead(out, op, request, Code.UNKNOWN_MARKET, 0, 0);
        else this.replyOrders(out, op, request, page.total, page.items);
        return;
      }
      case Op.QUERY_SUMMARY: {
        const summary = marketSummary(engine, market);
        if (summary === null) {
          this.replyHead(out, op, request, Code.UNKNOWN_MARKET, 0, 0);
          return;
        }
        const reply = out.claim(REPLY_HEAD.size + SUMMARY_BODY.size);
        writeReplyHead(out.view, reply, op, request, Code.OK, 0, 0);
        const body = reply + REPLY_HEAD.size;
        const s = SUMMARY_BODY.at;
        out.view.setFloat64(body + s.askCount, summary.askCount, true);
        out.view.setFloat64(body + s.bidCount, summary.bidCount, true);
        out.view.setBigInt64(body + s.askAmount, BigInt.asIntN(64, summary.askAmount), true);
        out.view.setBigInt64(body + s.bidAmount, BigInt.asIntN(64, summary.bidAmount), true);
        return;
      }
      case Op.QUERY_DEPTH: {
        const limit = Math.min(cmd.getUint32(at + QUERY_DEPTH.at.limit, true), this.maxLevelsPerSide);
        const d = depth(engine, market, limit, cmd.getFloat64(at + QUERY_DEPTH.at.interval, true));
        if (d === null) {
          this.replyHead(out, op, request, Code.UNKNOWN_MARKET, 0, 0);
          return;
        }
        const reply = out.claim(REPLY_HEAD.size + (d.asks.length + d.bids.length) * DEPTH_LEVEL.size);
        writeReplyHead(out.view, reply, op, request, Code.OK, d.asks.length, d.bids.length);
        let p = reply + REPLY_HEAD.size;
        for (const level of [...d.asks, ...d.bids]) {
          out.view.setFloat64(p + DEPTH_LEVEL.at.price, level.price, true);
          out.view.setBigInt64(p + DEPTH_LEVEL.at.amount, BigInt.asIntN(64, level.amount), true);
          p += DEPTH_LEVEL.size;
        }
        return;
      }
      default:
        this.replyHead(out, op, request, Code.INVALID_ARGUMENT, 0, 0);
    }
  }

  /** The source id of a place command, registering its label when the record carries it. */
  private source(cmd: DataView, at: number, fixedSize: number, id: number): number {
    if ((cmd.getUint8(at + H.flags) & FLAG_SOURCE_TEXT) !== 0) {
      const length = cmd.getUint8(at + fixedSize);
      const label = utf8.decode(new Uint8Array(cmd.buffer, cmd.byteOffset + at + fixedSize + 1, length));
      this.engine.registerSource(id, label);
      this.onSource?.(id, label);
    }
    return id;
  }

  private replyHead(out: RecordSink, op: number, request: number, code: number, count: number, total: number): void {
    writeReplyHead(out.view, out.claim(REPLY_HEAD.size), op, request, code, count, total);
  }

  private replyOrder(out: RecordSink, op: number, request: number, code: number, order: OrderView): void {
    if (code !== Code.OK) {
      this.replyHead(out, op, request, code, 0, 0);
      return;
    }
    const at = out.claim(REPLY_HEAD.size + ORDER_RECORD.size);
    writeReplyHead(out.view, at, op, request, code, 1, 1);
    writeOrderRecord(out.views, at + REPLY_HEAD.size, 0, order);
  }

  private replyOrders(out: RecordSink, op: number, request: number, total: number, orders: readonly OrderView[]): void {
    const at = out.claim(REPLY_HEAD.size + orders.length * ORDER_RECORD.size);
    writeReplyHead(out.view, at, op, request, Code.OK, orders.length, total);
    for (let i = 0; i < orders.length; i++) writeOrderRecord(out.views, at + REPLY_HEAD.size + i * ORDER_RECORD.size, 0, orders[i]!);
  }
}

export function writeReplyHead(v: DataView, at: number, op: number, request: number, code: number, count: number, total: number): void {
  const r = REPLY_HEAD.at;
  v.setUint8(at + r.kind, ReplyKind.RESULT);
  v.setUint8(at + r.op, op);
  v.setInt32(at + r.code, code, true);
  v.setFloat64(at + r.request, request, true);
  v.setUint32(at + r.count, count, true);
  v.setFloat64(at + r.total, total, true);
}
