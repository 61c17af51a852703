/**
 * Helpers of the depth-board tests (not a test file; also loaded by depth-writer.ts in a worker):
 * engines whose books hold chosen orders, and books that follow a pattern tied to a version
 * number, so that a reader can tell a consistent copy from a torn one.
 */
import { validateConfig } from '../../../conf/load.js';
import { SIDE_ASK, SIDE_BID } from '../../book/order-columns.js';
import { Code } from '../../codes.js';
import { Engine } from '../../engine.js';
import type { Depth } from '../../queries.js';

/** Two markets of whole units: lots and ticks are plain integers. */
export const DEPTH_CONFIG = validateConfig({
  assets: [{ name: 'A', prec_save: 4 }, { name: 'B', prec_save: 4 }],
  markets: [
    { name: 'AB', stock: { name: 'A', prec: 0 }, money: { name: 'B', prec: 0 }, min_amount: '1' },
    { name: 'AB2', stock: { name: 'A', prec: 0 }, money: { name: 'B', prec: 0 }, min_amount: '1' },
  ],
  engine: { max_users: 16, max_orders_per_market: 512, max_levels_per_side: 128 },
});

/** market, side, price (ticks), amount (lots). */
export type Placement = readonly [number, number, number, number];

/** An engine whose books hold `orders` (asks by user 1, bids by user 2, both funded generously). */
export function engineWith(orders: readonly Placement[]): Engine {
  const engine = new Engine(DEPTH_CONFIG);
  for (const [i, user] of [1, 2].entries()) {
    for (const asset of [0, 1]) {
      if (engine.updateBalance(user, asset, 'deposit', i * 2 + asset, 10n ** 15n, '', 0) !== Code.OK) throw new Error('deposit refused');
    }
  }
  orders.forEach(([market, side, price, amount], i) => {
    const code = engine.placeLimit(side === SIDE_ASK ? 1 : 2, market, side, amount, price, 0, 0, 0, i);
    if (code !== Code.OK) throw new Error(`order ${i} refused: ${code}`);
  });
  return engine;
}

/** Levels per side of the book of version `v` (1 … 12, never more than a 16-level board holds). */
export const askLevels = (v: number): number => 1 + ((v * 7) % 12);
export const bidLevels = (v: number): number => 1 + ((v * 5) % 12);

/**
 * The book of version `v` on market 0: ask level i at v·1000 + 500 + i, bid level i at
 * v·1000 + 499 − i, each holding v·10 + i + 1 lots (two orders on even levels).
 */
export function versionOrders(v: number): Placement[] {
  const out: Placement[] = [];
  const level = (side: number, price: number, lots: number, i: number): void => {
    if (i % 2 === 0 && lots > 1) {
      out.push([0, side, price, 1], [0, side, price, lots - 1]);
    } else {
      out.push([0, side, price, lots]);
    }
  };
  for (let i = 0; i < askLevels(v); i++) level(SIDE_ASK, v * 1000 + 500 + i, v * 10 + i + 1, i);
  for (let i = 0; i < bidLevels(v); i++) level(SIDE_BID, v * 1000 + 499 - i, v * 10 + i + 1, i);
  return out;
}

/** The version a depth read shows (0: nothing published yet), or a description of what is torn. */
export function versionOf(d: Depth): number | string {
  if (d.asks.length === 0 && d.bids.length === 0) return 0;
  const v = Math.floor((d.asks[0]?.price ?? 0) / 1000);
  if (d.asks.length !== askLevels(v)) return `version ${v} with ${d.asks.length} ask levels`;
  if (d.bids.length !== bidLevels(v)) return `version ${v} with ${d.bids.length} bid levels`;
  for (let i = 0; i < d.asks.length; i++) {
    const l = d.asks[i]!;
    if (l.price !== v * 1000 + 500 + i || l.amount !== BigInt(v * 10 + i + 1)) return `version ${v}: ask ${i} is ${l.price} × ${l.amount}`;
  }
  for (let i = 0; i < d.bids.length; i++) {
    const l = d.bids[i]!;
    if (l.price !== v * 1000 + 499 - i || l.amount !== BigInt(v * 10 + i + 1)) return `version ${v}: bid ${i} is ${l.price} × ${l.amount}`;
  }
  return v;
}
