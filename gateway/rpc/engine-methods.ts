/**
 * The JSON-RPC methods the matching engine serves (ViaBTC's matchengine set), over an in-process
 * engine: positional params checked, decimals converted to integer units, replies in the
 * protocol's shapes. Other methods (history, market data) live with their services.
 */
import { Code } from '../../engine/codes.js';
import type { Engine } from '../../engine/engine.js';
import { MAX_LABEL_BYTES } from '../../engine/engine.js';
import { formatUnits } from '../../engine/money/decimal.js';
import { assetSummary, bookOrders, depth, marketSummary, pendingOrder, pendingOrders } from '../../engine/queries.js';
import { INVALID_ARGUMENT, METHOD_NOT_FOUND, protocolError, type ErrorContext, type RpcError } from './errors.js';
import { amountText, orderInfo, priceText, shownBalance } from './format.js';
import * as p from './params.js';

export type RpcOutcome = { readonly result: unknown } | { readonly error: RpcError };

export interface RpcContext {
  readonly engine: Engine;
  /** Microseconds since the epoch, read where the command enters. */
  now(): number;
}

type Handler = (ctx: RpcContext, params: readonly unknown[]) => RpcOutcome;

/** Largest page the original serves (limit ≤ 101). */
const MAX_PAGE = 101;

const ok = (result: unknown): RpcOutcome => ({ result });

function commandOutcome(ctx: RpcContext, code: number, context: ErrorContext): RpcOutcome {
  if (code === Code.OK) return ok(orderInfo(ctx.engine, ctx.engine.result));
  return { error: protocolError(code as Parameters<typeof protocolError>[0], context) };
}

