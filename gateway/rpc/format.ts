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

/** The protocol's order object; `names` resolves the market and the source label. */
export function orderInfo(names: { readonly specs: Specs; sourceName(id: number): string }, o: OrderView): OrderInfo {
  const spec = names.specs.markets[o.market]!;
  const marketBid = o.type === TYPE_MARKET && o.side === SIDE_BID;
  const lots = (n: number): string => formatUnits(BigInt(n), spec.stockPrec);
  return {
    id: o.id,
    market: spec.name,
    source: names.sourceName(o.source),
    type: o.type,
    side: o.side,
    user: o.user,
    ctime: seconds(o.ctime),
    mtime: seconds(o.mtime),
    price: formatUnits(BigInt(o.price), spec.moneyPrec),
    amount: marketBid ? formatUnits(o.amountMoney, spec.money.precSave) : lots(o.amount),
    taker_fee: formatUnits(BigInt(o.takerFee), spec.feePrec),
    maker_fee: formatUnits(BigInt(o.makerFee), spec.feePrec),
    left: marketBid ? formatUnits(o.leftMoney, spec.money.precSave) : lots(o.left),
    deal_stock: lots(o.dealStock),
    deal_money: formatUnits(o.dealMoney, spec.money.precSave),
    deal_fee: formatUnits(o.dealFee, (o.side === SIDE_ASK ? spec.money : spec.stock).precSave),
  };
}

/** A balance in units of prec_save, shown at prec_show (truncated), as balance.query does. */
export function shownBalance(asset: AssetSpec, units: bigint): string {
  return formatUnits(rescaleTruncate(units, asset.precSave, asset.precShow), asset.precShow);
}

export function priceText(spec: MarketSpec, ticks: number): string {
  return formatUnits(BigInt(ticks), spec.moneyPrec);
}

export function amountText(spec: MarketSpec, lots: bigint): string {
  return formatUnits(lots, spec.stockPrec);
}
