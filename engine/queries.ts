/**
 * Read-only queries over an engine's books and the balance table, for the protocol's
 * order.book, order.depth, order.pending, order.pending_detail, market.summary and asset.summary.
 * They allocate (query path, not the match loop).
 */
import { NIL, SIDE_ASK } from './book/order-columns.js';
import type { OrderBook } from './book/order-book.js';
import { loadOrder } from './core/matcher.js';
import { OrderView } from './core/order-view.js';
import type { BalanceTable } from './balance/table.js';
import type { Engine } from './engine.js';

export interface Page<T> {
  readonly total: number;
  readonly items: T[];
}

export interface DepthLevel {
  /** Price in ticks (merged to the interval when one is given). */
  readonly price: number;
  /** Σ left at that price, in lots. */
  readonly amount: bigint;
}

export interface Depth {
  readonly asks: DepthLevel[];
  readonly bids: DepthLevel[];
}

export interface MarketSummary {
  readonly askCount: number;
  readonly askAmount: bigint;
  readonly bidCount: number;
  readonly bidAmount: bigint;
}

export interface AssetSummary {
  readonly total: bigint;
  readonly availableCount: number;
  readonly availableBalance: bigint;
  readonly freezeCount: number;
  readonly freezeBalance: bigint;
}

function bookOf(engine: Engine, market: number): OrderBook | null {
  return engine.books[market] ?? null;
}

/** A user's pending orders in a market, newest first. Null when the market is not held here. */
export function pendingOrders(engine: Engine, user: number, market: number, offset: number, limit: number): Page<OrderView> | null {
  const book = bookOf(engine, market);
  if (book === null) return null;
  const items: OrderView[] = [];
  const row = engine.balances.users.find(user);
  let slot = book.newestOf(row);
  for (let skipped = 0; slot !== NIL && skipped < offset; skipped++) slot = book.orders.olderOfUser(slot);
  while (slot !== NIL && items.length < limit) {
    const view = new OrderView();
    loadOrder(book, market, slot, view);
    items.push(view);
    slot = book.orders.olderOfUser(slot);
  }
  return { total: book.pendingCount(row), items };
}

/** One pending order, or null (also when the market is not held here). */
export function pendingOrder(engine: Engine, market: number, orderId: number): OrderView | null {
  const book = bookOf(engine, market);
  if (book === null) return null;
  const slot = book.find(orderId);
  if (slot === NIL) return null;
  const view = new OrderView();
  loadOrder(book, market, slot, view);
  return view;
}

/** One side of the book in matching priority (best price first, then oldest). */
export function bookOrders(engine: Engine, market: number, side: number, offset: number, limit: number): Page<OrderView> | null {
  const book = bookOf(engine, market);
  if (book === null) return null;
  const levels = book.levels(side);
  const items: OrderView[] = [];
  let total = 0;
  let position = 0;
  for (let i = 0; i < levels.size; i++) {
    const level = levels.nth(i);
    total += levels.count[level]!;
    if (items.length >= limit || position + levels.count[level]! <= offset) {
      position += levels.count[level]!;
      continue;
    }
    for (let slot = levels.head[level]!; slot !== NIL && items.length < limit; slot = book.orders.next[slot]!) {
      if (position++ < offset) continue;
      const view = new OrderView();
      loadOrder(book, market, slot, view);
      items.push(view);
    }
  }
  return { total, items };
}

/**
 * Depth: up to `limit` levels per side. With `interval` > 0 (ticks), ask prices are rounded up and
 * bid prices down to multiples of it, and levels that land on the same price are summed.
 */
export function depth(engine: Engine, market: number, limit: number, interval: number): Depth | null {
  const book = bookOf(engine, market);
  if (book === null) return null;
  return { asks: depthSide(book, SIDE_ASK, limit, interval), bids: depthSide(book, 3 - SIDE_ASK, limit, interval) };
}

function depthSide(book: OrderBook, side: number, limit: number, interval: number): DepthLevel[] {
  const levels = book.levels(side);
  const out: DepthLevel[] = [];
  let price = NaN;
  let amount = 0n;
  for (let i = 0; i < levels.size; i++) {
    const level = levels.nth(i);
    let p = levels.price[level]!;
    if (interval > 0) {
      const remainder = p % interval; // exact for safe integers, unlike rounding a quotient
      if (remainder !== 0) p = side === SIDE_ASK ? p - remainder + interval : p - remainder;
    }
    if (p === price) {
      amount += BigInt(levels.total[level]!);
      continue;
    }
    if (!Number.isNaN(price)) out.push({ price, amount });
    if (out.length >= limit) return out;
    price = p;
    amount = BigInt(levels.total[level]!);
  }
  if (!Number.isNaN(price) && out.length < limit) out.push({ price, amount });
  return out;
}

export function marketSummary(engine: Engine, market: number): MarketSummary | null {
  const book = bookOf(engine, market);
  if (book === null) return null;
  const sideTotals = (side: number): [number, bigint] => {
    const levels = book.levels(side);
    let count = 0;
    let amount = 0n;
    for (let i = 0; i < levels.size; i++) {
      const level = levels.nth(i);
      count += levels.count[level]!;
      amount += BigInt(levels.total[level]!);
    }
    return [count, amount];
  };
  const [askCount, askAmount] = sideTotals(SIDE_ASK);
  const [bidCount, bidAmount] = sideTotals(3 - SIDE_ASK);
  return { askCount, askAmount, bidCount, bidAmount };
}

/** Totals of one asset over every user (the fee account included), as the original's asset.summary. */
export function assetSummary(holder: { readonly balances: BalanceTable }, asset: number): AssetSummary {
  const balances = holder.balances;
  let availableCount = 0;
  let availableBalance = 0n;
  let freezeCount = 0;
  let freezeBalance = 0n;
  const rows = balances.users.size;
  for (let row = 0; row < rows; row++) {
    const available = balances.available(row, asset);
    const frozen = balances.frozen(row, asset);
    if (available !== 0n) {
      availableCount++;
      availableBalance += available;
    }
    if (frozen !== 0n) {
      freezeCount++;
      freezeBalance += frozen;
    }
  }
  return { total: availableBalance + freezeBalance, availableCount, availableBalance, freezeCount, freezeBalance };
}
