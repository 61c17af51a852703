/**
 * Event records that commands write into a preallocated out-buffer, in this order:
 *  - for every maker a taker touches: a DEAL, then that maker's ORDER event (UPDATE or FINISH);
 *  - then the taker's ORDER event: PUT when it rests, FINISH when filled (market orders always FINISH);
 *  - a cancel writes one ORDER FINISH; a balance.update writes one BALANCE;
 *  - when the engine records deltas (for the journal), each command ends with one DELTA per
 *    (user, asset) whose balance it changed: the amounts added to available and frozen.
 * Consumers (gateway pushes, history writers, the journal) read them after the command or batch.
 */
import { defineLayout } from '../wire/layout.js';
import { RecordViews } from '../wire/record-views.js';
import type { DeltaLog } from '../balance/delta-log.js';
import { storeInt64WordsOf } from '../book/int64-words.js';
import type { OrderBook } from '../book/order-book.js';
import { TYPE_LIMIT } from '../book/order-columns.js';
import { AMOUNT_MONEY, DEAL_FEE, DEAL_MONEY, FREEZE, LEFT_MONEY, MONEY_FIELDS, OrderView } from './order-view.js';

export const EventKind = { ORDER: 1, DEAL: 2, BALANCE: 3, DELTA: 4 } as const;
/** ViaBTC's order events. */
export const OrderEvent = { PUT: 1, UPDATE: 2, FINISH: 3 } as const;
/** Indexes of the fields EventBuffer.dealUnits() takes in a Float64Array. */
export const DealDouble = { TIME: 0, PRICE: 1, AMOUNT: 2, MONEY: 3, ASK_FEE: 4, BID_FEE: 5 } as const;
export const DEAL_DOUBLES = 6;

export const ORDER_RECORD = defineLayout([
  ['kind', 'u8'], ['event', 'u8'], ['side', 'u8'], ['type', 'u8'], ['market', 'u16'],
  ['user', 'u32'], ['source', 'i32'],
  ['id', 'f64'], ['ctime', 'f64'], ['mtime', 'f64'], ['price', 'f64'],
  ['amount', 'f64'], ['left', 'f64'], ['dealStock', 'f64'], ['takerFee', 'f64'], ['makerFee', 'f64'],
  ['amountMoney', 'i64'], ['leftMoney', 'i64'], ['dealMoney', 'i64'], ['dealFee', 'i64'], ['freeze', 'i64'],
] as const);

export const DEAL_RECORD = defineLayout([
  ['kind', 'u8'], ['takerSide', 'u8'], ['market', 'u16'], ['askUser', 'u32'], ['bidUser', 'u32'],
  ['id', 'f64'], ['time', 'f64'], ['price', 'f64'], ['amount', 'f64'], ['askOrder', 'f64'], ['bidOrder', 'f64'],
  ['dealMoney', 'i64'], ['askFee', 'i64'], ['bidFee', 'i64'],
] as const);

export const BALANCE_RECORD = defineLayout([
  ['kind', 'u8'], ['asset', 'u16'], ['user', 'u32'], ['business', 'i32'], ['detail', 'i32'],
  ['businessId', 'f64'], ['time', 'f64'], ['change', 'i64'], ['available', 'i64'], ['frozen', 'i64'],
] as const);

export const DELTA_RECORD = defineLayout([
  ['kind', 'u8'], ['asset', 'u16'], ['user', 'u32'], ['available', 'i64'], ['frozen', 'i64'],
] as const);

