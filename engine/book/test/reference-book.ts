/**
 * A naive reference exchange for property tests (tests only): plain objects and arrays, bigint
 * for every quantity, sorting instead of indexes, and the money rules re-derived from the
 * precisions in protocol.md ("Matching and money rules") rather than taken from engine code.
 * It must stay obviously correct: clarity beats speed here.
 *
 * Units are the engine's: amounts in lots (10^-stock_prec), prices in ticks (10^-money_prec),
 * balances in units (10^-prec_save), fee rates in fee ticks (10^-fee_prec).
 */
import type { MarketSpec } from '../../money/specs.js';

export type Side = 'ask' | 'bid';

export type RefCode =
  | 'ok'
  | 'balance not enough'
  | 'amount too small'
  | 'no enough trader'
  | 'order not found'
  | 'user not match'
  | 'repeat update'
  | 'book full';

/**
 * Most lots one price level may hold, and one order may deal (the engine counts lots in doubles;
 * a market bid, sized in money, stops buying there). The reference does not model the engine's
 * order and level capacities: tests stay well below them.
 */
export const MAX_LOTS = 2n ** 53n - 1n;

export interface RefOrder {
  readonly id: number;
  readonly market: number;
  readonly user: number;
  readonly side: Side;
  readonly price: bigint;
  readonly amount: bigint;
  left: bigint;
  readonly takerFee: bigint;
  readonly makerFee: bigint;
  /** Units of the frozen asset this resting order still holds. */
  freeze: bigint;
  dealStock: bigint;
  dealMoney: bigint;
  dealFee: bigint;
}

export interface RefFill {
  /** The maker order itself (for settlement); compare fills by the fields below. */
  readonly maker: RefOrder;
  readonly makerId: number;
  readonly takerId: number;
  readonly takerSide: Side;
  readonly askUser: number;
  readonly bidUser: number;
  readonly price: bigint;
  readonly lots: bigint;
  readonly money: bigint;
  readonly askFee: bigint;
  readonly bidFee: bigint;
  /** True when this fill left the maker with nothing (it leaves the book). */
  readonly makerFinished: boolean;
}

/** The taker as a command left it. For a market bid `left` is money units, else lots. */
export interface RefTaker {
  readonly id: number;
  readonly left: bigint;
  readonly dealStock: bigint;
  readonly dealMoney: bigint;
  readonly dealFee: bigint;
  /** True when the remainder rests on the book. */
  readonly rested: boolean;
}

export interface RefResult {
  readonly code: RefCode;
  readonly fills: RefFill[];
  readonly taker: RefTaker | null;
}

export interface RefDepthLevel {
  readonly price: bigint;
  readonly amount: bigint;
}

const ten = (n: number): bigint => {
  if (n < 0) throw new RangeError(`negative exponent ${n}`);
  return 10n ** BigInt(n);
};

/**
 * The money rules of one market, from its precisions only:
 *  - a lot is 10^-sp stock, i.e. 10^(stockSave − sp) stock units;
 *  - lots × ticks is exactly lots × ticks × 10^-(sp + mp) money, i.e. that × 10^moneySave units,
 *    truncated toward zero to a whole unit ("every balance change is truncated");
 *  - a fee is rounded up to a whole unit of the asset it is paid in;
 *  - a market bid's amount is money with sp decimals.
 */
export class RefMoney {
  readonly stockSave: number;
  readonly moneySave: number;
  readonly sp: number;
  readonly mp: number;
  readonly feeOne: bigint;
  readonly minLots: bigint;

  constructor(spec: MarketSpec) {
    this.stockSave = spec.stock.precSave;
    this.moneySave = spec.money.precSave;
    this.sp = spec.stockPrec;
    this.mp = spec.moneyPrec;
    this.feeOne = ten(spec.feePrec);
    this.minLots = BigInt(spec.minAmountLots);
  }

  stockUnits(lots: bigint): bigint {
    return lots * ten(this.stockSave - this.sp);
  }

  /** Exact value numerator over denominator; the truncated unit count is their quotient. */
  private value(price: bigint, lots: bigint): [bigint, bigint] {
    return [price * lots * ten(this.moneySave), ten(this.sp + this.mp)];
  }

  dealMoney(price: bigint, lots: bigint): bigint {
    const [numerator, denominator] = this.value(price, lots);
    return numerator / denominator;
  }

  fee(units: bigint, rate: bigint): bigint {
    const product = units * rate;
    const whole = product / this.feeOne;
    return whole * this.feeOne === product ? whole : whole + 1n;
  }

