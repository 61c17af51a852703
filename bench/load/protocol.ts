/**
 * The standard workload (bench/gen/workload.ts) as JSON-RPC requests, and the checks every reply
 * goes through.
 *
 * Commands map to the HTTP methods: limit → order.put_limit, market → order.put_market, cancel →
 * order.cancel. Lots and ticks become decimal strings with the market's precisions (amounts at
 * stock_prec, market-bid money too, as ViaBTC; prices at money_prec; fee rates at fee_prec).
 *
 * Order ids: the generator predicts the ids a fresh engine hands out in stream order, but under
 * load the requests of many connections reach the server in a slightly different order, so the
 * server's ids differ. Each place reply's id is recorded against the predicted one, and a cancel
 * names the server's id of its target; when that is not known yet (its place is still in flight) or
 * never will be (the place failed), the cancel is skipped and counted. The reordering also makes the
 * server's outcome differ a little from the generator's shadow book: a cancel may find its target
 * filled (error 10 "order not found") and a market order an empty side (error 12 "no enough
 * trader"); both are answers a correct exchange gives, counted by code, never failures.
 */
import { Op, type Workload } from '../gen/workload.js';
import type { MarketSpec } from '../../engine/money/specs.js';
import { scanOrderReply } from './reply-scan.js';

/** A non-negative integer count of 10^-decimals units as a plain decimal string ("0.0012", "15"). */
export function fixed(units: number, decimals: number): string {
  const digits = String(units);
  if (decimals === 0) return digits;
  const padded = digits.length > decimals ? digits : digits.padStart(decimals + 1, '0');
  const cut = padded.length - decimals;
  let end = padded.length;
  while (end > cut && padded.charCodeAt(end - 1) === 48) end--;
  return end === cut ? padded.slice(0, cut) : `${padded.slice(0, cut)}.${padded.slice(cut, end)}`;
}

export type Method = 'order.put_limit' | 'order.put_market' | 'order.cancel';
export const METHODS: readonly Method[] = ['order.put_limit', 'order.put_market', 'order.cancel'];

/** What one reply said, after its checks. */
export interface Checked {
  /** Null on success, else the protocol error code. */
  readonly code: number | null;
  /** The order's id (place and cancel replies on success), else 0. */
  readonly orderId: number;
  /** The order traded at least once (deal_stock ≠ "0"). */
  readonly traded: boolean;
}

/** A reply that breaks the protocol's envelope or result shape: the run fails. */
export class MalformedReply extends Error {}

function fail(why: string, body: string): never {
  throw new MalformedReply(`${why}: ${body.length > 300 ? `${body.slice(0, 300)}…` : body}`);
}

/** Checks a JSON-RPC reply envelope ({error, result, id}) and returns its parsed value. */
export function checkEnvelope(body: string, id: number): { error: { code: number; message: string } | null; result: unknown } {
  let reply: unknown;
  try {
    reply = JSON.parse(body);
  } catch {
    return fail('reply is not JSON', body);
  }
  return envelopeOf(reply, id, body);
}

function envelopeOf(reply: unknown, id: number, body: string): { error: { code: number; message: string } | null; result: unknown } {
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) fail('reply is not an object', body);
  const r = reply as Record<string, unknown>;
  if (r.id !== id) fail(`reply id ${String(r.id)} for request ${id}`, body);
  if (!('result' in r) || !('error' in r)) fail('reply without result or error', body);
  if (r.error === null) return { error: null, result: r.result };
  const e = r.error as Record<string, unknown>;
  if (typeof e !== 'object' || typeof e.code !== 'number' || typeof e.message !== 'string' || r.result !== null) {
    fail('malformed error reply', body);
  }
  return { error: { code: e.code, message: e.message }, result: null };
}

const ORDER_FIELDS = ['market', 'source', 'price', 'amount', 'taker_fee', 'maker_fee', 'left', 'deal_stock', 'deal_money', 'deal_fee'] as const;

/**
 * Checks the reply to a place or cancel: an error, or the order object with the fields the protocol
 * promises. The gateway's usual text is checked by a scan (reply-scan.ts), anything else through JSON.parse.
 */
export function checkOrderReply(body: string, id: number, user: number, market: string): Checked {
  return scanOrderReply(body, id, user, market) ?? checkOrderEnvelope(checkEnvelope(body, id), body, user, market);
}

/** Checks one parsed reply of a batch (an element of the reply array) as checkOrderReply does. */
export function checkOrderItem(item: unknown, id: number, user: number, market: string, body: string): Checked {
  return checkOrderEnvelope(envelopeOf(item, id, body), body, user, market);
}

function checkOrderEnvelope(
  { error, result }: { error: { code: number; message: string } | null; result: unknown }, body: string, user: number, market: string,
): Checked {
  if (error !== null) return { code: error.code, orderId: 0, traded: false };
  const o = result as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) return fail('order reply without an order', body);
  if (typeof o.id !== 'number' || !Number.isSafeInteger(o.id) || o.id <= 0) fail('order without a valid id', body);
  if (o.user !== user || o.market !== market) fail(`order of user ${String(o.user)} in ${String(o.market)}, sent for ${user} in ${market}`, body);
  if (typeof o.side !== 'number' || typeof o.type !== 'number' || typeof o.ctime !== 'number' || typeof o.mtime !== 'number') fail('order with bad numeric fields', body);
  for (const field of ORDER_FIELDS) if (typeof o[field] !== 'string') fail(`order field ${field} is not a string`, body);
  return { code: null, orderId: o.id, traded: o.deal_stock !== '0' };
}

