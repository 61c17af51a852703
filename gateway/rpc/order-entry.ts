/**
 * Order entry, shared by every transport: the positional params of order.put_limit,
 * order.put_market and order.cancel after the user id (HTTP sends the user id first, a WebSocket
 * session knows its user), read into an OrderCommand of integer units; the command sent to the
 * engine; the engine's answer turned into the protocol's result or error.
 */
import { Code, type CodeValue } from '../../engine/codes.js';
import { MAX_LABEL_BYTES } from '../../engine/engine.js';
import type { Specs } from '../../engine/money/specs.js';
import type { CommandReply } from '../../engine/router/replies.js';
import type { ReplyCallback, ReplyView } from '../../engine/router/router.js';
import type { EngineBackend, MaybePromise } from './backend.js';
import { protocolError, type ErrorContext, type RpcError } from './errors.js';
import { orderInfo, orderJson } from './format.js';
import * as p from './params.js';

/** The order-entry operations; also the op byte of the binary WebSocket records (gateway/ws/binary.ts). */
export const OrderOp = { PUT_LIMIT: 1, PUT_MARKET: 2, CANCEL: 3 } as const;
export type OrderOpValue = (typeof OrderOp)[keyof typeof OrderOp];

/** The method of each operation, which is also the context of its error codes 10–12. */
export const ORDER_METHOD: Readonly<Record<OrderOpValue, ErrorContext>> = {
  [OrderOp.PUT_LIMIT]: 'order.put_limit',
  [OrderOp.PUT_MARKET]: 'order.put_market',
  [OrderOp.CANCEL]: 'order.cancel',
};

/** The operation of an order-entry method name, or 0. */
export function orderOpOf(method: string): OrderOpValue | 0 {
  switch (method) {
    case 'order.put_limit':
      return OrderOp.PUT_LIMIT;
    case 'order.put_market':
      return OrderOp.PUT_MARKET;
    case 'order.cancel':
      return OrderOp.CANCEL;
    default:
      return 0;
  }
}

/** Params after the user id: [market, side, amount, price, taker_fee, maker_fee, source], [market, side, amount, taker_fee, source], [market, order_id]. */
const PARAMS_AFTER_USER: Readonly<Record<OrderOpValue, number>> = { 1: 7, 2: 5, 3: 2 };

/**
 * A checked place or cancel, in integer units (lots, ticks, fee ticks). Fields not used by `op` are
 * not read (a command reused as scratch keeps the previous command's values there).
 */
export class OrderCommand {
  op: OrderOpValue = OrderOp.PUT_LIMIT;
  user = 0;
  market = 0;
  side = 0;
  amount = 0;
  price = 0;
  takerFee = 0;
  makerFee = 0;
  source = '';
  orderId = 0;
}

/**
 * Reads the params of `op` that follow the user id, starting at params[at]; there must be exactly
 * that many. Throws InvalidParams ("invalid argument") on the first bad one, as the HTTP methods do.
 */
export function readOrderParams(specs: Specs, op: OrderOpValue, params: readonly unknown[], at: number, into: OrderCommand): OrderCommand {
  p.expectCount(params, at + PARAMS_AFTER_USER[op]);
  const m = p.market(specs, params[at]);
  into.op = op;
  into.market = m.index;
  switch (op) {
    case OrderOp.PUT_LIMIT:
      into.side = p.side(params[at + 1]);
      into.amount = p.quantity(params[at + 2], m.stockPrec);
      into.price = p.quantity(params[at + 3], m.moneyPrec);
      into.takerFee = p.feeRate(params[at + 4], m);
      into.makerFee = p.feeRate(params[at + 5], m);
      into.source = p.text(params[at + 6], MAX_LABEL_BYTES);
      break;
    case OrderOp.PUT_MARKET:
      into.side = p.side(params[at + 1]);
      into.amount = p.quantity(params[at + 2], m.stockPrec);
      into.takerFee = p.feeRate(params[at + 3], m);
      into.source = p.text(params[at + 4], MAX_LABEL_BYTES);
      break;
    case OrderOp.CANCEL:
      into.orderId = p.integer(params[at + 1], 1, Number.MAX_SAFE_INTEGER);
      break;
  }
  return into;
}

/** Reads HTTP's params of `op` — [user_id, ...the rest] — into `into`. Throws InvalidParams. */
export function readOrderRequest(specs: Specs, op: OrderOpValue, params: readonly unknown[], into: OrderCommand): OrderCommand {
  if (params.length < 1) throw new p.InvalidParams('user_id required');
  into.user = p.userId(params[0]);
  return readOrderParams(specs, op, params, 1, into);
}

/** Runs a command through the backend's promise API (the method layer's path). */
export function placeOrder(backend: EngineBackend, c: OrderCommand, time: number): MaybePromise<CommandReply> {
  switch (c.op) {
    case OrderOp.PUT_LIMIT:
      return backend.placeLimit(c.user, c.market, c.side, c.amount, c.price, c.takerFee, c.makerFee, c.source, time);
    case OrderOp.PUT_MARKET:
      return backend.placeMarket(c.user, c.market, c.side, c.amount, c.takerFee, c.source, time);
    case OrderOp.CANCEL:
      return backend.cancel(c.user, c.market, c.orderId, time);
  }
}

/**
 * Sends a command through the backend's callback API (no promise per command): Code.OK when it
 * was sent — `done` is then called exactly once (at once with a local engine, from the reply drain
 * behind shards; the reply view is valid only during the call) — else why not (BUSY,
 * ENGINE_STOPPED, …) and `done` is never called.
 */
export function submitOrder(backend: EngineBackend, c: OrderCommand, time: number, done: ReplyCallback): CodeValue {
  switch (c.op) {
    case OrderOp.PUT_LIMIT:
      return backend.submitLimit(done, c.user, c.market, c.side, c.amount, c.price, c.takerFee, c.makerFee, c.source, time);
    case OrderOp.PUT_MARKET:
      return backend.submitMarket(done, c.user, c.market, c.side, c.amount, c.takerFee, c.source, time);
    case OrderOp.CANCEL:
      return backend.submitCancel(done, c.user, c.market, c.orderId, time);
  }
}

/** The protocol error of an engine code for `op` (codes 10–12 mean different things per method). */
export function orderError(op: OrderOpValue, code: CodeValue): RpcError {
  return protocolError(code, ORDER_METHOD[op]);
}

/**
 * The answer to a command sent with submitOrder, as JSON-RPC result text (the order object, the
 * text JSON.stringify would give) or the method's error. Reads the reply view at once.
 */
export function orderResultJson(names: Pick<EngineBackend, 'specs' | 'sourceName'>, op: OrderOpValue, reply: ReplyView): { readonly json: string } | { readonly error: RpcError } {
  if (reply.code !== Code.OK) return { error: orderError(op, reply.code) };
  const order = reply.order();
  return order === null ? { error: orderError(op, Code.OK) } : { json: orderJson(orderInfo(names, order)) };
}

/** The outcome of a place or cancel: the order object, or the method's error. */
export function orderOutcome(
  names: Pick<EngineBackend, 'specs' | 'sourceName'>, op: OrderOpValue, reply: CommandReply,
): { readonly result: unknown } | { readonly error: RpcError } {
  const order = reply.orders[0];
  return reply.code === Code.OK && order !== undefined ? { result: orderInfo(names, order) } : { error: orderError(op, reply.code) };
}
