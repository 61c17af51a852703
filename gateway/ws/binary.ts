/**
 * Binary order entry over WebSocket (our extension; README, "WebSocket order entry"): a binary
 * frame whose first byte is below 0x09 — a byte no JSON text can start with — carries one or more
 * fixed 72-byte request records, and is answered by one binary frame of 104-byte reply records,
 * in the same order. Little-endian throughout; integers in the market's own units (lots of
 * 10^-stock_prec, ticks of 10^-money_prec, fee ticks of 10^-fee_prec), so nothing is parsed.
 * Every field is checked with the rules of the JSON methods and answered with their error codes.
 *
 * Offsets are chained constants, defined once here (gateway/ws/test/binary.test.ts pins them to
 * the table in the README).
 */
import { SIDE_ASK, SIDE_BID, TYPE_MARKET } from '../../engine/book/order-columns.js';
import type { OrderView } from '../../engine/core/order-view.js';
import { MAX_LABEL_BYTES } from '../../engine/engine.js';
import type { Specs } from '../../engine/money/specs.js';
import { INVALID_ARGUMENT, METHOD_NOT_FOUND } from '../rpc/errors.js';
import { OrderOp, type OrderCommand } from '../rpc/order-entry.js';

/** A binary frame whose first byte is below this is an order-entry frame (tab, 0x09, is JSON whitespace). */
export const FIRST_JSON_BYTE = 0x09;

// Request record.
export const REQ_OP = 0; // u8: 1 order.put_limit, 2 order.put_market, 3 order.cancel
export const REQ_SIDE = REQ_OP + 1; // u8: 1 ask, 2 bid (put_limit, put_market); 0 for cancel
export const REQ_MARKET = REQ_SIDE + 1; // u16: index in market.list order
export const REQ_ID = REQ_MARKET + 2; // u32: echoed in the reply
export const REQ_AMOUNT = REQ_ID + 4; // u64: lots (put_limit, put_market); the order id (cancel)
export const REQ_PRICE = REQ_AMOUNT + 8; // u64: ticks (put_limit); else 0
export const REQ_TAKER_FEE = REQ_PRICE + 8; // u64: fee ticks (put_limit, put_market); else 0
export const REQ_MAKER_FEE = REQ_TAKER_FEE + 8; // u64: fee ticks (put_limit); else 0
export const REQ_SOURCE_LENGTH = REQ_MAKER_FEE + 8; // u8: bytes of source, 0–30 (put_limit, put_market); else 0
export const REQ_SOURCE = REQ_SOURCE_LENGTH + 1; // 30 bytes: source, UTF-8, zero after its length
export const REQ_PAD = REQ_SOURCE + MAX_LABEL_BYTES; // u8: 0
export const REQUEST_SIZE = REQ_PAD + 1;

// Reply record.
export const REP_OP = 0; // u8: the request's op
export const REP_SIDE = REP_OP + 1; // u8: the request's side
export const REP_MARKET = REP_SIDE + 1; // u16: the request's market
export const REP_ID = REP_MARKET + 2; // u32: the request's id
export const REP_ERROR = REP_ID + 4; // i32: 0 = success, else the JSON error code (1, 2, 3, 4, 6, 10, 11, 12)
export const REP_TYPE = REP_ERROR + 4; // u8: the order's type, 1 limit, 2 market (0 on error)
export const REP_PAD = REP_TYPE + 1; // 3 bytes: 0
export const REP_ORDER_ID = REP_PAD + 3; // u64: the order's id (0 on error; all fields below too)
export const REP_CTIME = REP_ORDER_ID + 8; // u64: microseconds since the epoch
export const REP_MTIME = REP_CTIME + 8; // u64: microseconds since the epoch
export const REP_PRICE = REP_MTIME + 8; // u64: ticks (0 for market orders)
export const REP_AMOUNT = REP_PRICE + 8; // u64: lots; a market bid: money in units of its prec_save
export const REP_LEFT = REP_AMOUNT + 8; // u64: as amount
export const REP_DEAL_STOCK = REP_LEFT + 8; // u64: lots
export const REP_DEAL_MONEY = REP_DEAL_STOCK + 8; // u64: money in units of its prec_save
export const REP_DEAL_FEE = REP_DEAL_MONEY + 8; // u64: units of prec_save of the asset received (ask: money, bid: stock)
export const REP_TAKER_FEE = REP_DEAL_FEE + 8; // u64: fee ticks
export const REP_MAKER_FEE = REP_TAKER_FEE + 8; // u64: fee ticks
export const REPLY_SIZE = REP_MAKER_FEE + 8;

const TWO_32 = 2 ** 32;
/** The high word of a u64 below 2^53. */
const MAX_HIGH = 2 ** 21;

/** Whether a frame is binary order entry (binary, and starts with a byte no JSON text starts with). */
export function isOrderFrame(message: ArrayBuffer, isBinary: boolean): boolean {
  return isBinary && message.byteLength > 0 && new Uint8Array(message, 0, 1)[0]! < FIRST_JSON_BYTE;
}

