/**
 * depth.subscribe [market, limit, interval]: the market must exist (ours; the original did not
 * check), the limit must be one of ws.depth_limits, and the interval one of ws.depth_merge,
 * compared as decimals ("0.10" is "0.1"). The interval becomes a tick count of the market's price
 * precision; one finer than a tick that divides the tick merges nothing (0).
 */
import { parseUnits, pow10 } from '../../engine/money/decimal.js';
import type { MarketSpec, Specs } from '../../engine/money/specs.js';
import * as p from '../rpc/params.js';

/** Decimal places the merge intervals are compared at (config strings have at most 15). */
const SCALE = 30;

export interface DepthRequest {
  readonly market: MarketSpec;
  readonly limit: number;
  /** Merge interval in ticks of the market's price; 0 = no merging. */
  readonly interval: number;
}

export class DepthRules {
  private readonly limits: ReadonlySet<number>;
  private readonly merges: ReadonlySet<bigint>;

  constructor(limits: readonly number[], merges: readonly string[]) {
    this.limits = new Set(limits);
    this.merges = new Set(merges.map((text) => {
      const units = parseUnits(text, SCALE);
      if (units === null || units < 0n) throw new Error(`bad depth merge interval ${text}`);
      return units;
    }));
  }

  /** Checks depth.subscribe's params; throws InvalidParams. */
  parse(specs: Specs, params: readonly unknown[]): DepthRequest {
    p.expectCount(params, 3);
    const market = p.market(specs, params[0]);
    const limit = params[1];
    if (typeof limit !== 'number' || !this.limits.has(limit)) throw new p.InvalidParams('depth limit not allowed');
    const merge = typeof params[2] === 'string' ? parseUnits(params[2], SCALE) : null;
    if (merge === null || !this.merges.has(merge)) throw new p.InvalidParams('depth interval not allowed');
    return { market, limit, interval: intervalTicks(market, merge) };
  }
}

/** A merge interval (units of 10^-SCALE) in ticks of the market's price. */
function intervalTicks(market: MarketSpec, merge: bigint): number {
  const tick = pow10(SCALE - market.moneyPrec);
  if (merge % tick === 0n) return Number(merge / tick);
  if (tick % merge === 0n) return 0;
  throw new p.InvalidParams('depth interval does not fit the market price precision');
}