const handlers: Record<string, Handler> = {
  'asset.list': ({ engine }) => ok(engine.specs.assets.map((a) => ({ name: a.name, prec: a.precShow }))),

  'asset.summary': ({ engine }, params) => {
    const assets = params.length === 0 ? engine.specs.assets : params.map((name) => p.asset(engine.specs, name));
    return ok(assets.map((a) => {
      const s = assetSummary(engine, a.index);
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

  'market.list': ({ engine }) =>
    ok(engine.config.markets.map((m) => ({
      name: m.name, stock: m.stock.name, money: m.money.name, fee_prec: m.fee_prec,
      stock_prec: m.stock.prec, money_prec: m.money.prec, min_amount: m.min_amount,
    }))),

  'market.summary': ({ engine }, params) => {
    const markets = params.length === 0 ? engine.specs.markets : params.map((name) => p.market(engine.specs, name));
    return ok(markets.map((m) => {
      const s = marketSummary(engine, m.index);
      if (s === null) throw new p.InvalidParams(`market ${m.name} is not held here`);
      return { name: m.name, ask_count: s.askCount, ask_amount: amountText(m, s.askAmount), bid_count: s.bidCount, bid_amount: amountText(m, s.bidAmount) };
    }));
  },

  'balance.query': ({ engine }, params) => {
    if (params.length < 1) throw new p.InvalidParams('user_id required');
    const user = p.userId(params[0]);
    const assets = params.length === 1 ? engine.specs.assets : params.slice(1).map((name) => p.asset(engine.specs, name));
    const row = engine.balances.users.find(user);
    const result: Record<string, { available: string; freeze: string }> = {};
    for (const a of assets) {
      result[a.name] = row < 0
        ? { available: '0', freeze: '0' }
        : { available: shownBalance(a, engine.balances.available(row, a.index)), freeze: shownBalance(a, engine.balances.frozen(row, a.index)) };
    }
    return ok(result);
  },

  'balance.update': (ctx, params) => {
    const { engine } = ctx;
    p.expectCount(params, 6);
    const user = p.userId(params[0]);
    const asset = p.asset(engine.specs, params[1]);
    const business = p.text(params[2], MAX_LABEL_BYTES);
    const businessId = p.integer(params[3], 0, Number.MAX_SAFE_INTEGER);
    const shown = p.decimal(params[4], asset.precShow);
    const detail = p.jsonObject(params[5]);
    const change = shown * 10n ** BigInt(asset.precSave - asset.precShow);
    const code = engine.updateBalance(user, asset.index, business, businessId, change, detail, ctx.now());
    return code === Code.OK ? ok({ status: 'success' }) : { error: protocolError(code, 'balance.update') };
  },

  'order.put_limit': (ctx, params) => {
    const { engine } = ctx;
    p.expectCount(params, 8);
    const user = p.userId(params[0]);
    const m = p.market(engine.specs, params[1]);
    const side = p.side(params[2]);
    const amount = p.quantity(params[3], m.stockPrec);
    const price = p.quantity(params[4], m.moneyPrec);
    const takerFee = p.feeRate(params[5], m);
    const makerFee = p.feeRate(params[6], m);
    const source = engine.internSource(p.text(params[7], MAX_LABEL_BYTES));
    const code = engine.placeLimit(user, m.index, side, amount, price, takerFee, makerFee, source, ctx.now());
    return commandOutcome(ctx, code, 'order.put_limit');
  },

  'order.put_market': (ctx, params) => {
    const { engine } = ctx;
    p.expectCount(params, 6);
    const user = p.userId(params[0]);
    const m = p.market(engine.specs, params[1]);
    const side = p.side(params[2]);
    const amount = p.quantity(params[3], m.stockPrec);
    const takerFee = p.feeRate(params[4], m);
    const source = engine.internSource(p.text(params[5], MAX_LABEL_BYTES));
    const code = engine.placeMarket(user, m.index, side, amount, takerFee, source, ctx.now());
    return commandOutcome(ctx, code, 'order.put_market');
  },

  'order.cancel': (ctx, params) => {
    const { engine } = ctx;
    p.expectCount(params, 3);
    const user = p.userId(params[0]);
    const m = p.market(engine.specs, params[1]);
    const orderId = p.integer(params[2], 1, Number.MAX_SAFE_INTEGER);
    const code = engine.cancel(user, m.index, orderId, ctx.now());
    return commandOutcome(ctx, code, 'order.cancel');
  },

  'order.book': ({ engine }, params) => {
    p.expectCount(params, 4);
    const m = p.market(engine.specs, params[0]);
    const side = p.side(params[1]);
    const offset = p.integer(params[2], 0, Number.MAX_SAFE_INTEGER);
    const limit = p.integer(params[3], 0, MAX_PAGE);
    const page = bookOrders(engine, m.index, side, offset, limit);
    if (page === null) throw new p.InvalidParams('market not held here');
    return ok({ offset, limit, total: page.total, orders: page.items.map((o) => orderInfo(engine, o)) });
  },

  'order.depth': ({ engine }, params) => {
    p.expectCount(params, 3);
    const m = p.market(engine.specs, params[0]);
    const limit = p.integer(params[1], 0, MAX_PAGE);
    const interval = p.decimal(params[2], m.moneyPrec);
    if (interval < 0n || interval > BigInt(Number.MAX_SAFE_INTEGER)) throw new p.InvalidParams('interval out of range');
    const d = depth(engine, m.index, limit, Number(interval));
    if (d === null) throw new p.InvalidParams('market not held here');
    const levels = (side: typeof d.asks) => side.map((l) => [priceText(m, l.price), amountText(m, l.amount)]);
    return ok({ asks: levels(d.asks), bids: levels(d.bids) });
  },

  'order.pending': ({ engine }, params) => {
    p.expectCount(params, 4);
    const user = p.userId(params[0]);
    const m = p.market(engine.specs, params[1]);
    const offset = p.integer(params[2], 0, Number.MAX_SAFE_INTEGER);
    const limit = p.integer(params[3], 0, MAX_PAGE);
    const page = pendingOrders(engine, user, m.index, offset, limit);
    if (page === null) throw new p.InvalidParams('market not held here');
    return ok({ limit, offset, total: page.total, records: page.items.map((o) => orderInfo(engine, o)) });
  },

  'order.pending_detail': ({ engine }, params) => {
    p.expectCount(params, 2);
    const m = p.market(engine.specs, params[0]);
    const orderId = p.integer(params[1], 1, Number.MAX_SAFE_INTEGER);
    const order = pendingOrder(engine, m.index, orderId);
    return ok(order === null ? null : orderInfo(engine, order));
  },
};

export const engineMethodNames: readonly string[] = Object.keys(handlers);

/** Runs one engine method. Bad params give "invalid argument" and change nothing. */
export function callEngineMethod(ctx: RpcContext, method: string, params: readonly unknown[]): RpcOutcome {
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
  if (handler === undefined) return { error: METHOD_NOT_FOUND };
  try {
    return handler(ctx, params);
  } catch (err) {
    if (err instanceof p.InvalidParams) return { error: INVALID_ARGUMENT };
    throw err;
  }
}