/** Whether the record at `at` names a known op (else it is answered 4, "method not found"). */
export function validOp(v: DataView, at: number): boolean {
  const op = v.getUint8(at + REQ_OP);
  return op === OrderOp.PUT_LIMIT || op === OrderOp.PUT_MARKET || op === OrderOp.CANCEL;
}

/** Records in an order-entry frame, or 0 when its length is not a whole number of them (the frame is unreadable). */
export function recordCount(message: ArrayBuffer): number {
  const n = message.byteLength / REQUEST_SIZE;
  return Number.isInteger(n) ? n : 0;
}

/** A u64 below 2^53 at `at`, or -1 when it is larger. */
function u53(v: DataView, at: number): number {
  const high = v.getUint32(at + 4, true);
  return high < MAX_HIGH ? high * TWO_32 + v.getUint32(at, true) : -1;
}

function setU64(v: DataView, at: number, value: number): void {
  v.setUint32(at, value % TWO_32, true);
  v.setUint32(at + 4, Math.floor(value / TWO_32), true);
}

function setBigU64(v: DataView, at: number, value: bigint): void {
  v.setBigUint64(at, value, true);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and checks the record at `at` into `into` (for `user`). Returns 0 when it is a valid
 * command, else the protocol error code to answer (4 for an unknown op, 1 for any bad field).
 * `sources` caches the last source text decoded (most frames repeat one).
 */
export function readRequest(v: DataView, at: number, specs: Specs, user: number, into: OrderCommand, sources: SourceCache): number {
  const op = v.getUint8(at + REQ_OP);
  if (op !== OrderOp.PUT_LIMIT && op !== OrderOp.PUT_MARKET && op !== OrderOp.CANCEL) return METHOD_NOT_FOUND.code;
  const spec = specs.markets[v.getUint16(at + REQ_MARKET, true)];
  if (spec === undefined) return INVALID_ARGUMENT.code;
  const side = v.getUint8(at + REQ_SIDE);
  const amount = u53(v, at + REQ_AMOUNT);
  const price = u53(v, at + REQ_PRICE);
  const takerFee = u53(v, at + REQ_TAKER_FEE);
  const makerFee = u53(v, at + REQ_MAKER_FEE);
  const sourceLength = v.getUint8(at + REQ_SOURCE_LENGTH);
  if (amount <= 0 || price < 0 || takerFee < 0 || makerFee < 0 || sourceLength > MAX_LABEL_BYTES) return INVALID_ARGUMENT.code;
  for (let i = at + REQ_SOURCE + sourceLength; i < at + REQUEST_SIZE; i++) if (v.getUint8(i) !== 0) return INVALID_ARGUMENT.code;
  into.op = op;
  into.user = user;
  into.market = spec.index;
  if (op === OrderOp.CANCEL) {
    if (side !== 0 || price !== 0 || takerFee !== 0 || makerFee !== 0 || sourceLength !== 0) return INVALID_ARGUMENT.code;
    into.orderId = amount;
    into.side = 0;
    into.amount = 0;
    into.price = 0;
    into.takerFee = 0;
    into.makerFee = 0;
    into.source = '';
    return 0;
  }
  const maxFee = FEE_LIMIT[spec.feePrec]!;
  if ((side !== SIDE_ASK && side !== SIDE_BID) || takerFee >= maxFee) return INVALID_ARGUMENT.code;
  if (op === OrderOp.PUT_LIMIT) {
    if (price <= 0 || makerFee >= maxFee) return INVALID_ARGUMENT.code;
  } else if (price !== 0 || makerFee !== 0) {
    return INVALID_ARGUMENT.code;
  }
  const source = sources.read(v, at + REQ_SOURCE, sourceLength);
  if (source === null) return INVALID_ARGUMENT.code;
  into.side = side;
  into.amount = amount;
  into.price = price;
  into.takerFee = takerFee;
  into.makerFee = makerFee;
  into.source = source;
  into.orderId = 0;
  return 0;
}

/** Fee ticks must be below 10^fee_prec (a rate in [0, 1)), exact for every fee_prec the config allows. */
const FEE_LIMIT = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** The last source decoded, to skip decoding when the next record carries the same bytes. */
export class SourceCache {
  private bytes = new Uint8Array(0);
  private text = '';

  /** The UTF-8 text of `length` bytes at `at`, or null when they are not valid UTF-8. */
  read(v: DataView, at: number, length: number): string | null {
    const bytes = new Uint8Array(v.buffer, v.byteOffset + at, length);
    if (sameBytes(bytes, this.bytes)) return this.text;
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return null;
    }
    this.bytes = bytes.slice();
    this.text = text;
    return text;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Writes the head of a reply record: the request's op, side, market and id, and the error code (0 = success). */
export function writeReplyHead(out: DataView, at: number, request: DataView, requestAt: number, error: number): void {
  out.setUint8(at + REP_OP, request.getUint8(requestAt + REQ_OP));
  out.setUint8(at + REP_SIDE, request.getUint8(requestAt + REQ_SIDE));
  out.setUint16(at + REP_MARKET, request.getUint16(requestAt + REQ_MARKET, true), true);
  out.setUint32(at + REP_ID, request.getUint32(requestAt + REQ_ID, true), true);
  out.setInt32(at + REP_ERROR, error, true);
}

/** Sets the error code of a reply record whose head was written (its order fields stay 0). */
export function writeReplyError(out: DataView, at: number, error: number): void {
  out.setInt32(at + REP_ERROR, error, true);
}

/** Writes the order of a successful reply (the head was written with error 0). */
export function writeReplyOrder(out: DataView, at: number, o: OrderView): void {
  const marketBid = o.type === TYPE_MARKET && o.side === SIDE_BID;
  out.setUint8(at + REP_SIDE, o.side);
  out.setUint8(at + REP_TYPE, o.type);
  setU64(out, at + REP_ORDER_ID, o.id);
  setU64(out, at + REP_CTIME, o.ctime);
  setU64(out, at + REP_MTIME, o.mtime);
  setU64(out, at + REP_PRICE, o.price);
  if (marketBid) {
    setBigU64(out, at + REP_AMOUNT, o.amountMoney);
    setBigU64(out, at + REP_LEFT, o.leftMoney);
  } else {
    setU64(out, at + REP_AMOUNT, o.amount);
    setU64(out, at + REP_LEFT, o.left);
  }
  setU64(out, at + REP_DEAL_STOCK, o.dealStock);
  setBigU64(out, at + REP_DEAL_MONEY, o.dealMoney);
  setBigU64(out, at + REP_DEAL_FEE, o.dealFee);
  setU64(out, at + REP_TAKER_FEE, o.takerFee);
  setU64(out, at + REP_MAKER_FEE, o.makerFee);
}

// Client side: what a client writes and reads (tests, the load generator, and a reference for client authors).

/** A request record's fields, as a client fills them. */
export interface BinaryRequest {
  readonly op: number;
  readonly side: number;
  readonly market: number;
  readonly id: number;
  /** Lots (put_limit, put_market) or the order id (cancel). */
  readonly amount: number;
  readonly price: number;
  readonly takerFee: number;
  readonly makerFee: number;
  /** UTF-8 bytes of the source label. */
  readonly source: Uint8Array;
}

/** Writes a request record at `at` (every byte of the record, padding zeroed). */
export function writeRequest(v: DataView, at: number, r: BinaryRequest): void {
  new Uint8Array(v.buffer, v.byteOffset + at, REQUEST_SIZE).fill(0);
  v.setUint8(at + REQ_OP, r.op);
  v.setUint8(at + REQ_SIDE, r.side);
  v.setUint16(at + REQ_MARKET, r.market, true);
  v.setUint32(at + REQ_ID, r.id, true);
  setU64(v, at + REQ_AMOUNT, r.amount);
  setU64(v, at + REQ_PRICE, r.price);
  setU64(v, at + REQ_TAKER_FEE, r.takerFee);
  setU64(v, at + REQ_MAKER_FEE, r.makerFee);
  v.setUint8(at + REQ_SOURCE_LENGTH, r.source.length);
  new Uint8Array(v.buffer, v.byteOffset + at + REQ_SOURCE, r.source.length).set(r.source);
}

/** A reply record's fields, as a client reads them. u64 fields are numbers (exact below 2^53), money fields bigints. */
export interface BinaryReply {
  op: number;
  side: number;
  market: number;
  id: number;
  error: number;
  type: number;
  orderId: number;
  ctime: number;
  mtime: number;
  price: number;
  amount: bigint;
  left: bigint;
  dealStock: number;
  dealMoney: bigint;
  dealFee: bigint;
  takerFee: number;
  makerFee: number;
}

function getU64(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * TWO_32 + v.getUint32(at, true);
}

/** Reads the reply record at `at`. */
export function readReply(v: DataView, at: number): BinaryReply {
  return {
    op: v.getUint8(at + REP_OP),
    side: v.getUint8(at + REP_SIDE),
    market: v.getUint16(at + REP_MARKET, true),
    id: v.getUint32(at + REP_ID, true),
    error: v.getInt32(at + REP_ERROR, true),
    type: v.getUint8(at + REP_TYPE),
    orderId: getU64(v, at + REP_ORDER_ID),
    ctime: getU64(v, at + REP_CTIME),
    mtime: getU64(v, at + REP_MTIME),
    price: getU64(v, at + REP_PRICE),
    amount: v.getBigUint64(at + REP_AMOUNT, true),
    left: v.getBigUint64(at + REP_LEFT, true),
    dealStock: getU64(v, at + REP_DEAL_STOCK),
    dealMoney: v.getBigUint64(at + REP_DEAL_MONEY, true),
    dealFee: v.getBigUint64(at + REP_DEAL_FEE, true),
    takerFee: getU64(v, at + REP_TAKER_FEE),
    makerFee: getU64(v, at + REP_MAKER_FEE),
  };
}