  /** Money units of a market bid amount (money with sp decimals). */
  marketBidUnits(amount: bigint): bigint {
    return amount * ten(this.moneySave - this.sp);
  }

  /** The most lots whose exact cost at `price` is at most `money` units. */
  affordableLots(money: bigint, price: bigint): bigint {
    // price × lots × 10^-(sp+mp) ≤ money × 10^-moneySave
    return (money * ten(this.sp + this.mp)) / (price * ten(this.moneySave));
  }

  /** True when `money` units are worth less than `price` × min_amount, compared exactly. */
  belowMinimumAt(money: bigint, price: bigint): boolean {
    const [numerator, denominator] = this.value(price, this.minLots);
    return money * denominator < numerator;
  }
}

function priorityBefore(a: RefOrder, b: RefOrder): number {
  if (a.price !== b.price) {
    const aBetter = a.side === 'ask' ? a.price < b.price : a.price > b.price;
    return aBetter ? -1 : 1;
  }
  return a.id - b.id;
}

/** One market's book: two arrays kept sorted by price-time priority, best first. */
export class ReferenceBook {
  readonly asks: RefOrder[] = [];
  readonly bids: RefOrder[] = [];

  constructor(readonly money: RefMoney) {}

  side(side: Side): RefOrder[] {
    return side === 'ask' ? this.asks : this.bids;
  }

  rest(order: RefOrder): void {
    const list = this.side(order.side);
    list.push(order);
    list.sort(priorityBefore);
  }

  find(id: number): RefOrder | undefined {
    return this.asks.find((o) => o.id === id) ?? this.bids.find((o) => o.id === id);
  }

  remove(order: RefOrder): void {
    const list = this.side(order.side);
    const at = list.indexOf(order);
    if (at < 0) throw new Error(`order ${order.id} is not on the book`);
    list.splice(at, 1);
  }

  /**
   * Trades `taker` (whose left is stock) against the opposite side while the maker's price is
   * acceptable (`limited`) or without limit. Fills happen at the maker's price.
   */
  matchByStock(taker: RefOrder, limited: boolean): RefFill[] {
    const fills: RefFill[] = [];
    const opposite = this.side(taker.side === 'ask' ? 'bid' : 'ask');
    for (;;) {
      const maker = opposite[0];
      if (maker === undefined || taker.left === 0n) return fills;
      if (limited && (taker.side === 'ask' ? maker.price < taker.price : maker.price > taker.price)) return fills;
      const lots = taker.left < maker.left ? taker.left : maker.left;
      fills.push(this.fill(taker, maker, lots, false));
    }
  }

  /** Trades a market bid holding `money` units; returns the fills and the money left. */
  matchByMoney(taker: RefOrder, money: bigint): { fills: RefFill[]; moneyLeft: bigint } {
    const fills: RefFill[] = [];
    let moneyLeft = money;
    for (;;) {
      const maker = this.asks[0];
      if (maker === undefined) break;
      let affordable = this.money.affordableLots(moneyLeft, maker.price);
      if (affordable > MAX_LOTS - taker.dealStock) affordable = MAX_LOTS - taker.dealStock;
      if (affordable === 0n) break;
      const lots = affordable < maker.left ? affordable : maker.left;
      const fill = this.fill(taker, maker, lots, true);
      moneyLeft -= fill.money;
      fills.push(fill);
    }
    return { fills, moneyLeft };
  }

  /** One fill of `lots` at the maker's price; a taker that spends money (`byMoney`) keeps its left. */
  private fill(taker: RefOrder, maker: RefOrder, lots: bigint, byMoney: boolean): RefFill {
    const money = this.money.dealMoney(maker.price, lots);
    const stock = this.money.stockUnits(lots);
    const ask = taker.side === 'ask' ? taker : maker;
    const bid = taker.side === 'ask' ? maker : taker;
    const askRate = ask === taker ? taker.takerFee : maker.makerFee;
    const bidRate = bid === taker ? taker.takerFee : maker.makerFee;
    const askFee = this.money.fee(money, askRate);
    const bidFee = this.money.fee(stock, bidRate);
    maker.left -= lots;
    if (!byMoney) taker.left -= lots;
    for (const o of [taker, maker]) {
      o.dealStock += lots;
      o.dealMoney += money;
    }
    ask.dealFee += askFee;
    bid.dealFee += bidFee;
    const makerFinished = maker.left === 0n;
    if (makerFinished) this.remove(maker);
    return {
      maker, makerId: maker.id, takerId: taker.id, takerSide: taker.side, askUser: ask.user, bidUser: bid.user,
      price: maker.price, lots, money, askFee, bidFee, makerFinished,
    };
  }

