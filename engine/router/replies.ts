/** Decoding of reply records (router side). Allocates: the results go to promises and listeners. */
import { decodeEvents, ORDER_RECORD, readOrderRecord, type EventRecord } from '../core/events.js';
import type { OrderView } from '../core/order-view.js';
import { DEPTH_LEVEL, EVENTS_HEAD, Op, REPLY_HEAD, SUMMARY_BODY } from '../wire/commands.js';
import type { Depth, DepthLevel } from '../queries.js';
import type { CodeValue } from '../codes.js';

const utf8 = new TextDecoder();

export interface CommandReply {
  readonly code: CodeValue;
  /** Total matching records (pages), or 0/1 for commands. */
  readonly total: number;
  readonly orders: OrderView[];
  /** order.depth only (a shard's answer when the depth board cannot give it). */
  readonly depth?: Depth;
  /** market.summary only. */
  readonly summary: { askCount: number; bidCount: number; askAmount: bigint; bidAmount: bigint } | null;
}

export function readReply(v: DataView, at: number, length: number): CommandReply {
  const r = REPLY_HEAD.at;
  if (v.getUint8(at + r.op) === Op.QUERY_DEPTH && v.getInt32(at + r.code, true) === 0) {
    return { code: 0, total: 0, orders: [], summary: null, depth: readDepth(v, at) };
  }
  const count = v.getUint32(at + r.count, true);
  const orders: OrderView[] = [];
  for (let i = 0; i < count; i++) orders.push(readOrderRecord(v, at + REPLY_HEAD.size + i * ORDER_RECORD.size));
  let summary: CommandReply['summary'] = null;
  if (count === 0 && length >= REPLY_HEAD.size + SUMMARY_BODY.size) {
    const s = SUMMARY_BODY.at;
    const b = at + REPLY_HEAD.size;
    summary = {
      askCount: v.getFloat64(b + s.askCount, true), bidCount: v.getFloat64(b + s.bidCount, true),
      askAmount: v.getBigInt64(b + s.askAmount, true), bidAmount: v.getBigInt64(b + s.bidAmount, true),
    };
  }
  return { code: v.getInt32(at + r.code, true) as CodeValue, total: v.getFloat64(at + r.total, true), orders, summary };
}

/** Reads the levels of a QUERY_DEPTH reply. */
export function readDepth(v: DataView, at: number): Depth {
  const asks = v.getUint32(at + REPLY_HEAD.at.count, true);
  const bids = v.getFloat64(at + REPLY_HEAD.at.total, true);
  const levels: DepthLevel[] = [];
  for (let i = 0, p = at + REPLY_HEAD.size; i < asks + bids; i++, p += DEPTH_LEVEL.size) {
    levels.push({ price: v.getFloat64(p + DEPTH_LEVEL.at.price, true), amount: v.getBigInt64(p + DEPTH_LEVEL.at.amount, true) });
  }
  return { asks: levels.slice(0, asks), bids: levels.slice(asks) };
}

export function readRequestId(v: DataView, at: number): number {
  return v.getFloat64(at + REPLY_HEAD.at.request, true);
}

/** The event records of an EVENTS reply record, as a view of the ring (its strings left out). */
export function eventRecordBytes(v: DataView, at: number): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset + at + EVENTS_HEAD.size, v.getUint32(at + EVENTS_HEAD.at.eventBytes, true));
}

export function readEvents(v: DataView, at: number): EventRecord[] {
  const f = EVENTS_HEAD.at;
  const eventBytes = v.getUint32(at + f.eventBytes, true);
  const stringCount = v.getUint32(at + f.strings, true);
  const body = new Uint8Array(v.buffer, v.byteOffset + at + EVENTS_HEAD.size, eventBytes + v.getUint32(at + f.stringBytes, true));
  const strings: string[] = [];
  let p = eventBytes;
  for (let i = 0; i < stringCount; i++) {
    const length = body[p]! | (body[p + 1]! << 8);
    strings.push(utf8.decode(body.subarray(p + 2, p + 2 + length)));
    p += 2 + length;
  }
  return decodeEvents(body.subarray(0, eventBytes), strings);
}
