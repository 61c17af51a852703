/**
 * Assets and markets resolved from config into the integer scales the engine computes with.
 *
 * Units:
 *  - a balance of an asset is an int64 count of 10^-prec_save of that asset ("units");
 *  - an order amount is a count of 10^-stock_prec stock ("lots"), a price a count of
 *    10^-money_prec money per one stock ("ticks"); both are JS numbers below 2^53;
 *  - a fee rate is a count of 10^-fee_prec ("fee ticks").
 * Every product of lots and ticks is done in bigint, so no intermediate can overflow; every
 * balance fits int64 because the total supply of each asset is kept within int64 (see balance/table.ts).
 */
import type { Config } from '../../conf/schema.js';
import { parseUnits, pow10 } from './decimal.js';

export interface AssetSpec {
  readonly index: number;
  readonly name: string;
  readonly precSave: number;
  readonly precShow: number;
}

export interface MarketSpec {
  readonly index: number;
  readonly name: string;
  readonly stock: AssetSpec;
  readonly money: AssetSpec;
  readonly stockPrec: number;
  readonly moneyPrec: number;
  readonly feePrec: number;
  readonly minAmountLots: number;
  /** Stock balance units in one lot: 10^(stock.prec_save − stock_prec). */
  readonly stockUnitsPerLot: bigint;
  readonly stockUnitsPerLotNumber: number;
  /** Money units of (ticks × lots) = ticks × lots × dealMul / dealDiv (one of the two is 1). */
  readonly dealMul: bigint;
  readonly dealDiv: bigint;
  /** The same as doubles (powers of ten up to 10^22 are exact doubles), for the fast paths below. */
  readonly dealMulNumber: number;
  readonly dealDivNumber: number;
  /** 10^fee_prec: a fee rate of 1. */
  readonly feeDenom: bigint;
  readonly feeDenomNumber: number;
  /** Largest fee rate accepted, in fee ticks (rates are in [0, 1)). */
  readonly maxFeeTicks: number;
  /** Money balance units in one 10^-stock_prec of money (the precision of market-buy amounts). */
  readonly marketBidUnitsPerLot: bigint;
  readonly marketBidUnitsPerLotNumber: number;
}

/** Largest lot or tick count an order may carry: every such number is exact in a double. */
export const MAX_QUANTITY = Number.MAX_SAFE_INTEGER;

export interface Specs {
  readonly assets: readonly AssetSpec[];
  readonly markets: readonly MarketSpec[];
  readonly assetByName: ReadonlyMap<string, AssetSpec>;
  readonly marketByName: ReadonlyMap<string, MarketSpec>;
}

export function buildSpecs(config: Readonly<Config>): Specs {
  const assets = config.assets.map<AssetSpec>((a, index) => ({
    index,
    name: a.name,
    precSave: a.prec_save,
    precShow: a.prec_show ?? a.prec_save,
  }));
  const assetByName = new Map(assets.map((a) => [a.name, a]));
  const markets = config.markets.map<MarketSpec>((m, index) => {
    const stock = assetByName.get(m.stock.name);
    const money = assetByName.get(m.money.name);
    if (stock === undefined || money === undefined) throw new Error(`market ${m.name}: unknown asset`); // config checks this first
    const minAmount = parseUnits(m.min_amount, m.stock.prec);
    if (minAmount === null || minAmount <= 0n) throw new Error(`market ${m.name}: bad min_amount ${m.min_amount}`);
    const dealExponent = money.precSave - m.money.prec - m.stock.prec;
    return {
      index,
      name: m.name,
      stock,
      money,
      stockPrec: m.stock.prec,
      moneyPrec: m.money.prec,
      feePrec: m.fee_prec,
      minAmountLots: Number(minAmount),
      stockUnitsPerLot: pow10(stock.precSave - m.stock.prec),
      stockUnitsPerLotNumber: 10 ** (stock.precSave - m.stock.prec),
      dealMul: dealExponent >= 0 ? pow10(dealExponent) : 1n,
      dealDiv: dealExponent >= 0 ? 1n : pow10(-dealExponent),
      dealMulNumber: dealExponent >= 0 ? exactPow10(dealExponent) : 1,
      dealDivNumber: dealExponent >= 0 ? 1 : exactPow10(-dealExponent),
      feeDenom: pow10(m.fee_prec),
      feeDenomNumber: exactPow10(m.fee_prec),
      maxFeeTicks: Number(pow10(m.fee_prec)) - 1,
      marketBidUnitsPerLot: pow10(money.precSave - m.stock.prec),
      marketBidUnitsPerLotNumber: exactPow10(money.precSave - m.stock.prec),
    };
  });
  const marketByName = new Map(markets.map((m) => [m.name, m]));
  return { assets, markets, assetByName, marketByName };
}

