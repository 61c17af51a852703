/**
 * What the method layer needs from an engine, whether it runs in this thread (LocalBackend, one
 * Engine holding every market) or behind shards (engine/router's Router, which implements the
 * same shape). Commands answer with a CommandReply; a local backend answers synchronously, the
 * router with promises. Balances are read straight from the shared balance table either way.
 */
import type { Config } from '../../conf/schema.js';
import type { BalanceTable } from '../../engine/balance/table.js';
import { Code, type CodeValue } from '../../engine/codes.js';
import { OrderView } from '../../engine/core/order-view.js';
import type { Engine } from '../../engine/engine.js';
import type { Specs } from '../../engine/money/specs.js';
import { bookOrders, depth, marketSummary, pendingOrder, pendingOrders, type Depth } from '../../engine/queries.js';
import type { CommandReply } from '../../engine/router/replies.js';
import type { ReplyCallback, ReplyView } from '../../engine/router/router.js';

export type MaybePromise<T> = T | Promise<T>;

export interface EngineBackend {
  readonly config: Readonly<Config>;
  readonly specs: Specs;
  readonly balances: BalanceTable;
  sourceName(id: number): string;
  placeLimit(user: number, market: number, side: number, amount: number, price: number, takerFee: number, makerFee: number, source: string, time: number): MaybePromise<CommandReply>;
  placeMarket(user: number, market: number, side: number, amount: number, takerFee: number, source: string, time: number): MaybePromise<CommandReply>;
  cancel(user: number, market: number, orderId: number, time: number): MaybePromise<CommandReply>;
  /**
   * The same three commands without a promise (order entry's fast path): Code.OK when the command
   * was sent, and then `done` is called exactly once with the reply (valid only during the call);
   * otherwise the reason it was not sent (BUSY, ENGINE_STOPPED, …), and `done` is never called.
   */
  submitLimit(done: ReplyCallback, user: number, market: number, side: number, amount: number, price: number, takerFee: number, makerFee: number, source: string, time: number): CodeValue;
  submitMarket(done: ReplyCallback, user: number, market: number, side: number, amount: number, takerFee: number, source: string, time: number): CodeValue;
  submitCancel(done: ReplyCallback, user: number, market: number, orderId: number, time: number): CodeValue;
  updateBalance(user: number, asset: number, business: string, businessId: number, change: bigint, detail: string, time: number): MaybePromise<CommandReply>;
  pending(user: number, market: number, offset: number, limit: number): MaybePromise<CommandReply>;
  order(market: number, orderId: number): MaybePromise<CommandReply>;
  book(market: number, side: number, offset: number, limit: number): MaybePromise<CommandReply>;
  summary(market: number): MaybePromise<CommandReply>;
  /** Depth of a known market (merged to `interval` ticks when > 0). */
  fullDepth(market: number, limit: number, interval: number): MaybePromise<Depth>;
}

const reply = (code: CommandReply['code'], orders: OrderView[] = [], total = orders.length): CommandReply =>
  ({ code, total, orders, summary: null });

/** A local engine's answer in the shape of the router's reply view. */
class LocalReply implements ReplyView {
  constructor(private readonly reply: CommandReply) {}

  get code(): CodeValue {
    return this.reply.code;
  }

  get orderId(): number {
    return this.reply.orders[0]?.id ?? 0;
  }

  order(): OrderView | null {
    return this.reply.orders[0] ?? null;
  }

  decode(): CommandReply {
    return this.reply;
  }
}

function copyOf(view: OrderView): OrderView {
  const copy = new OrderView();
  copy.copyFrom(view);
  return copy;
}

/** One Engine in this thread, holding every market. Every answer is synchronous. */
export class LocalBackend implements EngineBackend {
  readonly config: Readonly<Config>;
  readonly specs: Specs;
  readonly balances: BalanceTable;

  constructor(readonly engine: Engine) {
    this.config = engine.config;
    this.specs = engine.specs;
    this.balances = engine.balances;
  }

  sourceName(id: number): string {
    return this.engine.sourceName(id);
  }

  private command(code: CommandReply['code']): CommandReply {
    return code === Code.OK ? reply(code, [copyOf(this.engine.result)]) : reply(code);
  }

  placeLimit(user: number, market: number, side: number, amount: number, price: number, takerFee: number, makerFee: number, source: string, time: number): CommandReply {
    const sourceId = this.engine.internSource(source);
    return this.command(this.engine.placeLimit(user, market, side, amount, price, takerFee, makerFee, sourceId, time));
  }

  placeMarket(user: number, market: number, side: number, amount: number, takerFee: number, source: string, time: number): CommandReply {
    const sourceId = this.engine.internSource(source);
    return this.command(this.engine.placeMarket(user, market, side, amount, takerFee, sourceId, time));
  }

  cancel(user: number, market: number, orderId: number, time: number): CommandReply {
    return this.command(this.engine.cancel(user, market, orderId, time));
  }

  submitLimit(done: ReplyCallback, user: number, market: number, side: number, amount: number, price: number, takerFee: number, makerFee: number, source: string, time: number): CodeValue {
    done(new LocalReply(this.placeLimit(user, market, side, amount, price, takerFee, makerFee, source, time)));
    return Code.OK;
  }

  submitMarket(done: ReplyCallback, user: number, market: number, side: number, amount: number, takerFee: number, source: string, time: number): CodeValue {
    done(new LocalReply(this.placeMarket(user, market, side, amount, takerFee, source, time)));
    return Code.OK;
  }

  submitCancel(done: ReplyCallback, user: number, market: number, orderId: number, time: number): CodeValue {
    done(new LocalReply(this.cancel(user, market, orderId, time)));
    return Code.OK;
  }

  updateBalance(user: number, asset: number, business: string, businessId: number, change: bigint, detail: string, time: number): CommandReply {
    return reply(this.engine.updateBalance(user, asset, business, businessId, change, detail, time));
  }

  pending(user: number, market: number, offset: number, limit: number): CommandReply {
    const page = pendingOrders(this.engine, user, market, offset, limit);
    return page === null ? reply(Code.UNKNOWN_MARKET) : reply(Code.OK, page.items, page.total);
  }

  order(market: number, orderId: number): CommandReply {
    const order = pendingOrder(this.engine, market, orderId);
    return order === null ? reply(Code.ORDER_NOT_FOUND) : reply(Code.OK, [order]);
  }

  book(market: number, side: number, offset: number, limit: number): CommandReply {
    const page = bookOrders(this.engine, market, side, offset, limit);
    return page === null ? reply(Code.UNKNOWN_MARKET) : reply(Code.OK, page.items, page.total);
  }

  summary(market: number): CommandReply {
    const s = marketSummary(this.engine, market);
    return s === null ? reply(Code.UNKNOWN_MARKET) : { code: Code.OK, total: 0, orders: [], summary: { askCount: s.askCount, bidCount: s.bidCount, askAmount: s.askAmount, bidAmount: s.bidAmount } };
  }

  fullDepth(market: number, limit: number, interval: number): Depth {
    return depth(this.engine, market, limit, interval) ?? { asks: [], bids: [] };
  }
}
