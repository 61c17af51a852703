/**
 * Engine state → the protocol's JSON shapes, decimals as strings without trailing zeros.
 */
import { SIDE_ASK, SIDE_BID, TYPE_MARKET } from '../../engine/book/order-columns.js';
import type { OrderView } from '../../engine/core/order-view.js';
import { formatUnits, rescaleTruncate } from '../../engine/money/decimal.js';
import type { AssetSpec, MarketSpec, Specs } from '../../engine/money/specs.js';

export interface OrderInfo {
  id: number;
  market: string;
  source: string;
  type: number;
  side: number;
  user: number;
  ctime: number;
  mtime: number;
  price: string;
  amount: string;
  taker_fee: string;
  maker_fee: string;
  left: string;
  deal_stock: string;
  deal_money: string;
  deal_fee: string;
}

/** Microseconds → seconds with a fractional part, as the original's doubles. */
export function seconds(micros: number): number {
  return micros / 1e6;
}

/**
 * A non-negative integer count of 10^-decimals units as formatUnits prints it, without bigint for
 * the common case (a safe integer); anything else goes through formatUnits.
 */
export function unitsText(units: number, decimals: number): string {
  if (!(units >= 0 && units <= Number.MAX_SAFE_INTEGER && Number.isInteger(units))) return formatUnits(BigInt(units), decimals);
  if (decimals === 0 || units === 0) return String(units);
  // Integers below 2^53 and powers of ten up to 10^18 are exact doubles, and so are % and the division of a multiple.
  const unit = POW10[decimals]!;
  let fraction = units % unit;
  const whole = (units - fraction) / unit;
  if (fraction === 0) return String(whole);
  let places = decimals;
  while (fraction % 10 === 0) {
    fraction /= 10;
    places--;
  }
  const digits = String(fraction);
  return `${whole}.${digits.length < places ? '0'.repeat(places - digits.length) + digits : digits}`;
}

/** 10^0 … 10^22, exact doubles. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** formatUnits, through unitsText when the value is a non-negative safe integer. */
export function bigUnitsText(units: bigint, decimals: number): string {
  return units >= 0n && units <= MAX_SAFE ? unitsText(Number(units), decimals) : formatUnits(units, decimals);
}

/** The protocol's order object; `names` resolves the market and the source label. */
export function orderInfo(names: { readonly specs: Specs; sourceName(id: number): string }, o: OrderView): OrderInfo {
  const spec = names.specs.markets[o.market]!;
  const marketBid = o.type === TYPE_MARKET && o.side === SIDE_BID;
  const stockPrec = spec.stockPrec;
  const moneySave = spec.money.precSave;
  return {
    id: o.id,
    market: spec.name,
    source: names.sourceName(o.source),
    type: o.type,
    side: o.side,
    user: o.user,
    ctime: seconds(o.ctime),
    mtime: seconds(o.mtime),
    price: unitsText(o.price, spec.moneyPrec),
    amount: marketBid ? bigUnitsText(o.amountMoney, moneySave) : unitsText(o.amount, stockPrec),
    taker_fee: unitsText(o.takerFee, spec.feePrec),
    maker_fee: unitsText(o.makerFee, spec.feePrec),
    left: marketBid ? bigUnitsText(o.leftMoney, moneySave) : unitsText(o.left, stockPrec),
    deal_stock: unitsText(o.dealStock, stockPrec),
    deal_money: bigUnitsText(o.dealMoney, moneySave),
    deal_fee: bigUnitsText(o.dealFee, (o.side === SIDE_ASK ? spec.money : spec.stock).precSave),
  };
}

/**
 * JSON.stringify(info), written out: the same text (member order, number and string spellings),
 * a few times faster. Market names are [A-Za-z0-9_-] and decimals digits and '.', so only the
 * source label needs JSON's escaping.
 */
export function orderJson(o: OrderInfo): string {
  return `{"id":${o.id},"market":"${o.market}","source":${JSON.stringify(o.source)},"type":${o.type},"side":${o.side},"user":${o.user},` +
    `"ctime":${o.ctime},"mtime":${o.mtime},"price":"${o.price}","amount":"${o.amount}","taker_fee":"${o.taker_fee}","maker_fee":"${o.maker_fee}",` +
    `"left":"${o.left}","deal_stock":"${o.deal_stock}","deal_money":"${o.deal_money}","deal_fee":"${o.deal_fee}"}`;
}

/** A balance in units of prec_save, shown at prec_show (truncated), as balance.query does. */
export function shownBalance(asset: AssetSpec, units: bigint): string {
  return formatUnits(rescaleTruncate(units, asset.precSave, asset.precShow), asset.precShow);
}

export function priceText(spec: MarketSpec, ticks: number): string {
  return unitsText(ticks, spec.moneyPrec);
}

export function amountText(spec: MarketSpec, lots: bigint): string {
  return bigUnitsText(lots, spec.stockPrec);
}
