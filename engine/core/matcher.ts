/**
 * The match loop and the settlement of each deal. No allocation beyond bigint arithmetic, no
 * callbacks: deals and order events go to the event buffer.
 *
 * The taker's funds were reserved (moved to frozen) before matching, so both legs of every deal
 * are paid from frozen funds that belong to the order paying them; receipts go to available, net
 * of the fee, and fees go to the fee account. Per deal (price P, lots n, money m = dealMoney(P, n)):
 *   ask side: frozen stock −n·u,  available money +(m − askFee)
 *   bid side: frozen money −m,    available stock +(n·u − bidFee)
 *   fee account: money +askFee, stock +bidFee
 * which moves every unit from one cell to another: nothing is created or destroyed.
 */
import type { BalanceTable } from '../balance/table.js';
import type { OrderBook } from '../book/order-book.js';
import { NIL, SIDE_ASK, TYPE_MARKET } from '../book/order-columns.js';
import { dealMoney, feeUnits, MAX_QUANTITY, stockUnits as stockUnitsOf, type MarketSpec } from '../money/specs.js';
import type { IdSequence } from '../ids.js';
import { OrderEvent, type EventBuffer } from './events.js';
import { OrderView } from './order-view.js';

export class Matcher {
  /** Scratch view for maker order events. */
  private readonly maker = new OrderView();
  /** Fees of the running command, credited to the fee account once at its end (see settleFees). */
  private feeMoney = 0n;
  private feeStock = 0n;

  constructor(
    private readonly balances: BalanceTable,
    private readonly feeRow: number,
    private readonly events: EventBuffer,
    private readonly dealIds: IdSequence,
  ) {}

  /**
   * Trades a taker whose quantity is stock (limit orders, market asks) against the opposite side,
   * best price first, oldest first within a price, while the taker's price allows (market orders: always).
   */
  matchByStock(book: OrderBook, spec: MarketSpec, taker: OrderView, takerRow: number, time: number): void {
    const isAsk = taker.side === SIDE_ASK;
    const levels = isAsk ? book.bids : book.asks;
    const orders = book.orders;
    const limited = taker.type !== TYPE_MARKET;
    while (taker.left > 0) {
      const level = levels.best();
      if (level === NIL) return;
      const price = levels.price[level]!;
      if (limited && (isAsk ? price < taker.price : price > taker.price)) return;
      let slot = levels.head[level]!;
      while (slot !== NIL && taker.left > 0) {
        const next = orders.next[slot]!;
        const makerLeft = orders.left[slot]!;
        this.trade(book, spec, taker, takerRow, slot, price, taker.left < makerLeft ? taker.left : makerLeft, time);
        slot = next;
      }
    }
  }

  /**
   * Trades a market bid that spends money: at each ask price it buys the largest whole number of
   * lots whose exact cost does not exceed the money left, capped by the maker's size; it stops
   * when the money left cannot buy one lot at the best price (later prices are only dearer), or
   * when it has bought MAX_QUANTITY lots in all.
   */
  matchByMoney(book: OrderBook, spec: MarketSpec, taker: OrderView, takerRow: number, time: number): void {
    const levels = book.asks;
    const orders = book.orders;
    for (;;) {
      const level = levels.best();
      if (level === NIL) return;
      const price = levels.price[level]!;
      const lotCost = BigInt(price) * spec.dealMul;
      let slot = levels.head[level]!;
      while (slot !== NIL) {
        const next = orders.next[slot]!;
        const affordable = (taker.leftMoney * spec.dealDiv) / lotCost;
        // Like any order, a market bid deals at most MAX_QUANTITY lots, so its dealStock stays exact.
        const room = MAX_QUANTITY - taker.dealStock;
        const wanted = affordable < BigInt(room) ? Number(affordable) : room;
        if (wanted === 0) return;
        const makerLeft = orders.left[slot]!;
        const lots = wanted < makerLeft ? wanted : makerLeft;
        this.trade(book, spec, taker, takerRow, slot, price, lots, time);
        // Stay on a maker that still has size: truncated deal money can leave enough for one more lot.
        if (lots === makerLeft) slot = next;
      }
    }
  }

  /**
   * Credits the fees the command's deals collected to the fee account: one Atomics operation per
   * asset per command instead of per deal (the fee row is shared by every shard). Callers invoke it
   * after matching, before the command returns, so balances are conserved at command boundaries.
   */
  settleFees(spec: MarketSpec): void {
    if (this.feeMoney !== 0n) this.balances.credit(this.feeRow, spec.money.index, this.feeMoney);
    if (this.feeStock !== 0n) this.balances.credit(this.feeRow, spec.stock.index, this.feeStock);
    this.feeMoney = 0n;
    this.feeStock = 0n;
  }