// Field offsets hoisted into constants for the writers on the hot path.
const O = ORDER_RECORD.at;
const O_KIND = O.kind, O_EVENT = O.event, O_SIDE = O.side, O_TYPE = O.type, O_MARKET = O.market, O_USER = O.user;
const O_SOURCE = O.source, O_ID = O.id, O_CTIME = O.ctime, O_MTIME = O.mtime, O_PRICE = O.price, O_AMOUNT = O.amount;
const O_LEFT = O.left, O_DEAL_STOCK = O.dealStock, O_TAKER_FEE = O.takerFee, O_MAKER_FEE = O.makerFee;
const O_AMOUNT_MONEY = O.amountMoney, O_LEFT_MONEY = O.leftMoney, O_DEAL_MONEY = O.dealMoney, O_DEAL_FEE = O.dealFee;
const O_FREEZE = O.freeze;
// writeOrderRecord copies OrderView.money as one block: the record must keep its fields in that order.
if ([O_AMOUNT_MONEY, O_LEFT_MONEY, O_DEAL_MONEY, O_DEAL_FEE, O_FREEZE].some((at, i) => at !== O_AMOUNT_MONEY + 8 * i)
  || [AMOUNT_MONEY, LEFT_MONEY, DEAL_MONEY, DEAL_FEE, FREEZE].some((field, i) => field !== i)) {
  throw new Error('ORDER_RECORD money fields are not in OrderView.money order');
}
const D = DEAL_RECORD.at;
const D_KIND = D.kind, D_TAKER_SIDE = D.takerSide, D_MARKET = D.market, D_ASK_USER = D.askUser, D_BID_USER = D.bidUser;
const D_ID = D.id, D_TIME = D.time, D_PRICE = D.price, D_AMOUNT = D.amount, D_ASK_ORDER = D.askOrder;
const D_BID_ORDER = D.bidOrder, D_DEAL_MONEY = D.dealMoney, D_ASK_FEE = D.askFee, D_BID_FEE = D.bidFee;

export interface OrderEventRecord {
  kind: typeof EventKind.ORDER;
  event: number;
  order: OrderView;
}
export interface DealRecord {
  kind: typeof EventKind.DEAL;
  id: number; time: number; market: number; takerSide: number; price: number; amount: number;
  askOrder: number; bidOrder: number; askUser: number; bidUser: number;
  dealMoney: bigint; askFee: bigint; bidFee: bigint;
}
export interface BalanceRecord {
  kind: typeof EventKind.BALANCE;
  user: number; asset: number; business: string; businessId: number; detail: string; time: number;
  change: bigint; available: bigint; frozen: bigint;
}
export interface DeltaRecord {
  kind: typeof EventKind.DELTA;
  user: number; asset: number; available: bigint; frozen: bigint;
}
export type EventRecord = OrderEventRecord | DealRecord | BalanceRecord | DeltaRecord;

/** Append-only buffer of event records; grows (rarely) by doubling. `reset()` empties it. */
export class EventBuffer {
  private bytes: ArrayBuffer;
  /** bytes.byteLength, kept apart: Node 20's TurboFan calls a builtin for that getter on every record. */
  private capacity: number;
  private view: DataView;
  private views: RecordViews;
  /** Bytes written. */
  length = 0;
  /** Number of records written. */
  count = 0;
  /** Strings referenced by BALANCE records (business, detail). */
  readonly strings: string[] = [];
  /** deal()'s time, price and amount for dealHead(). */
  private readonly dealDoubles = new Float64Array(DEAL_DOUBLES);

  constructor(initialBytes = 1 << 16) {
    this.bytes = new ArrayBuffer(initialBytes);
    this.capacity = initialBytes;
    this.view = new DataView(this.bytes);
    this.views = new RecordViews(this.bytes);
  }

  reset(): void {
    this.length = 0;
    this.count = 0;
    this.strings.length = 0;
  }

  /** The records written since the last reset, as bytes (a view, not a copy). */
  data(): Uint8Array {
    return new Uint8Array(this.bytes, 0, this.length);
  }

  private reserve(size: number): number {
    if (this.length + size > this.capacity) {
      const bigger = new ArrayBuffer(Math.max(this.capacity * 2, this.length + size));
      new Uint8Array(bigger).set(new Uint8Array(this.bytes, 0, this.length));
      this.bytes = bigger;
      this.capacity = bigger.byteLength;
      this.view = new DataView(bigger);
      this.views = new RecordViews(bigger);
    }
    const at = this.length;
    this.length += size;
    this.count++;
    return at;
  }

  order(event: number, o: OrderView): void {
    const at = this.reserve(ORDER_RECORD.size); // may grow the buffer and replace this.views
    writeOrderRecord(this.views, at, event, o);
  }

