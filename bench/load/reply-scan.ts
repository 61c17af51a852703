/**
 * The generator's cheap path for checking a place or cancel reply: the text the gateway prints for
 * a successful one (gateway/rpc/format.ts `orderJson` inside envelope.ts's `resultJsonReply`) is
 * matched by one regular expression — that text's grammar — instead of going through JSON.parse:
 * ~0.25 µs against ~1.6 µs per reply, on the two cores the generator shares with the server.
 *
 * It accepts only that exact serialization — these members in this order, no whitespace, strings
 * without escapes or control characters, JSON numbers, plain integers for the ids and the user —
 * and returns what protocol.ts's JSON path returns for it; anything else (an error reply, another
 * spelling, a wrong id, user or market) gives null and the JSON path decides, so every reply is
 * still checked as strictly as before. Every text accepted here is valid JSON that the JSON path
 * accepts with the same result.
 */
import type { Checked } from './protocol.js';

/** A JSON string without escapes or control characters; `CAPTURED` captures its content. */
const STRING = '"[^"\\\\\\u0000-\\u001f]*"';
const CAPTURED = '"([^"\\\\\\u0000-\\u001f]*)"';
const NUMBER = '-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?';
/** A positive integer of at most 16 digits (whether it is a safe integer is checked after the match). */
const INTEGER = '([1-9]\\d{0,15})';

/** Captures: 1 order id, 2 market, 3 user, 4 deal_stock, 5 request id. */
const ORDER_REPLY = new RegExp(
  `^\\{"error":null,"result":\\{"id":${INTEGER},"market":${CAPTURED},"source":${STRING},"type":${NUMBER},"side":${NUMBER},` +
    `"user":${INTEGER},"ctime":${NUMBER},"mtime":${NUMBER},"price":${STRING},"amount":${STRING},"taker_fee":${STRING},` +
    `"maker_fee":${STRING},"left":${STRING},"deal_stock":${CAPTURED},"deal_money":${STRING},"deal_fee":${STRING}\\},"id":${INTEGER}\\}$`,
);

/** The safe integer a captured INTEGER spells, or -1. */
function safeInteger(digits: string | undefined): number {
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : -1;
}

/**
 * checkOrderReply's answer for a successful place or cancel reply in the gateway's exact
 * serialization, for request `id` of `user` in `market`; null for any other text.
 */
export function scanOrderReply(body: string, id: number, user: number, market: string): Checked | null {
  const m = ORDER_REPLY.exec(body);
  if (m === null || safeInteger(m[5]) !== id || safeInteger(m[3]) !== user || m[2] !== market) return null;
  const orderId = safeInteger(m[1]);
  return orderId > 0 ? { code: null, orderId, traded: m[4] !== '0' } : null;
}
