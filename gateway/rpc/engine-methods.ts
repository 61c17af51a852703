/**
 * The JSON-RPC methods the matching engine serves (ViaBTC's matchengine set): positional params
 * checked, decimals converted to integer units, replies in the protocol's shapes. Works over any
 * EngineBackend: with a local engine every answer is synchronous, behind shards it is a promise.
 * Other methods (history, market data) live with their services.
 */
import { Code, type CodeValue } from '../../engine/codes.js';
import { MAX_LABEL_BYTES } from '../../engine/engine.js';
import { formatUnits } from '../../engine/money/decimal.js';
import { assetSummary } from '../../engine/queries.js';
import type { CommandReply } from '../../engine/router/replies.js';
import type { EngineBackend, MaybePromise } from './backend.js';
import { INVALID_ARGUMENT, METHOD_NOT_FOUND, protocolError, type ErrorContext, type RpcError } from './errors.js';
import { amountText, orderInfo, priceText, shownBalance } from './format.js';
import { OrderCommand, OrderOp, orderOutcome, placeOrder, readOrderRequest, type OrderOpValue } from './order-entry.js';
import * as p from './params.js';

export type RpcOutcome = { readonly result: unknown } | { readonly error: RpcError };

export interface RpcContext {
  readonly backend: EngineBackend;
  /** Microseconds since the epoch, read where the command enters. */
  now(): number;
}

type Handler = (ctx: RpcContext, params: readonly unknown[]) => MaybePromise<RpcOutcome>;

/** Largest page the original serves (limit ≤ 101). */
const MAX_PAGE = 101;

const ok = (result: unknown): RpcOutcome => ({ result });
const failure = (code: CodeValue, context: ErrorContext): RpcOutcome => ({ error: protocolError(code, context) });

/** Applies `f` to a value that may still be on its way, staying synchronous when it is not. */
function then<T, U>(value: MaybePromise<T>, f: (t: T) => U): MaybePromise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** order.put_limit, order.put_market, order.cancel: [user_id, ...] (see order-entry.ts), the order object or the method's error. */
function order(ctx: RpcContext, op: OrderOpValue, params: readonly unknown[]): MaybePromise<RpcOutcome> {
  const { backend } = ctx;
  const command = readOrderRequest(backend.specs, op, params, new OrderCommand());
  return then(placeOrder(backend, command, ctx.now()), (reply) => orderOutcome(backend, op, reply));
}