  /**
   * An ORDER event for the resting order in `slot` of `book`, written straight from its columns
   * (a limit order: amountMoney and leftMoney are 0).
   */
  orderFromBook(event: number, book: OrderBook, market: number, slot: number): void {
    const at = this.reserve(ORDER_RECORD.size);
    const w = this.views;
    const o = book.orders;
    w.u8[at + O_KIND] = EventKind.ORDER;
    w.u8[at + O_EVENT] = event;
    w.u8[at + O_SIDE] = o.side[slot]!;
    w.u8[at + O_TYPE] = TYPE_LIMIT;
    w.u16[(at + O_MARKET) >> 1] = market;
    w.u32[(at + O_USER) >> 2] = o.user[slot]!;
    w.i32[(at + O_SOURCE) >> 2] = o.source[slot]!;
    w.f64[(at + O_ID) >> 3] = o.id[slot]!;
    w.f64[(at + O_CTIME) >> 3] = o.ctime[slot]!;
    w.f64[(at + O_MTIME) >> 3] = o.mtime[slot]!;
    w.f64[(at + O_PRICE) >> 3] = o.price[slot]!;
    w.f64[(at + O_AMOUNT) >> 3] = o.amount[slot]!;
    w.f64[(at + O_LEFT) >> 3] = o.left[slot]!;
    w.f64[(at + O_DEAL_STOCK) >> 3] = o.dealStock[slot]!;
    w.f64[(at + O_TAKER_FEE) >> 3] = o.takerFee[slot]!;
    w.f64[(at + O_MAKER_FEE) >> 3] = o.makerFee[slot]!;
    const u32 = w.u32;
    const words = slot * 2;
    let p = (at + O_AMOUNT_MONEY) >> 2;
    u32[p] = 0;
    u32[p + 1] = 0;
    p = (at + O_LEFT_MONEY) >> 2;
    u32[p] = 0;
    u32[p + 1] = 0;
    p = (at + O_DEAL_MONEY) >> 2;
    u32[p] = o.dealMoneyWords[words]!;
    u32[p + 1] = o.dealMoneyWords[words + 1]!;
    p = (at + O_DEAL_FEE) >> 2;
    u32[p] = o.dealFeeWords[words]!;
    u32[p + 1] = o.dealFeeWords[words + 1]!;
    p = (at + O_FREEZE) >> 2;
    u32[p] = o.freezeWords[words]!;
    u32[p + 1] = o.freezeWords[words + 1]!;
  }

  /**
   * deal() without bigint, and without double arguments: the time, price, amount and the money
   * fields (non-negative integers below 2^53) come in `doubles`, at the DealDouble indexes. V8
   * boxes every double argument of a call it does not inline (an allocation per deal).
   */
  dealUnits(
    id: number, market: number, takerSide: number, askOrder: number, bidOrder: number, askUser: number, bidUser: number,
    doubles: Float64Array,
  ): void {
    const at = this.dealHead(id, market, takerSide, askOrder, bidOrder, askUser, bidUser, doubles);
    const u32 = this.views.u32;
    storeInt64WordsOf(u32, (at + D_DEAL_MONEY) >> 2, doubles, DealDouble.MONEY);
    storeInt64WordsOf(u32, (at + D_ASK_FEE) >> 2, doubles, DealDouble.ASK_FEE);
    storeInt64WordsOf(u32, (at + D_BID_FEE) >> 2, doubles, DealDouble.BID_FEE);
  }

  deal(
    id: number, time: number, market: number, takerSide: number, price: number, amount: number,
    askOrder: number, bidOrder: number, askUser: number, bidUser: number,
    dealMoney: bigint, askFee: bigint, bidFee: bigint,
  ): void {
    const doubles = this.dealDoubles;
    doubles[DealDouble.TIME] = time;
    doubles[DealDouble.PRICE] = price;
    doubles[DealDouble.AMOUNT] = amount;
    const at = this.dealHead(id, market, takerSide, askOrder, bidOrder, askUser, bidUser, doubles);
    const i64 = this.views.i64;
    i64[(at + D_DEAL_MONEY) >> 3] = dealMoney;
    i64[(at + D_ASK_FEE) >> 3] = askFee;
    i64[(at + D_BID_FEE) >> 3] = bidFee;
  }

  /**
   * Reserves a DEAL record and writes every field but the three money ones, the time, price and
   * amount from `doubles` (DealDouble indexes); returns its offset.
   */
  private dealHead(
    id: number, market: number, takerSide: number, askOrder: number, bidOrder: number, askUser: number, bidUser: number,
    doubles: Float64Array,
  ): number {
    const at = this.reserve(DEAL_RECORD.size);
    const w = this.views;
    w.u8[at + D_KIND] = EventKind.DEAL;
    w.u8[at + D_TAKER_SIDE] = takerSide;
    w.u16[(at + D_MARKET) >> 1] = market;
    w.u32[(at + D_ASK_USER) >> 2] = askUser;
    w.u32[(at + D_BID_USER) >> 2] = bidUser;
    w.f64[(at + D_ID) >> 3] = id;
    w.f64[(at + D_TIME) >> 3] = doubles[DealDouble.TIME]!;
    w.f64[(at + D_PRICE) >> 3] = doubles[DealDouble.PRICE]!;
    w.f64[(at + D_AMOUNT) >> 3] = doubles[DealDouble.AMOUNT]!;
    w.f64[(at + D_ASK_ORDER) >> 3] = askOrder;
    w.f64[(at + D_BID_ORDER) >> 3] = bidOrder;
    return at;
  }