  /** Settles one deal of `lots` at `price` between the taker and the maker in `slot`. */
  private trade(
    book: OrderBook, spec: MarketSpec, taker: OrderView, takerRow: number,
    slot: number, price: number, lots: number, time: number,
  ): void {
    const orders = book.orders;
    const balances = this.balances;
    const stock = spec.stock.index;
    const money = spec.money.index;
    const makerRow = orders.row[slot]!;
    const makerFeeRate = orders.makerFee[slot]!;
    const value = dealMoney(spec, price, lots);
    const stockUnits = stockUnitsOf(spec, lots);
    const takerIsAsk = taker.side === SIDE_ASK;
    const askRow = takerIsAsk ? takerRow : makerRow;
    const bidRow = takerIsAsk ? makerRow : takerRow;
    const askFee = feeUnits(spec, value, takerIsAsk ? taker.takerFee : makerFeeRate);
    const bidFee = feeUnits(spec, stockUnits, takerIsAsk ? makerFeeRate : taker.takerFee);

    balances.spendFrozen(askRow, stock, stockUnits);
    balances.credit(askRow, money, value - askFee);
    balances.spendFrozen(bidRow, money, value);
    balances.credit(bidRow, stock, stockUnits - bidFee);
    this.feeMoney += askFee;
    this.feeStock += bidFee;

    if (takerIsAsk) {
      taker.freeze -= stockUnits;
      taker.left -= lots;
      taker.dealFee += askFee;
      orders.freeze[slot] = orders.freeze[slot]! - value;
      orders.dealFee[slot] = orders.dealFee[slot]! + bidFee;
    } else {
      taker.freeze -= value;
      if (taker.type === TYPE_MARKET) taker.leftMoney -= value;
      else taker.left -= lots;
      taker.dealFee += bidFee;
      orders.freeze[slot] = orders.freeze[slot]! - stockUnits;
      orders.dealFee[slot] = orders.dealFee[slot]! + askFee;
    }
    taker.dealStock += lots;
    taker.dealMoney += value;
    taker.mtime = time;
    book.reduce(slot, lots);
    orders.dealStock[slot] = orders.dealStock[slot]! + lots;
    orders.dealMoney[slot] = orders.dealMoney[slot]! + value;
    orders.mtime[slot] = time;

    const makerId = orders.id[slot]!;
    this.events.deal(
      this.dealIds.next(), time, spec.index, taker.side, price, lots,
      takerIsAsk ? taker.id : makerId, takerIsAsk ? makerId : taker.id,
      takerIsAsk ? taker.user : orders.user[slot]!, takerIsAsk ? orders.user[slot]! : taker.user,
      value, askFee, bidFee,
    );

    const maker = this.maker;
    loadOrder(book, spec.index, slot, maker);
    if (orders.left[slot] === 0) {
      // A bid's freeze may keep a remainder when deal money is truncated (see money/specs.ts).
      const rest = orders.freeze[slot];
      if (rest !== 0n) balances.release(makerRow, orders.side[slot] === SIDE_ASK ? stock : money, rest);
      maker.freeze = 0n;
      this.events.order(OrderEvent.FINISH, maker);
      book.remove(slot);
    } else {
      this.events.order(OrderEvent.UPDATE, maker);
    }
  }
}

/** Copies a pending order's columns into a view. */
export function loadOrder(book: OrderBook, market: number, slot: number, view: OrderView): void {
  const o = book.orders;
  view.id = o.id[slot]!;
  view.market = market;
  view.side = o.side[slot]!;
  view.type = 1;
  view.user = o.user[slot]!;
  view.ctime = o.ctime[slot]!;
  view.mtime = o.mtime[slot]!;
  view.price = o.price[slot]!;
  view.amount = o.amount[slot]!;
  view.left = o.left[slot]!;
  view.dealStock = o.dealStock[slot]!;
  view.amountMoney = 0n;
  view.leftMoney = 0n;
  view.takerFee = o.takerFee[slot]!;
  view.makerFee = o.makerFee[slot]!;
  view.dealMoney = o.dealMoney[slot]!;
  view.dealFee = o.dealFee[slot]!;
  view.freeze = o.freeze[slot]!;
  view.source = o.source[slot]!;
}
