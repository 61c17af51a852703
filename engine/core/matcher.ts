/**
 * The match loop and the settlement of each deal. No callbacks: deals and order events go to the
 * event buffer. Amounts are computed in doubles when exact (money/specs.ts `*Number`), so a deal
 * allocates only the few bigints the taker's OrderView needs at settle(); `tradeBig` is the bigint
 * path for deals whose amounts pass 2^53.
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
import { addInt64, copyInt64, setInt64, unitsAt } from '../book/int64-words.js';
import { NIL, SIDE_ASK, TYPE_MARKET } from '../book/order-columns.js';
import {
  affordableLots, affordableLotsNumber, DEAL_AMOUNTS, DEAL_ASK_FEE, DEAL_BID_FEE, DEAL_MONEY_UNITS, DEAL_STOCK_UNITS, dealAmountsNumber,
  dealMoney, feeUnits, MAX_QUANTITY, stockUnits as stockUnitsOf, type MarketSpec,
} from '../money/specs.js';
import type { IdSequence } from '../ids.js';
import { DEAL_DOUBLES, DealDouble, OrderEvent, type EventBuffer } from './events.js';
import { AMOUNT_MONEY, DEAL_FEE, DEAL_MONEY, FREEZE, LEFT_MONEY, type OrderView } from './order-view.js';

export class Matcher {
  /*
   * What the running command's deals owe that is applied once, by settle(), instead of per deal:
   * the fees (the fee row is shared by every shard) and the taker's own two legs and totals. All
   * are doubles holding exact integers; flushTaker()/flushFees() apply them early before a sum
   * could pass 2^53. Balances are conserved at command boundaries (settle() runs before the
   * command returns); in between, the taker's frozen funds are only ever higher than final.
   */
  private feeMoney = 0;
  private feeStock = 0;
  /** Frozen units the taker paid, units it received net of fees, its fees, its deal money. */
  private takerPaid = 0;
  private takerReceived = 0;
  private takerFees = 0;
  private takerMoney = 0;
  /** The command being matched (set by matchByStock/matchByMoney). */
  private spec: MarketSpec | null = null;
  private taker: OrderView | null = null;
  private takerRow = -1;
  /**
   * The running deal's amounts (money/specs.ts DEAL_* indexes) and its DEAL record's doubles
   * (DealDouble indexes): doubles handed to calls V8 does not inline go through typed arrays,
   * because double arguments and results are boxed (an allocation each, per deal).
   */
  private readonly amounts = new Float64Array(DEAL_AMOUNTS);
  private readonly dealDoubles = new Float64Array(DEAL_DOUBLES);

  constructor(
    private readonly balances: BalanceTable,
    private readonly feeRow: number,
    private readonly events: EventBuffer,
    private readonly dealIds: IdSequence,
  ) {}

  /**
   * Trades a taker whose quantity is stock (limit orders, market asks) against the opposite side,
   * best price first, oldest first within a price, while the taker's price allows (market orders: always).
   * Deals carry the taker's ctime (the command's time), as do the makers' mtime.
   */
  matchByStock(book: OrderBook, spec: MarketSpec, taker: OrderView, takerRow: number): void {
    this.begin(spec, taker, takerRow);
    const isAsk = taker.side === SIDE_ASK;
    const levels = isAsk ? book.bids : book.asks;
    const orders = book.orders;
    const limited = taker.type !== TYPE_MARKET;
    while (taker.left > 0) {
      const level = levels.best();
      if (level === NIL) return;
      const price = levels.price[level]!;
      if (limited && !crosses(taker.side, taker.price, price)) return;
      let slot = levels.head[level]!;
      while (slot !== NIL && taker.left > 0) {
        const next = orders.next[slot]!;
        const makerLeft = orders.left[slot]!;
        this.trade(book, spec, taker, slot, price, taker.left < makerLeft ? taker.left : makerLeft);
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
  matchByMoney(book: OrderBook, spec: MarketSpec, taker: OrderView, takerRow: number): void {
    this.begin(spec, taker, takerRow);
    const levels = book.asks;
    const orders = book.orders;
    for (;;) {
      const level = levels.best();
      if (level === NIL) return;
      const price = levels.price[level]!;
      let slot = levels.head[level]!;
      while (slot !== NIL) {
        const next = orders.next[slot]!;
        // Like any order, a market bid deals at most MAX_QUANTITY lots, so its dealStock stays exact.
        const affordable = affordableWith(spec, price, taker);
        const room = MAX_QUANTITY - taker.dealStock;
        const wanted = affordable < room ? affordable : room;
        if (wanted === 0) return;
        const makerLeft = orders.left[slot]!;
        const lots = wanted < makerLeft ? wanted : makerLeft;
        this.trade(book, spec, taker, slot, price, lots);
        // Stay on a maker that still has size: truncated deal money can leave enough for one more lot.
        if (lots === makerLeft) slot = next;
      }
    }
  }

  /**
   * Applies what the command's deals left pending: the taker's legs and totals, and the fees to
   * the fee account (one Atomics operation per asset per command, not per deal). Callers invoke
   * it after matching, before the command returns and before they read the taker's freeze.
   */
  settle(): void {
    this.flushTaker();
    this.flushFees();
    this.spec = null;
    this.taker = null;
    this.takerRow = -1;
  }

  private begin(spec: MarketSpec, taker: OrderView, takerRow: number): void {
    this.spec = spec;
    this.taker = taker;
    this.takerRow = takerRow;
  }

  private flushTaker(): void {
    const spec = this.spec;
    const taker = this.taker;
    if (spec === null || taker === null) return;
    const isAsk = taker.side === SIDE_ASK;
    if (this.takerPaid !== 0 || this.takerReceived !== 0) {
      this.balances.settleUnits(this.takerRow, isAsk ? spec.stock.index : spec.money.index, this.takerPaid,
        isAsk ? spec.money.index : spec.stock.index, this.takerReceived);
    }
    const money = taker.money;
    const words = taker.moneyWords;
    if (this.takerPaid !== 0) addInt64(money, words, FREEZE, -this.takerPaid);
    if (this.takerFees !== 0) addInt64(money, words, DEAL_FEE, this.takerFees);
    if (this.takerMoney !== 0) addInt64(money, words, DEAL_MONEY, this.takerMoney);
    this.takerPaid = 0;
    this.takerReceived = 0;
    this.takerFees = 0;
    this.takerMoney = 0;
  }

  private flushFees(): void {
    const spec = this.spec;
    if (spec === null) return;
    if (this.feeMoney !== 0 || this.feeStock !== 0) this.balances.creditTwoUnits(this.feeRow, spec.money.index, this.feeMoney, spec.stock.index, this.feeStock);
    this.feeMoney = 0;
    this.feeStock = 0;
  }

  /**
   * Settles one deal of `lots` at `price` between the taker and the maker in `slot`. The time is
   * read from the taker rather than passed: a double argument to a call V8 does not inline is
   * boxed (an allocation per deal).
   */
  private trade(book: OrderBook, spec: MarketSpec, taker: OrderView, slot: number, price: number, lots: number): void {
    const orders = book.orders;
    orders.guard(slot); // the maker's columns change below and in makerDone
    const time = taker.ctime;
    const takerIsAsk = taker.side === SIDE_ASK;
    const makerRate = orders.makerFee[slot]!;
    // Deal money and stock units, and each side's fee on what it receives, in doubles when exact.
    const amounts = this.amounts;
    if (!dealAmountsNumber(spec, price, lots, takerIsAsk ? taker.takerFee : makerRate, takerIsAsk ? makerRate : taker.takerFee, amounts)) {
      this.tradeBig(book, spec, taker, slot, price, lots);
      return;
    }
    const value = amounts[DEAL_MONEY_UNITS]!;
    const stock = amounts[DEAL_STOCK_UNITS]!;
    const askFee = amounts[DEAL_ASK_FEE]!;
    const bidFee = amounts[DEAL_BID_FEE]!;
    // The ask side pays stock and receives money net of askFee; the bid side the other way round.
    // One call per leg whichever side the taker is (fewer call sites: V8 inlines more of them).
    const askPaid = stock;
    const askReceived = value - askFee;
    const bidPaid = value;
    const bidReceived = stock - bidFee;
    const stockAsset = spec.stock.index;
    const moneyAsset = spec.money.index;
    this.balances.settleUnits(orders.row[slot]!, takerIsAsk ? moneyAsset : stockAsset, takerIsAsk ? bidPaid : askPaid,
      takerIsAsk ? stockAsset : moneyAsset, takerIsAsk ? bidReceived : askReceived);
    this.addTaker(takerIsAsk);
    addInt64(orders.freeze, orders.freezeWords, slot, takerIsAsk ? -bidPaid : -askPaid);
    addInt64(orders.dealFee, orders.dealFeeWords, slot, takerIsAsk ? bidFee : askFee);
    if (!takerIsAsk && taker.type === TYPE_MARKET) addInt64(taker.money, taker.moneyWords, LEFT_MONEY, -value);
    if (this.feeMoney + askFee > Number.MAX_SAFE_INTEGER || this.feeStock + bidFee > Number.MAX_SAFE_INTEGER) this.flushFees();
    this.feeMoney += askFee;
    this.feeStock += bidFee;
    if (takerIsAsk || taker.type !== TYPE_MARKET) taker.left -= lots;
    taker.dealStock += lots;
    addInt64(orders.dealMoney, orders.dealMoneyWords, slot, value);
    const doubles = this.dealDoubles;
    doubles[DealDouble.TIME] = time;
    doubles[DealDouble.PRICE] = price;
    doubles[DealDouble.AMOUNT] = lots;
    doubles[DealDouble.MONEY] = value;
    doubles[DealDouble.ASK_FEE] = askFee;
    doubles[DealDouble.BID_FEE] = bidFee;
    this.events.dealUnits(
      this.dealIds.next(), spec.index, taker.side,
      takerIsAsk ? taker.id : orders.id[slot]!, takerIsAsk ? orders.id[slot]! : taker.id,
      takerIsAsk ? taker.user : orders.user[slot]!, takerIsAsk ? orders.user[slot]! : taker.user,
      doubles,
    );
    this.makerDone(book, spec, slot, lots, time);
  }

  /**
   * Adds the running deal's taker legs and totals (from `amounts`: read here, not passed, for the
   * reason given there) to the pending ones, flushing first if a sum would leave 2^53.
   */
  private addTaker(takerIsAsk: boolean): void {
    const amounts = this.amounts;
    const money = amounts[DEAL_MONEY_UNITS]!;
    const stock = amounts[DEAL_STOCK_UNITS]!;
    const fee = takerIsAsk ? amounts[DEAL_ASK_FEE]! : amounts[DEAL_BID_FEE]!;
    const paid = takerIsAsk ? stock : money;
    const received = (takerIsAsk ? money : stock) - fee;
    const max = Number.MAX_SAFE_INTEGER;
    if (this.takerPaid + paid > max || this.takerReceived + received > max || this.takerFees + fee > max || this.takerMoney + money > max) {
      this.flushTaker();
    }
    this.takerPaid += paid;
    this.takerReceived += received;
    this.takerFees += fee;
    this.takerMoney += money;
  }

  /** trade() in bigint, for deals whose amounts do not all fit the double fast path. */
  private tradeBig(book: OrderBook, spec: MarketSpec, taker: OrderView, slot: number, price: number, lots: number): void {
    const orders = book.orders;
    orders.guard(slot);
    const time = taker.ctime;
    const balances = this.balances;
    const stock = spec.stock.index;
    const money = spec.money.index;
    const makerRow = orders.row[slot]!;
    const takerRow = this.takerRow;
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
    this.flushFees();
    balances.credit(this.feeRow, money, askFee);
    balances.credit(this.feeRow, stock, bidFee);

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
    orders.dealMoney[slot] = orders.dealMoney[slot]! + value;

    const makerId = orders.id[slot]!;
    this.events.deal(
      this.dealIds.next(), time, spec.index, taker.side, price, lots,
      takerIsAsk ? taker.id : makerId, takerIsAsk ? makerId : taker.id,
      takerIsAsk ? taker.user : orders.user[slot]!, takerIsAsk ? orders.user[slot]! : taker.user,
      value, askFee, bidFee,
    );
    this.makerDone(book, spec, slot, lots, time);
  }

  /**
   * The maker's side after a deal of `lots`: its book entry shrinks, and it gets an ORDER event —
   * UPDATE, or FINISH when filled (its leftover freeze released, its slot freed).
   */
  private makerDone(book: OrderBook, spec: MarketSpec, slot: number, lots: number, time: number): void {
    const orders = book.orders;
    book.reduce(slot, lots);
    orders.dealStock[slot] = orders.dealStock[slot]! + lots;
    orders.mtime[slot] = time;
    if (orders.left[slot] === 0) {
      // A bid's freeze may keep a remainder when deal money is truncated (see money/specs.ts).
      const asset = orders.side[slot] === SIDE_ASK ? spec.stock.index : spec.money.index;
      this.balances.releaseHeld(orders.row[slot]!, asset, orders.freeze, orders.freezeWords, slot);
      setInt64(orders.freezeWords, slot, 0);
      this.events.orderFromBook(OrderEvent.FINISH, book, spec.index, slot);
      book.remove(slot);
    } else {
      this.events.orderFromBook(OrderEvent.UPDATE, book, spec.index, slot);
    }
  }
}

/** True when a limit order of `side` at `limit` trades with an opposite order at `price`. */
export function crosses(side: number, limit: number, price: number): boolean {
  return side === SIDE_ASK ? price >= limit : price <= limit;
}

/** affordableLots() of a market bid's money left, capped at MAX_QUANTITY: in doubles when exact. */
function affordableWith(spec: MarketSpec, ticks: number, taker: OrderView): number {
  const money = unitsAt(taker.moneyWords, LEFT_MONEY);
  const lots = money >= 0 ? affordableLotsNumber(spec, ticks, money) : -1;
  if (lots >= 0) return lots;
  const big = affordableLots(spec, ticks, taker.leftMoney);
  return big < BigInt(MAX_QUANTITY) ? Number(big) : MAX_QUANTITY;
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
  view.takerFee = o.takerFee[slot]!;
  view.makerFee = o.makerFee[slot]!;
  view.source = o.source[slot]!;
  const words = view.moneyWords;
  setInt64(words, AMOUNT_MONEY, 0);
  setInt64(words, LEFT_MONEY, 0);
  copyInt64(o.dealMoneyWords, slot, words, DEAL_MONEY);
  copyInt64(o.dealFeeWords, slot, words, DEAL_FEE);
  copyInt64(o.freezeWords, slot, words, FREEZE);
}