const handlers: Record<string, Handler> = {
  'asset.list': ({ backend }) => ok(backend.specs.assets.map((a) => ({ name: a.name, prec: a.precShow }))),

  'asset.summary': ({ backend }, params) => {
    const assets = params.length === 0 ? backend.specs.assets : params.map((name) => p.asset(backend.specs, name));
    return ok(assets.map((a) => {
      const s = assetSummary(backend, a.index);
      return {
        name: a.name,
        total_balance: formatUnits(s.total, a.precSave),
        available_count: s.availableCount,
        available_balance: formatUnits(s.availableBalance, a.precSave),
        freeze_count: s.freezeCount,
        freeze_balance: formatUnits(s.freezeBalance, a.precSave),
      };
    }));
  },

  'market.list': ({ backend }) =>
    ok(backend.config.markets.map((m) => ({
      name: m.name, stock: m.stock.name, money: m.money.name, fee_prec: m.fee_prec,
      stock_prec: m.stock.prec, money_prec: m.money.prec, min_amount: m.min_amount,
    }))),

  'market.summary': ({ backend }, params) => {
    const markets = params.length === 0 ? backend.specs.markets : params.map((name) => p.market(backend.specs, name));
    const replies = markets.map((m) => backend.summary(m.index));
    const format = (all: CommandReply[]): RpcOutcome => {
      const failed = all.find((r) => r.code !== Code.OK || r.summary === null);
      if (failed !== undefined) return failure(failed.code === Code.OK ? Code.UNKNOWN_MARKET : failed.code, 'other');
      return ok(all.map((r, i) => {
        const m = markets[i]!;
        const s = r.summary!;
        return { name: m.name, ask_count: s.askCount, ask_amount: amountText(m, s.askAmount), bid_count: s.bidCount, bid_amount: amountText(m, s.bidAmount) };
      }));
    };
    return replies.some((r) => r instanceof Promise)
      ? Promise.all(replies.map((r) => Promise.resolve(r))).then(format)
      : format(replies as CommandReply[]);
  },

  'balance.query': ({ backend }, params) => {
    if (params.length < 1) throw new p.InvalidParams('user_id required');
    const user = p.userId(params[0]);
    const assets = params.length === 1 ? backend.specs.assets : params.slice(1).map((name) => p.asset(backend.specs, name));
    const balances = backend.balances;
    const row = balances.users.find(user);
    const result: Record<string, { available: string; freeze: string }> = {};
    for (const a of assets) {
      result[a.name] = row < 0
        ? { available: '0', freeze: '0' }
        : { available: shownBalance(a, balances.available(row, a.index)), freeze: shownBalance(a, balances.frozen(row, a.index)) };
    }
    return ok(result);
  },

  'balance.update': (ctx, params) => {
    const { backend } = ctx;
    p.expectCount(params, 6);
    const user = p.userId(params[0]);
    const asset = p.asset(backend.specs, params[1]);
    const business = p.text(params[2], MAX_LABEL_BYTES);
    const businessId = p.integer(params[3], 0, Number.MAX_SAFE_INTEGER);
    const shown = p.decimal(params[4], asset.precShow);
    const detail = p.jsonObject(params[5]);
    const change = shown * 10n ** BigInt(asset.precSave - asset.precShow);
    return then(backend.updateBalance(user, asset.index, business, businessId, change, detail, ctx.now()), (r) =>
      r.code === Code.OK ? ok({ status: 'success' }) : failure(r.code, 'balance.update'));
  },

  'order.put_limit': (ctx, params) => order(ctx, OrderOp.PUT_LIMIT, params),
  'order.put_market': (ctx, params) => order(ctx, OrderOp.PUT_MARKET, params),
  'order.cancel': (ctx, params) => order(ctx, OrderOp.CANCEL, params),

  'order.book': ({ backend }, params) => {
    p.expectCount(params, 4);
    const m = p.market(backend.specs, params[0]);
    const side = p.side(params[1]);
    const offset = p.integer(params[2], 0, Number.MAX_SAFE_INTEGER);
    const limit = p.integer(params[3], 0, MAX_PAGE);
    return then(backend.book(m.index, side, offset, limit), (r) =>
      r.code === Code.OK
        ? ok({ offset, limit, total: r.total, orders: r.orders.map((o) => orderInfo(backend, o)) })
        : failure(r.code, 'other'));
  },

  'order.depth': ({ backend }, params) => {
    p.expectCount(params, 3);
    const m = p.market(backend.specs, params[0]);
    const limit = p.integer(params[1], 0, MAX_PAGE);
    const interval = p.decimal(params[2], m.moneyPrec);
    if (interval < 0n || interval > BigInt(Number.MAX_SAFE_INTEGER)) throw new p.InvalidParams('interval out of range');
    return then(backend.fullDepth(m.index, limit, Number(interval)), (d) => {
      const levels = (side: typeof d.asks) => side.map((l) => [priceText(m, l.price), amountText(m, l.amount)]);
      return ok({ asks: levels(d.asks), bids: levels(d.bids) });
    });
  },

  'order.pending': ({ backend }, params) => {
    p.expectCount(params, 4);
    const user = p.userId(params[0]);
    const m = p.market(backend.specs, params[1]);
    const offset = p.integer(params[2], 0, Number.MAX_SAFE_INTEGER);
    const limit = p.integer(params[3], 0, MAX_PAGE);
    return then(backend.pending(user, m.index, offset, limit), (r) =>
      r.code === Code.OK
        ? ok({ limit, offset, total: r.total, records: r.orders.map((o) => orderInfo(backend, o)) })
        : failure(r.code, 'other'));
  },

  'order.pending_detail': ({ backend }, params) => {
    p.expectCount(params, 2);
    const m = p.market(backend.specs, params[0]);
    const orderId = p.integer(params[1], 1, Number.MAX_SAFE_INTEGER);
    return then(backend.order(m.index, orderId), (r) => {
      const order = r.orders[0];
      if (r.code === Code.OK && order !== undefined) return ok(orderInfo(backend, order));
      return r.code === Code.ORDER_NOT_FOUND ? ok(null) : failure(r.code, 'other');
    });
  },
};

export const engineMethodNames: readonly string[] = Object.keys(handlers);

/**
 * Runs one engine method. Bad params give "invalid argument" and change nothing. Synchronous
 * over a local backend; a promise behind shards.
 */
export function callEngineMethod(ctx: RpcContext, method: string, params: readonly unknown[]): MaybePromise<RpcOutcome> {
  return callFromTable(handlers, ctx, method, params);
}

/**
 * Runs `method` from a table of handlers: unknown methods get "method not found", params that
 * fail a check ("InvalidParams") get "invalid argument"; anything else thrown is a bug and escapes.
 */
export function callFromTable<C, R = MaybePromise<RpcOutcome>>(
  table: Readonly<Record<string, (ctx: C, params: readonly unknown[]) => R>>,
  ctx: C, method: string, params: readonly unknown[],
): R | RpcOutcome {
  const handler = Object.hasOwn(table, method) ? table[method] : undefined;
  if (handler === undefined) return { error: METHOD_NOT_FOUND };
  try {
    return handler(ctx, params);
  } catch (err) {
    if (err instanceof p.InvalidParams) return { error: INVALID_ARGUMENT };
    throw err;
  }
}