  /** delta() of entry `i` of a DeltaLog, copied word by word (no bigint). */
  deltaFromLog(user: number, asset: number, log: DeltaLog, i: number): void {
    const at = this.reserve(DELTA_RECORD.size);
    const w = this.views;
    const f = DELTA_RECORD.at;
    w.u8[at + f.kind] = EventKind.DELTA;
    w.u16[(at + f.asset) >> 1] = asset;
    w.u32[(at + f.user) >> 2] = user;
    const words = i * 2;
    let p = (at + f.available) >> 2;
    w.u32[p] = log.availableWords[words]!;
    w.u32[p + 1] = log.availableWords[words + 1]!;
    p = (at + f.frozen) >> 2;
    w.u32[p] = log.frozenWords[words]!;
    w.u32[p + 1] = log.frozenWords[words + 1]!;
  }

  delta(user: number, asset: number, available: bigint, frozen: bigint): void {
    const at = this.reserve(DELTA_RECORD.size);
    const v = this.view;
    const f = DELTA_RECORD.at;
    v.setUint8(at + f.kind, EventKind.DELTA);
    v.setUint16(at + f.asset, asset, true);
    v.setUint32(at + f.user, user, true);
    v.setBigInt64(at + f.available, available, true);
    v.setBigInt64(at + f.frozen, frozen, true);
  }

  balance(
    user: number, asset: number, business: string, businessId: number, detail: string, time: number,
    change: bigint, available: bigint, frozen: bigint,
  ): void {
    const at = this.reserve(BALANCE_RECORD.size);
    const v = this.view;
    const f = BALANCE_RECORD.at;
    v.setUint8(at + f.kind, EventKind.BALANCE);
    v.setUint16(at + f.asset, asset, true);
    v.setUint32(at + f.user, user, true);
    v.setInt32(at + f.business, this.strings.push(business) - 1, true);
    v.setInt32(at + f.detail, this.strings.push(detail) - 1, true);
    v.setFloat64(at + f.businessId, businessId, true);
    v.setFloat64(at + f.time, time, true);
    v.setBigInt64(at + f.change, change, true);
    v.setBigInt64(at + f.available, available, true);
    v.setBigInt64(at + f.frozen, frozen, true);
  }
}

/** Size in bytes of the event record starting at `at`. */
export function eventRecordSize(bytes: Uint8Array, at: number): number {
  switch (bytes[at]) {
    case EventKind.ORDER:
      return ORDER_RECORD.size;
    case EventKind.DEAL:
      return DEAL_RECORD.size;
    case EventKind.BALANCE:
      return BALANCE_RECORD.size;
    case EventKind.DELTA:
      return DELTA_RECORD.size;
    default:
      throw new Error(`corrupt event buffer: kind ${bytes[at]} at byte ${at}`);
  }
}