  /** Up to `limit` levels, best first; with interval > 0, asks round up and bids down to its multiples. */
  depth(side: Side, limit: number, interval: bigint): RefDepthLevel[] {
    const merged = new Map<bigint, bigint>();
    for (const o of this.side(side)) {
      let price = o.price;
      if (interval > 0n) {
        const down = (price / interval) * interval;
        price = side === 'bid' || down === price ? down : down + interval;
      }
      merged.set(price, (merged.get(price) ?? 0n) + o.left);
    }
    const levels = [...merged].map(([price, amount]) => ({ price, amount }));
    levels.sort((a, b) => (a.price === b.price ? 0 : (a.price < b.price) === (side === 'ask') ? -1 : 1));
    return levels.slice(0, limit);
  }
}

export interface RefCell {
  available: bigint;
  frozen: bigint;
}

/**
 * Books of several markets over one balance sheet (user × asset → available, frozen), with the
 * fee account collecting every fee. Users exist once a balance update named them (as the engine's
 * balance rows do); the fee account exists from the start.
 */
export class ReferenceExchange {
  readonly books = new Map<number, ReferenceBook>();
  readonly specs = new Map<number, MarketSpec>();
  /** `${user}/${asset}` → cell. */
  private readonly cells = new Map<string, RefCell>();
  readonly users = new Set<number>();
  /** Per asset: Σ deposits − Σ withdrawals. */
  readonly supply = new Map<number, bigint>();
  private readonly updates = new Set<string>();
  nextOrderId = 1;
  nextDealId = 1;

  constructor(markets: readonly MarketSpec[], readonly feeAccount: number) {
    for (const spec of markets) {
      this.specs.set(spec.index, spec);
      this.books.set(spec.index, new ReferenceBook(new RefMoney(spec)));
    }
    this.users.add(feeAccount);
  }

  cell(user: number, asset: number): RefCell {
    const key = `${user}/${asset}`;
    let c = this.cells.get(key);
    if (c === undefined) {
      c = { available: 0n, frozen: 0n };
      this.cells.set(key, c);
    }
    return c;
  }

  book(market: number): ReferenceBook {
    const b = this.books.get(market);
    if (b === undefined) throw new Error(`no market ${market}`);
    return b;
  }

  private spec(market: number): MarketSpec {
    const s = this.specs.get(market);
    if (s === undefined) throw new Error(`no market ${market}`);
    return s;
  }

  /** Every resting order of every market. */
  liveOrders(): RefOrder[] {
    return [...this.books.values()].flatMap((b) => [...b.asks, ...b.bids]);
  }

  /** balance.update: a deposit (change ≥ 0) or a withdrawal from the available balance. */
  update(user: number, asset: number, business: string, businessId: number, change: bigint): RefResult {
    const key = `${user}/${asset}/${business}/${businessId}`;
    if (this.updates.has(key)) return rejected('repeat update');
    if (change < 0n && (!this.users.has(user) || this.cell(user, asset).available < -change)) {
      return rejected('balance not enough');
    }
    this.updates.add(key);
    this.users.add(user);
    this.cell(user, asset).available += change;
    this.supply.set(asset, (this.supply.get(asset) ?? 0n) + change);
    return { code: 'ok', fills: [], taker: null };
  }

  placeLimit(user: number, market: number, side: Side, amount: bigint, price: bigint, takerFee: bigint, makerFee: bigint): RefResult {
    const spec = this.spec(market);
    const book = this.book(market);
    const m = book.money;
    const payAsset = side === 'ask' ? spec.stock.index : spec.money.index;
    const need = side === 'ask' ? m.stockUnits(amount) : m.dealMoney(price, amount);
    if (!this.users.has(user) || this.cell(user, payAsset).available < need) return rejected('balance not enough');
    if (amount < m.minLots) return rejected('amount too small');
    const sameLevel = book.side(side).filter((o) => o.price === price).reduce((sum, o) => sum + o.left, 0n);
    if (sameLevel + amount > MAX_LOTS) return rejected('book full');

    const taker = this.newOrder(user, market, side, price, amount, takerFee, makerFee);
    const fills = book.matchByStock(taker, true);
    this.settle(spec, fills);
    const rested = taker.left > 0n;
    if (rested) {
      taker.freeze = side === 'ask' ? m.stockUnits(taker.left) : m.dealMoney(price, taker.left);
      const c = this.cell(user, payAsset);
      c.available -= taker.freeze;
      c.frozen += taker.freeze;
      book.rest(taker);
    }
    return { code: 'ok', fills, taker: summary(taker, taker.left, rested) };
  }