/** 10^n as a double; every power up to 10^22 is exact, beyond that the fast paths must not run. */
function exactPow10(n: number): number {
  return n <= 22 ? 10 ** n : Number.POSITIVE_INFINITY;
}

/*
 * Number fast paths. Each returns the exact result as a double when it and every intermediate
 * are integers at most MAX_SAFE_INTEGER, and -1 otherwise (callers then use the bigint version).
 * Why they are exact: a product of integers whose true value is ≤ 2^53 − 1 is representable, so
 * the rounded product is exact; if the true value is larger, the rounded one is ≥ 2^53 (rounding
 * is monotonic), so the `> MAX_SAFE_INTEGER` test never lets an inexact product through.
 * Divisions go through floorDiv() below rather than `%` (on doubles, a call to C's fmod: ~25 ns).
 */

/**
 * ⌊a / d⌋ for integers 0 ≤ a ≤ MAX_SAFE_INTEGER and d ≥ 1 that are exact doubles. Why it is exact:
 * the true quotient lies in [k, k + 1) for k = ⌊a / d⌋, an integer below 2^53, so its rounding
 * lies in [k, k + 1] (rounding is monotonic and keeps representable bounds) and its floor q is k
 * or k + 1. If q = k, q × d ≤ a is an integer below 2^53, so computed exactly: not > a. If
 * q = k + 1, the true q × d is > a, and so is its rounding (exact below 2^53, ≥ 2^53 > a above).
 */
export function floorDiv(a: number, d: number): number {
  const q = Math.floor(a / d);
  return q * d > a ? q - 1 : q;
}

/** dealMoney() in a double, or -1 when that is not exact. */
export function dealMoneyNumber(market: MarketSpec, ticks: number, lots: number): number {
  const product = ticks * lots;
  const div = market.dealDivNumber;
  if (product > Number.MAX_SAFE_INTEGER) return div === 1 || div === Number.POSITIVE_INFINITY ? -1 : dealMoneySplit(ticks, lots, div);
  if (div === 1) {
    const money = product * market.dealMulNumber;
    return money <= Number.MAX_SAFE_INTEGER ? money : -1;
  }
  return div === Number.POSITIVE_INFINITY ? 0 : floorDiv(product, div);
}

/**
 * ⌊ticks × lots / div⌋ when ticks × lots passes 2^53 but the money may not (large orders at high
 * prices with a truncating scale), or -1. With lots = q × div + r (0 ≤ r < div) it equals
 * ticks × q + ⌊ticks × r / div⌋, as ticks × q is an integer. Why it is exact: q and q × div ≤ lots
 * are exact (floorDiv), so is r; each product is checked against MAX_SAFE_INTEGER as above, and
 * so is the sum of the two exact integers (a true sum above it rounds to at least 2^53).
 */
function dealMoneySplit(ticks: number, lots: number, div: number): number {
  const q = floorDiv(lots, div);
  const high = ticks * q;
  const low = ticks * (lots - q * div);
  if (high > Number.MAX_SAFE_INTEGER || low > Number.MAX_SAFE_INTEGER) return -1;
  const money = high + floorDiv(low, div);
  return money <= Number.MAX_SAFE_INTEGER ? money : -1;
}

/** affordableLots() of a double amount of money, or -1 when that is not exact. */
export function affordableLotsNumber(market: MarketSpec, ticks: number, money: number): number {
  const numerator = money * market.dealDivNumber;
  const lotCost = ticks * market.dealMulNumber;
  if (numerator > Number.MAX_SAFE_INTEGER || lotCost > Number.MAX_SAFE_INTEGER) return -1;
  return floorDiv(numerator, lotCost);
}