/** Decodes every record in `bytes` into objects. Allocates: for consumers and tests, not the hot path. */
export function decodeEvents(bytes: Uint8Array, strings: readonly string[]): EventRecord[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: EventRecord[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    const kind = v.getUint8(at);
    switch (kind) {
      case EventKind.ORDER: {
        const o = readOrderRecord(v, at);
        out.push({ kind: EventKind.ORDER, event: v.getUint8(at + ORDER_RECORD.at.event), order: o });
        at += ORDER_RECORD.size;
        break;
      }
      case EventKind.DEAL: {
        const f = DEAL_RECORD.at;
        out.push({
          kind: EventKind.DEAL, id: v.getFloat64(at + f.id, true), time: v.getFloat64(at + f.time, true),
          market: v.getUint16(at + f.market, true), takerSide: v.getUint8(at + f.takerSide),
          price: v.getFloat64(at + f.price, true), amount: v.getFloat64(at + f.amount, true),
          askOrder: v.getFloat64(at + f.askOrder, true), bidOrder: v.getFloat64(at + f.bidOrder, true),
          askUser: v.getUint32(at + f.askUser, true), bidUser: v.getUint32(at + f.bidUser, true),
          dealMoney: v.getBigInt64(at + f.dealMoney, true), askFee: v.getBigInt64(at + f.askFee, true),
          bidFee: v.getBigInt64(at + f.bidFee, true),
        });
        at += DEAL_RECORD.size;
        break;
      }
      case EventKind.BALANCE: {
        const f = BALANCE_RECORD.at;
        out.push({
          kind: EventKind.BALANCE, user: v.getUint32(at + f.user, true), asset: v.getUint16(at + f.asset, true),
          business: strings[v.getInt32(at + f.business, true)] ?? '', businessId: v.getFloat64(at + f.businessId, true),
          detail: strings[v.getInt32(at + f.detail, true)] ?? '', time: v.getFloat64(at + f.time, true),
          change: v.getBigInt64(at + f.change, true), available: v.getBigInt64(at + f.available, true),
          frozen: v.getBigInt64(at + f.frozen, true),
        });
        at += BALANCE_RECORD.size;
        break;
      }
      case EventKind.DELTA: {
        const f = DELTA_RECORD.at;
        out.push({
          kind: EventKind.DELTA, user: v.getUint32(at + f.user, true), asset: v.getUint16(at + f.asset, true),
          available: v.getBigInt64(at + f.available, true), frozen: v.getBigInt64(at + f.frozen, true),
        });
        at += DELTA_RECORD.size;
        break;
      }
      default:
        throw new Error(`corrupt event buffer: kind ${kind} at byte ${at}`);
    }
  }
  return out;
}

/** Writes an order's state as an ORDER_RECORD at byte `at` (8-aligned) of `w`'s buffer. */
export function writeOrderRecord(w: RecordViews, at: number, event: number, o: OrderView): void {
  w.u8[at + O_KIND] = EventKind.ORDER;
  w.u8[at + O_EVENT] = event;
  w.u8[at + O_SIDE] = o.side;
  w.u8[at + O_TYPE] = o.type;
  w.u16[(at + O_MARKET) >> 1] = o.market;
  w.u32[(at + O_USER) >> 2] = o.user;
  w.i32[(at + O_SOURCE) >> 2] = o.source;
  w.f64[(at + O_ID) >> 3] = o.id;
  w.f64[(at + O_CTIME) >> 3] = o.ctime;
  w.f64[(at + O_MTIME) >> 3] = o.mtime;
  w.f64[(at + O_PRICE) >> 3] = o.price;
  w.f64[(at + O_AMOUNT) >> 3] = o.amount;
  w.f64[(at + O_LEFT) >> 3] = o.left;
  w.f64[(at + O_DEAL_STOCK) >> 3] = o.dealStock;
  w.f64[(at + O_TAKER_FEE) >> 3] = o.takerFee;
  w.f64[(at + O_MAKER_FEE) >> 3] = o.makerFee;
  // The money fields, stored in the same order in the view and the record, word by word (no bigint).
  const u32 = w.u32;
  const words = o.moneyWords;
  const p = (at + O_AMOUNT_MONEY) >> 2;
  for (let i = 0; i < MONEY_FIELDS * 2; i++) u32[p + i] = words[i]!;
}

/**
 * Reads an ORDER_RECORD at `at` into `into` (a new view by default: allocates), its money fields
 * word by word as the record stores them (no bigint). Returns `into`.
 */
export function readOrderRecord(v: DataView, at: number, into: OrderView = new OrderView()): OrderView {
  const f = ORDER_RECORD.at;
  const o = into;
  o.id = v.getFloat64(at + f.id, true);
  o.market = v.getUint16(at + f.market, true);
  o.side = v.getUint8(at + f.side);
  o.type = v.getUint8(at + f.type);
  o.user = v.getUint32(at + f.user, true);
  o.ctime = v.getFloat64(at + f.ctime, true);
  o.mtime = v.getFloat64(at + f.mtime, true);
  o.price = v.getFloat64(at + f.price, true);
  o.amount = v.getFloat64(at + f.amount, true);
  o.left = v.getFloat64(at + f.left, true);
  o.dealStock = v.getFloat64(at + f.dealStock, true);
  o.takerFee = v.getFloat64(at + f.takerFee, true);
  o.makerFee = v.getFloat64(at + f.makerFee, true);
  o.source = v.getInt32(at + f.source, true);
  const words = o.moneyWords;
  for (let i = 0; i < MONEY_FIELDS * 2; i++) words[i] = v.getUint32(at + O_AMOUNT_MONEY + 4 * i, true);
  return o;
}