  /** A market order: an ask sells `amount` lots; a bid spends `amount` money with stock_prec decimals. */
  placeMarket(user: number, market: number, side: Side, amount: bigint, takerFee: bigint): RefResult {
    const spec = this.spec(market);
    const book = this.book(market);
    const m = book.money;
    const payAsset = side === 'ask' ? spec.stock.index : spec.money.index;
    const need = side === 'ask' ? m.stockUnits(amount) : m.marketBidUnits(amount);
    if (!this.users.has(user) || this.cell(user, payAsset).available < need) return rejected('balance not enough');
    const best = book.side(side === 'ask' ? 'bid' : 'ask')[0];
    if (best === undefined) return rejected('no enough trader');
    if (side === 'ask' ? amount < m.minLots : m.belowMinimumAt(need, best.price)) return rejected('amount too small');

    if (side === 'ask') {
      const taker = this.newOrder(user, market, side, 0n, amount, takerFee, 0n);
      const fills = book.matchByStock(taker, false);
      this.settle(spec, fills);
      return { code: 'ok', fills, taker: summary(taker, taker.left, false) };
    }
    const taker = this.newOrder(user, market, side, 0n, 0n, takerFee, 0n);
    const { fills, moneyLeft } = book.matchByMoney(taker, need);
    this.settle(spec, fills);
    return { code: 'ok', fills, taker: summary(taker, moneyLeft, false) };
  }

  cancel(user: number, market: number, orderId: number): RefResult {
    const spec = this.spec(market);
    const book = this.book(market);
    const order = book.find(orderId);
    if (order === undefined) return rejected('order not found');
    if (order.user !== user) return rejected('user not match');
    this.release(order, spec);
    book.remove(order);
    return { code: 'ok', fills: [], taker: summary(order, order.left, false) };
  }

  private newOrder(user: number, market: number, side: Side, price: bigint, amount: bigint, takerFee: bigint, makerFee: bigint): RefOrder {
    return {
      id: this.nextOrderId++, market, user, side, price, amount, left: amount, takerFee, makerFee,
      freeze: 0n, dealStock: 0n, dealMoney: 0n, dealFee: 0n,
    };
  }

  /**
   * Moves the money of each fill. The taker pays from available; the maker from what its order
   * froze. Each side receives into available, net of its fee; fees go to the fee account.
   */
  private settle(spec: MarketSpec, fills: readonly RefFill[]): void {
    const stock = spec.stock.index;
    const money = spec.money.index;
    const m = this.book(spec.index).money;
    for (const f of fills) {
      this.nextDealId++;
      const stockUnits = m.stockUnits(f.lots);
      const maker = f.maker;
      if (f.takerSide === 'ask') {
        this.cell(f.askUser, stock).available -= stockUnits;
        this.cell(f.bidUser, money).frozen -= f.money;
        maker.freeze -= f.money;
      } else {
        this.cell(f.bidUser, money).available -= f.money;
        this.cell(f.askUser, stock).frozen -= stockUnits;
        maker.freeze -= stockUnits;
      }
      this.cell(f.askUser, money).available += f.money - f.askFee;
      this.cell(f.bidUser, stock).available += stockUnits - f.bidFee;
      this.cell(this.feeAccount, money).available += f.askFee;
      this.cell(this.feeAccount, stock).available += f.bidFee;
      if (f.makerFinished) this.release(maker, spec);
    }
  }

  /** Returns what a resting order still holds to its owner's available balance. */
  private release(order: RefOrder, spec: MarketSpec): void {
    const c = this.cell(order.user, order.side === 'ask' ? spec.stock.index : spec.money.index);
    c.frozen -= order.freeze;
    c.available += order.freeze;
    order.freeze = 0n;
  }
}

function rejected(code: RefCode): RefResult {
  return { code, fills: [], taker: null };
}

function summary(order: RefOrder, left: bigint, rested: boolean): RefTaker {
  return { id: order.id, left, dealStock: order.dealStock, dealMoney: order.dealMoney, dealFee: order.dealFee, rested };
}