/** stockUnits() in a double, or -1 when that is not exact. */
export function stockUnitsNumber(market: MarketSpec, lots: number): number {
  const units = lots * market.stockUnitsPerLotNumber;
  return units <= Number.MAX_SAFE_INTEGER ? units : -1;
}

/** feeUnits() of a double amount of units, or -1 when that is not exact. */
export function feeUnitsNumber(market: MarketSpec, units: number, rateTicks: number): number {
  if (rateTicks === 0 || units === 0) return 0;
  const product = units * rateTicks;
  const denom = market.feeDenomNumber;
  if (product > Number.MAX_SAFE_INTEGER || denom === Number.POSITIVE_INFINITY) return -1;
  const quotient = floorDiv(product, denom);
  return quotient * denom === product ? quotient : quotient + 1; // rounded up
}

/** Indexes of the amounts dealAmountsNumber() writes. */
export const DEAL_MONEY_UNITS = 0;
export const DEAL_STOCK_UNITS = 1;
export const DEAL_ASK_FEE = 2;
export const DEAL_BID_FEE = 3;
export const DEAL_AMOUNTS = 4;

/**
 * A deal's money (dealMoneyNumber), stock units (stockUnitsNumber), the ask side's fee on the
 * money at `askRate` and the bid side's fee on the stock at `bidRate` (feeUnitsNumber), written
 * to `out` at the DEAL_* indexes; false, writing nothing, when one of them is not exact. Results
 * go through `out` rather than a returned double: V8 boxes the double result of a call it does
 * not inline (an allocation per deal).
 */
export function dealAmountsNumber(
  market: MarketSpec, ticks: number, lots: number, askRate: number, bidRate: number, out: Float64Array,
): boolean {
  const money = dealMoneyNumber(market, ticks, lots);
  const stock = stockUnitsNumber(market, lots);
  if (money < 0 || stock < 0) return false;
  const askFee = feeUnitsNumber(market, money, askRate);
  const bidFee = feeUnitsNumber(market, stock, bidRate);
  if (askFee < 0 || bidFee < 0) return false;
  out[DEAL_MONEY_UNITS] = money;
  out[DEAL_STOCK_UNITS] = stock;
  out[DEAL_ASK_FEE] = askFee;
  out[DEAL_BID_FEE] = bidFee;
  return true;
}

/**
 * Money units of `lots` at `ticks`: exact when money.prec_save ≥ money_prec + stock_prec (as the
 * original requires), else truncated toward zero — the same amount leaves the buyer and reaches
 * the seller, so nothing is created or lost. Allocates (bigint).
 */
export function dealMoney(market: MarketSpec, ticks: number, lots: number): bigint {
  const product = ticks * lots;
  if (product <= Number.MAX_SAFE_INTEGER) {
    // Exact in doubles: one bigint conversion instead of two, then the scale.
    return market.dealDiv === 1n ? BigInt(product) * market.dealMul : BigInt(product) / market.dealDiv;
  }
  return (BigInt(ticks) * BigInt(lots) * market.dealMul) / market.dealDiv;
}

/**
 * The whole lots at `ticks` that `money` units pay for: the largest n with dealMoney(ticks, n) ≤
 * money when deal money is exact, ⌊money × dealDiv / (ticks × dealMul)⌋ in general. Allocates.
 */
export function affordableLots(market: MarketSpec, ticks: number, money: bigint): bigint {
  return (money * market.dealDiv) / (BigInt(ticks) * market.dealMul);
}

/** Stock balance units of `lots`: in doubles when the product is exact there (one bigint instead of three). Allocates. */
export function stockUnits(market: MarketSpec, lots: number): bigint {
  const units = lots * market.stockUnitsPerLotNumber;
  return units <= Number.MAX_SAFE_INTEGER ? BigInt(units) : BigInt(lots) * market.stockUnitsPerLot;
}

/** The fee on `units` at `rateTicks`, rounded up to a whole unit (the original's effective charge). Allocates. */
export function feeUnits(market: MarketSpec, units: bigint, rateTicks: number): bigint {
  if (rateTicks === 0 || units === 0n) return 0n;
  const product = units * BigInt(rateTicks);
  return (product + market.feeDenom - 1n) / market.feeDenom;
}