/**
 * Which of the stream's commands are sent: `all`, or `limit` — only its limit orders, passive and
 * crossing (workload http-limit: order.put_limit alone); the others are passed over.
 */
export type CommandFilter = 'all' | 'limit';

/** Formats the workload's commands as request bodies, resolving cancel targets to the server's ids. */
export class RequestFormatter {
  /** The position in the command stream, shared by every sender of a run (the books carry over). */
  cursor = 0;
  /** Server id of each predicted order id (0: not known). */
  private readonly actual: Float64Array;
  /** The user who placed each predicted order id, when not the stream's (WebSocket sessions place as their own user); 0 = the stream's. */
  private readonly owner: Uint32Array;
  /** Predicted id of the order each place command creates (0 for cancels). */
  private readonly predicted: Float64Array;
  private readonly amountText: (m: MarketSpec, lots: number) => string;
  private readonly fee: (m: MarketSpec) => [string, string];
  private readonly specs: readonly (MarketSpec | undefined)[];

  constructor(readonly w: Workload, readonly filter: CommandFilter = 'all') {
    const n = w.commands;
    this.predicted = new Float64Array(n);
    let next = 1;
    for (let i = 0; i < n; i++) if (w.op[i] !== Op.CANCEL) this.predicted[i] = next++;
    this.actual = new Float64Array(next);
    this.owner = new Uint32Array(next);
    const byIndex: (MarketSpec | undefined)[] = [];
    for (const m of w.markets) byIndex[m.index] = m;
    this.specs = byIndex;
    this.amountText = (m, lots) => fixed(lots, m.stockPrec);
    const fees = new Map<number, [string, string]>();
    for (const m of w.markets) fees.set(m.index, [fixed(w.takerFee, m.feePrec), fixed(w.makerFee, m.feePrec)]);
    this.fee = (m) => fees.get(m.index)!;
  }

  /** Whether command i is sent under the filter (a command that is not is passed over, never counted as skipped). */
  sends(i: number): boolean {
    return this.filter === 'all' || this.w.op[i] === Op.LIMIT;
  }

  market(i: number): MarketSpec {
    return this.specs[this.w.market[i]!]!;
  }

  method(i: number): Method {
    const op = this.w.op[i];
    return op === Op.LIMIT ? 'order.put_limit' : op === Op.MARKET ? 'order.put_market' : 'order.cancel';
  }

  /**
   * The body of command i with request id `id` and order source `source`, or null for a cancel whose
   * target's server id is not known (skip it).
   */
  body(i: number, id: number, source: string): string | null {
    const w = this.w;
    const m = this.market(i);
    const user = w.user[i]!;
    const op = w.op[i];
    if (op === Op.CANCEL) {
      const target = this.actual[w.target[i]!] ?? 0;
      if (target === 0) return null;
      return `{"id":${id},"method":"order.cancel","params":[${this.userOf(i)},"${m.name}",${target}]}`;
    }
    const [taker, maker] = this.fee(m);
    const amount = this.amountText(m, w.amount[i]!);
    if (op === Op.MARKET) {
      return `{"id":${id},"method":"order.put_market","params":[${user},"${m.name}",${w.side[i]},"${amount}","${taker}","${source}"]}`;
    }
    const price = fixed(w.price[i]!, m.moneyPrec);
    return `{"id":${id},"method":"order.put_limit","params":[${user},"${m.name}",${w.side[i]},"${amount}","${price}","${taker}","${maker}","${source}"]}`;
  }

  /** The user HTTP sends command i for: its own, except a cancel of an order a WebSocket session placed as its user. */
  userOf(i: number): number {
    const w = this.w;
    return (w.op[i] === Op.CANCEL ? this.owner[w.target[i]!] : 0) || w.user[i]!;
  }

  /** The server's id of the order cancel command i targets, or 0 when not known (its place is in flight or failed). */
  cancelTarget(i: number): number {
    return this.actual[this.w.target[i]!] ?? 0;
  }

  /**
   * The WebSocket request of command i (the HTTP params without the user id: the session's user
   * places it), or null for a cancel whose target's server id is not known (skip it).
   */
  wsBody(i: number, id: number, source: string): string | null {
    const w = this.w;
    const m = this.market(i);
    const op = w.op[i];
    if (op === Op.CANCEL) {
      const target = this.cancelTarget(i);
      return target === 0 ? null : `{"id":${id},"method":"order.cancel","params":["${m.name}",${target}]}`;
    }
    const [taker, maker] = this.fee(m);
    const amount = this.amountText(m, w.amount[i]!);
    if (op === Op.MARKET) return `{"id":${id},"method":"order.put_market","params":["${m.name}",${w.side[i]},"${amount}","${taker}","${source}"]}`;
    const price = fixed(w.price[i]!, m.moneyPrec);
    return `{"id":${id},"method":"order.put_limit","params":["${m.name}",${w.side[i]},"${amount}","${price}","${taker}","${maker}","${source}"]}`;
  }

  /** Records the server's id of the order command i placed (by `user` when not the stream's user). */
  placed(i: number, serverId: number, user = 0): void {
    const p = this.predicted[i] ?? 0;
    if (p > 0) {
      this.actual[p] = serverId;
      if (user !== 0 && user !== this.w.user[i]) this.owner[p] = user;
    }
  }
}
