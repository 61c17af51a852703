/**
 * Binary records between the router and the shards. Every command starts with the same head
 * (opcode, market, user, request id, time); replies start with the reply head and carry order
 * records in the ORDER_RECORD layout of core/events.ts. Variable-length text (balance.update's
 * business and detail, a source label the shard has not seen yet) follows the fixed part as UTF-8.
 */
import { defineLayout, type FieldType } from './layout.js';

export const Op = {
  PLACE_LIMIT: 1,
  PLACE_MARKET: 2,
  CANCEL: 3,
  BALANCE_UPDATE: 4,
  QUERY_PENDING: 10,
  QUERY_ORDER: 11,
  QUERY_BOOK: 12,
  QUERY_SUMMARY: 13,
  QUERY_DEPTH: 14,
} as const;
export type OpValue = (typeof Op)[keyof typeof Op];

/** Command flag: a source label follows the fixed part (u8 length + UTF-8 bytes). */
export const FLAG_SOURCE_TEXT = 1;

const HEAD = [
  ['op', 'u8'], ['flags', 'u8'], ['market', 'u16'], ['user', 'u32'], ['request', 'f64'], ['time', 'f64'],
] as const satisfies readonly (readonly [string, FieldType])[];

export const COMMAND_HEAD = defineLayout(HEAD);
export const PLACE_LIMIT = defineLayout([
  ...HEAD, ['side', 'u8'], ['source', 'i32'], ['amount', 'f64'], ['price', 'f64'], ['takerFee', 'f64'], ['makerFee', 'f64'],
] as const);
export const PLACE_MARKET = defineLayout([
  ...HEAD, ['side', 'u8'], ['source', 'i32'], ['amount', 'f64'], ['takerFee', 'f64'],
] as const);
export const CANCEL = defineLayout([...HEAD, ['orderId', 'f64']] as const);
export const BALANCE_UPDATE = defineLayout([
  ...HEAD, ['asset', 'u16'], ['businessBytes', 'u16'], ['detailBytes', 'u32'], ['businessId', 'f64'], ['change', 'i64'],
] as const);
export const QUERY_PENDING = defineLayout([...HEAD, ['limit', 'u32'], ['offset', 'f64']] as const);
export const QUERY_ORDER = defineLayout([...HEAD, ['orderId', 'f64']] as const);
export const QUERY_BOOK = defineLayout([...HEAD, ['side', 'u8'], ['limit', 'u32'], ['offset', 'f64']] as const);
export const QUERY_SUMMARY = COMMAND_HEAD;
export const QUERY_DEPTH = defineLayout([...HEAD, ['limit', 'u32'], ['interval', 'f64']] as const);

export const ReplyKind = { RESULT: 1, EVENTS: 2 } as const;

/** A command's result: code, then `count` order records (place/cancel: 0 or 1; queries: a page). */
export const REPLY_HEAD = defineLayout([
  ['kind', 'u8'], ['op', 'u8'], ['code', 'i32'], ['request', 'f64'], ['count', 'u32'], ['total', 'f64'],
] as const);

/** market.summary's result, after a REPLY_HEAD with count 0. */
export const SUMMARY_BODY = defineLayout([
  ['askCount', 'f64'], ['bidCount', 'f64'], ['askAmount', 'i64'], ['bidAmount', 'i64'],
] as const);

/** order.depth's result: a REPLY_HEAD with count = ask levels and total = bid levels, then that many of these (asks first). */
export const DEPTH_LEVEL = defineLayout([['price', 'f64'], ['amount', 'i64']] as const);

/** The events of one batch: the event bytes, then the strings BALANCE records refer to (u16 length + UTF-8 each). */
export const EVENTS_HEAD = defineLayout([['kind', 'u8'], ['eventBytes', 'u32'], ['strings', 'u32'], ['stringBytes', 'u32']] as const);

/** Size of a command with its variable tail, rounded up to 8 bytes. */
export function align8(bytes: number): number {
  return (bytes + 7) & ~7;
}
