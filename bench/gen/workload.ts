/**
 * The seeded trading workload shared by benchmarks and tests: N commands pre-generated into typed
 * arrays (struct of arrays) so that generating them is never part of what is measured.
 *
 * Model (defaults in brackets):
 *  - U users [1000], each funded with the same large amount of every asset the markets trade;
 *  - the markets of the config whose money is BCH [BTCBCH, LTCBCH, ETHBCH], each with a fair
 *    price doing a slow random walk (one price step of ~1 bp, up or down, on 10% of its commands);
 *  - the mix [60 / 25 / 10 / 5 %]:
 *      passive  limit orders 1..~40 steps from the fair price, never crossing the opposite best;
 *      cancel   of a live order of that user (a small share [2 %] targets an order that was filled
 *               meanwhile, as a cancel racing a fill does: the engine answers ORDER_NOT_FOUND);
 *      crossing limit orders priced 1..3 steps through the opposite best;
 *      market   orders (asks sell lots, bids spend money, as ViaBTC's market orders do).
 *
 * The generator keeps a shadow book per market (price-time priority, as the engine matches), so it
 * knows which orders are live, predicts the id the engine will give each order (ids are sequential
 * from 1 in a fresh engine, one per accepted place), and computes the expected outcome of the run
 * (deals, stale cancels, resting orders at the end) for the benchmark to check its result against.
 * The size of crossing and market orders follows the book: a proportional controller holds each
 * market near `restingPerMarket` resting orders [3000], so the book reaches a steady state instead
 * of growing without bound.
 *
 * Prices sit on a grid whose step is a multiple of the market's deal divisor, so deal money is
 * always exact (no truncation): a book-only peer that buys the same number of lots makes exactly
 * the same deals as our money-spending market bid.
 *
 * Generation allocates freely (plain objects, Maps, bigint); only the output arrays are typed.
 */
import type { Config } from '../../conf/schema.js';
import { SIDE_ASK, SIDE_BID } from '../../engine/book/order-columns.js';
import { parseUnits } from '../../engine/money/decimal.js';
import { buildSpecs, type MarketSpec } from '../../engine/money/specs.js';
import { Rng } from './rng.js';

/** Command opcodes in `Workload.op`. */
export const Op = { LIMIT: 1, MARKET: 2, CANCEL: 3 } as const;

/** Shares of each kind of command; they must add up to 1. */
export interface Mix {
  readonly passive: number;
  readonly cancel: number;
  readonly crossing: number;
  readonly market: number;
}

export const DEFAULT_MIX: Mix = { passive: 0.6, cancel: 0.25, crossing: 0.1, market: 0.05 };

export interface WorkloadOptions {
  readonly commands: number;
  readonly seed: number;
  /** Number of users [1000]. */
  readonly users?: number;
  /** Id of the first user; ids are consecutive, skipping the fee account [1]. */
  readonly firstUserId?: number;
  /** Market names [every market whose money asset is BCH]. */
  readonly markets?: readonly string[];
  readonly mix?: Mix;
  /** Resting orders per market the book is held near [3000]. */
  readonly restingPerMarket?: number;
  /** Share of cancels that target an order filled meanwhile [0.02]. */
  readonly staleCancelShare?: number;
  /** Fee rates in fee ticks [20 and 10: 0.2 % and 0.1 % with fee_prec 4]. */
  readonly takerFee?: number;
  readonly makerFee?: number;
}

/** What a correct engine must report after running the whole workload on a fresh engine. */
export interface Expected {
  /** Accepted place commands = ids handed out (the last order id). */
  readonly placed: number;
  readonly passive: number;
  readonly crossing: number;
  readonly market: number;
  /** Cancels of a live order (answered OK). */
  readonly cancels: number;
  /** Cancels of an order that was filled meanwhile (answered ORDER_NOT_FOUND). */
  readonly staleCancels: number;
  /** Deals: one per (taker, maker) pair that traded. */
  readonly deals: number;
  /** Resting orders left on the books, per traded market and in total. */
  readonly restingByMarket: readonly number[];
  readonly resting: number;
  /** Most resting orders seen in any one market during the run. */
  readonly maxResting: number;
}

export interface Workload {
  readonly seed: number;
  readonly commands: number;
  /** Per command: Op.LIMIT / Op.MARKET / Op.CANCEL. */
  readonly op: Uint8Array;
  readonly user: Uint32Array;
  /** Market index in the config (engine market index). */
  readonly market: Uint16Array;
  /** SIDE_ASK or SIDE_BID (cancels: the side of the target). */
  readonly side: Uint8Array;
  /** Limit orders and market asks: lots; market bids: money in 10^-stock_prec units (as ViaBTC). */
  readonly amount: Float64Array;
  /** Limit orders: price in ticks. */
  readonly price: Float64Array;
  /** Cancels: the order id to cancel. */
  readonly target: Float64Array;
  /** Market orders: the lots the order fills (what a book-only peer that cannot spend money needs). */
  readonly fillLots: Float64Array;
  readonly takerFee: number;
  readonly makerFee: number;
  /** The traded markets. */
  readonly markets: readonly MarketSpec[];
  /** Every user id, and the units of each funded asset every one of them gets. */
  readonly userIds: Uint32Array;
  readonly funding: readonly { readonly asset: number; readonly unitsPerUser: bigint }[];
  readonly expected: Expected;
}

/** Reference prices (in money) of known stocks quoted in BCH; others start at 1. */
const REFERENCE_PRICE: Readonly<Record<string, string>> = { BTC: '10', LTC: '0.25', ETH: '1.5' };
/** Total units of each asset handed out, split over the users (kept far from the int64 limit). */
const FUNDING_BUDGET = 1n << 61n;
const STALE_RING = 256;

export function generateWorkload(config: Readonly<Config>, options: WorkloadOptions): Workload {
  const n = options.commands;
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`commands must be a non-negative integer, got ${n}`);
  const specs = buildSpecs(config);
  const mix = options.mix ?? DEFAULT_MIX;
  const mixSum = mix.passive + mix.cancel + mix.crossing + mix.market;
  if (Math.abs(mixSum - 1) > 1e-9) throw new RangeError(`mix shares add up to ${mixSum}, not 1`);
  const marketNames = options.markets ?? specs.markets.filter((m) => m.money.name === 'BCH').map((m) => m.name);
  const markets = marketNames.map((name) => {
    const spec = specs.marketByName.get(name);
    if (spec === undefined) throw new RangeError(`unknown market ${name}`);
    return spec;
  });
  if (markets.length === 0) throw new RangeError('the workload needs at least one market');

  const userCount = options.users ?? 1000;
  const userIds = new Uint32Array(userCount);
  for (let i = 0, id = options.firstUserId ?? 1; i < userCount; id++) {
    if (id !== config.engine.fee_account && id !== 0) userIds[i++] = id;
  }
  const assets = [...new Set(markets.flatMap((m) => [m.stock.index, m.money.index]))];
  const unitsPerUser = FUNDING_BUDGET / BigInt(Math.max(1, userCount));
  const funding = assets.map((asset) => ({ asset, unitsPerUser }));

  const w: Columns = {
    seed: options.seed,
    commands: n,
    op: new Uint8Array(n),
    user: new Uint32Array(n),
    market: new Uint16Array(n),
    side: new Uint8Array(n),
    amount: new Float64Array(n),
    price: new Float64Array(n),
    target: new Float64Array(n),
    fillLots: new Float64Array(n),
    takerFee: options.takerFee ?? 20,
    makerFee: options.makerFee ?? 10,
    markets,
    userIds,
    funding,
  };
  const gen = new Generator(w, new Rng(options.seed), markets.map((m) => new MarketModel(m)), mix,
    options.restingPerMarket ?? 3000, options.staleCancelShare ?? 0.02);
  for (let i = 0; i < n; i++) gen.command(i);
  return { ...w, expected: gen.expected() };
}

/**
 * Credits every user with the workload's funding through balance.update (business "deposit").
 * Returns the units deposited per asset index (the total supply the run must conserve).
 */
export function fundUsers(
  engine: { updateBalance(user: number, asset: number, business: string, businessId: number, change: bigint, detail: string, time: number): number },
  w: Workload,
  assetCount: number,
  time: number,
): bigint[] {
  const deposits = new Array<bigint>(assetCount).fill(0n);
  let businessId = 1;
  for (const userId of w.userIds) {
    for (const { asset, unitsPerUser } of w.funding) {
      const code = engine.updateBalance(userId, asset, 'deposit', businessId++, unitsPerUser, '', time);
      if (code !== 0) throw new Error(`funding user ${userId} asset ${asset} failed with code ${code}`);
      deposits[asset] = (deposits[asset] ?? 0n) + unitsPerUser;
    }
  }
  return deposits;
}

/** The workload being written: everything but the expected outcome. */
type Columns = Omit<Workload, 'expected'>;

class ShadowOrder {
  constructor(
    readonly id: number,
    readonly user: number,
    readonly side: number,
    readonly price: number,
    public left: number,
    /** Index in the market's `live` list. */
    public liveAt: number,
  ) {}
}

/** One side of a shadow book: prices sorted by key (price × direction) with the best at the end, FIFO per price. */
class ShadowSide {
  private readonly keys: number[] = [];
  readonly levels = new Map<number, ShadowOrder[]>();

  constructor(private readonly direction: 1 | -1) {}

  get empty(): boolean {
    return this.keys.length === 0;
  }

  /** The best price; only when not empty. */
  best(): number {
    return this.keys[this.keys.length - 1]! * this.direction;
  }

  add(o: ShadowOrder): void {
    let level = this.levels.get(o.price);
    if (level === undefined) {
      level = [];
      this.levels.set(o.price, level);
      const key = o.price * this.direction;
      this.keys.splice(this.insertionPoint(key), 0, key);
    }
    level.push(o);
  }

  /** Removes an order from its level; drops the level when it empties. */
  remove(o: ShadowOrder): void {
    const level = this.levels.get(o.price)!;
    level.splice(level.indexOf(o), 1);
    if (level.length === 0) this.dropLevel(o.price);
  }

  dropLevel(price: number): void {
    this.levels.delete(price);
    const key = price * this.direction;
    const at = this.insertionPoint(key) - 1;
    if (this.keys[at] !== key) throw new Error('shadow book: level not found');
    this.keys.splice(at, 1);
  }

  /** First index whose key is greater than `key`. */
  private insertionPoint(key: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

class MarketModel {
  readonly asks = new ShadowSide(-1);
  readonly bids = new ShadowSide(1);
  readonly live: ShadowOrder[] = [];
  /** Ring of recently filled makers (id, user, side), targets of stale cancels. */
  readonly filledId = new Float64Array(STALE_RING);
  readonly filledUser = new Uint32Array(STALE_RING);
  readonly filledSide = new Uint8Array(STALE_RING);
  filledCount = 0;
  filledNext = 0;
  /** Fair price and grid step, in ticks; the fair price stays within [minMid, maxMid]. */
  mid: number;
  readonly step: number;
  readonly minMid: number;
  readonly maxMid: number;
  maxResting = 0;

  constructor(readonly spec: MarketSpec) {
    const reference = Number(parseUnits(REFERENCE_PRICE[spec.stock.name] ?? '1', spec.moneyPrec) ?? 1n);
    const grain = Number(spec.dealDiv); // prices on multiples of dealDiv keep ticks × lots × dealMul / dealDiv exact
    this.step = Math.max(1, Math.ceil(Math.round(reference / 10_000) / grain)) * grain;
    this.mid = Math.max(this.step * 200, Math.round(reference / this.step) * this.step);
    this.minMid = Math.round(this.mid / 2 / this.step) * this.step;
    this.maxMid = this.mid * 2;
  }

  side(side: number): ShadowSide {
    return side === SIDE_ASK ? this.asks : this.bids;
  }

  addLive(o: ShadowOrder): void {
    o.liveAt = this.live.length;
    this.live.push(o);
    this.side(o.side).add(o);
    if (this.live.length > this.maxResting) this.maxResting = this.live.length;
  }

  /** Drops an order from the live list (swap with the last); the caller unlinks it from its level. */
  dropLive(o: ShadowOrder): void {
    const last = this.live.pop()!;
    if (last !== o) {
      this.live[o.liveAt] = last;
      last.liveAt = o.liveAt;
    }
  }

  rememberFilled(o: ShadowOrder): void {
    const at = this.filledNext;
    this.filledId[at] = o.id;
    this.filledUser[at] = o.user;
    this.filledSide[at] = o.side;
    this.filledNext = (at + 1) % STALE_RING;
    if (this.filledCount < STALE_RING) this.filledCount++;
  }
}

class Generator {
  private nextOrderId = 1;
  private passive = 0;
  private crossing = 0;
  private market = 0;
  private cancels = 0;
  private staleCancels = 0;
  private deals = 0;
  private readonly cumulative: readonly [number, number, number];
  /** Crossing and market sizes scale with resting / target × this, which balances inflow and outflow at the target. */
  private readonly gain: number;

  constructor(
    private readonly w: Columns,
    private readonly rng: Rng,
    private readonly models: readonly MarketModel[],
    mix: Mix,
    private readonly restingTarget: number,
    private readonly staleShare: number,
  ) {
    this.cumulative = [mix.passive, mix.passive + mix.cancel, mix.passive + mix.cancel + mix.crossing];
    const taking = mix.crossing + mix.market;
    this.gain = taking > 0 ? Math.max(0.5, (mix.passive - mix.cancel) / taking) : 1;
  }

  expected(): Expected {
    const restingByMarket = this.models.map((m) => m.live.length);
    return {
      placed: this.nextOrderId - 1,
      passive: this.passive,
      crossing: this.crossing,
      market: this.market,
      cancels: this.cancels,
      staleCancels: this.staleCancels,
      deals: this.deals,
      restingByMarket,
      resting: restingByMarket.reduce((a, b) => a + b, 0),
      maxResting: Math.max(...this.models.map((m) => m.maxResting)),
    };
  }

  command(i: number): void {
    const rng = this.rng;
    const m = this.models[rng.int(this.models.length)]!;
    if (rng.chance(0.1)) {
      m.mid += rng.chance(0.5) ? m.step : -m.step;
      if (m.mid < m.minMid) m.mid = m.minMid;
      if (m.mid > m.maxMid) m.mid = m.maxMid;
    }
    this.w.market[i] = m.spec.index;
    const r = rng.next();
    const [passiveEnd, cancelEnd, crossingEnd] = this.cumulative;
    if (r >= passiveEnd && r < cancelEnd && this.cancel(i, m)) return;
    if (r >= cancelEnd && r < crossingEnd && this.cross(i, m)) return;
    if (r >= crossingEnd && this.marketOrder(i, m)) return;
    this.place(i, m); // passive, and the fallback when the book cannot take the drawn kind yet
  }

  private randomUser(): number {
    return this.w.userIds[this.rng.int(this.w.userIds.length)]!;
  }

  /** A typical order size: min_amount × (1 + Exp(mean 9)), at most 100 × min_amount. */
  private lots(m: MarketModel): number {
    return m.spec.minAmountLots * Math.min(100, 1 + Math.floor(this.rng.exponential(9)));
  }

  /** Size of a taking order: typical × gain × resting / target. */
  private takingLots(m: MarketModel): number {
    const scale = Math.min(20, Math.max(0.1, (this.gain * m.live.length) / this.restingTarget));
    return Math.max(m.spec.minAmountLots, Math.round(this.lots(m) * scale));
  }

  private place(i: number, m: MarketModel): void {
    const rng = this.rng;
    const depth = Math.min(200, 1 + Math.floor(rng.exponential(8)));
    let side = rng.chance(0.5) ? SIDE_BID : SIDE_ASK;
    let price: number;
    if (side === SIDE_BID) {
      price = m.mid - depth * m.step;
      if (!m.asks.empty && price >= m.asks.best()) price = m.asks.best() - m.step;
      if (price < m.step) side = SIDE_ASK; // no room below the asks: quote the other side
    }
    if (side === SIDE_ASK) {
      price = m.mid + depth * m.step;
      if (!m.bids.empty && price <= m.bids.best()) price = m.bids.best() + m.step;
    }
    this.passive++;
    this.limit(i, m, side, this.lots(m), price!);
  }

  private cross(i: number, m: MarketModel): boolean {
    const rng = this.rng;
    if (m.asks.empty && m.bids.empty) return false;
    let side: number;
    if (m.asks.empty) side = SIDE_ASK;
    else if (m.bids.empty) side = SIDE_BID;
    else {
      // Takers lean toward the fair price: buyers when it is above the book's middle, sellers when below.
      const bookMid = (m.asks.best() + m.bids.best()) / 2;
      const lean = Math.min(0.35, Math.max(-0.35, (m.mid - bookMid) / (10 * m.step)));
      side = rng.chance(0.5 + lean) ? SIDE_BID : SIDE_ASK;
    }
    const through = (1 + rng.int(3)) * m.step;
    const price = side === SIDE_BID ? m.asks.best() + through : m.bids.best() - through;
    if (price <= 0) return false;
    this.crossing++;
    this.limit(i, m, side, this.takingLots(m), price);
    return true;
  }

  private limit(i: number, m: MarketModel, side: number, lots: number, price: number): void {
    const w = this.w;
    const user = this.randomUser();
    w.op[i] = Op.LIMIT;
    w.user[i] = user;
    w.side[i] = side;
    w.amount[i] = lots;
    w.price[i] = price;
    const id = this.nextOrderId++;
    const left = this.matchLots(m, side, price, lots);
    if (left > 0) m.addLive(new ShadowOrder(id, user, side, price, left, -1));
  }

  private marketOrder(i: number, m: MarketModel): boolean {
    const rng = this.rng;
    const side = rng.chance(0.5) ? SIDE_BID : SIDE_ASK;
    const opposite = side === SIDE_ASK ? m.bids : m.asks;
    if (opposite.empty) return false;
    const w = this.w;
    const spec = m.spec;
    const lots = this.takingLots(m);
    let filled: number;
    if (side === SIDE_ASK) {
      w.amount[i] = lots;
      filled = lots - this.matchLots(m, side, 0, lots);
    } else {
      // Spend the money `lots` cost at the best ask, in 10^-stock_prec money, rounded up.
      const units = (BigInt(opposite.best()) * BigInt(lots) * spec.dealMul) / spec.dealDiv;
      const amount = (units + spec.marketBidUnitsPerLot - 1n) / spec.marketBidUnitsPerLot;
      const need = amount * spec.marketBidUnitsPerLot;
      if (need * spec.dealDiv < BigInt(opposite.best()) * BigInt(spec.minAmountLots) * spec.dealMul) return false;
      w.amount[i] = Number(amount);
      filled = this.matchMoney(m, need);
    }
    w.op[i] = Op.MARKET;
    w.user[i] = this.randomUser();
    w.side[i] = side;
    w.fillLots[i] = filled;
    this.nextOrderId++;
    this.market++;
    return true;
  }

  private cancel(i: number, m: MarketModel): boolean {
    const w = this.w;
    const rng = this.rng;
    if (m.filledCount > 0 && rng.chance(this.staleShare)) {
      const at = rng.int(m.filledCount);
      w.op[i] = Op.CANCEL;
      w.user[i] = m.filledUser[at]!;
      w.side[i] = m.filledSide[at]!;
      w.target[i] = m.filledId[at]!;
      this.staleCancels++;
      return true;
    }
    if (m.live.length === 0) return false;
    const o = m.live[rng.int(m.live.length)]!;
    w.op[i] = Op.CANCEL;
    w.user[i] = o.user;
    w.side[i] = o.side;
    w.target[i] = o.id;
    m.dropLive(o);
    m.side(o.side).remove(o);
    this.cancels++;
    return true;
  }

  /**
   * Trades `lots` against the opposite side, best price first, oldest first, while the price allows
   * (`limit` 0 = market order). Returns the lots left. Mirrors Matcher.matchByStock.
   */
  private matchLots(m: MarketModel, side: number, limit: number, lots: number): number {
    const isAsk = side === SIDE_ASK;
    const opposite = isAsk ? m.bids : m.asks;
    let left = lots;
    while (left > 0 && !opposite.empty) {
      const price = opposite.best();
      if (limit !== 0 && (isAsk ? price < limit : price > limit)) break;
      const level = opposite.levels.get(price)!;
      while (left > 0 && level.length > 0) {
        const maker = level[0]!;
        const take = left < maker.left ? left : maker.left;
        left -= take;
        maker.left -= take;
        this.deals++;
        if (maker.left === 0) {
          level.shift();
          m.dropLive(maker);
          m.rememberFilled(maker);
        }
      }
      if (level.length === 0) opposite.dropLevel(price);
    }
    return left;
  }

  /**
   * A market bid spending `need` money units: at each ask, the largest whole number of lots whose
   * cost fits the money left, capped by the maker. Returns the lots bought. Mirrors Matcher.matchByMoney.
   */
  private matchMoney(m: MarketModel, need: bigint): number {
    const spec = m.spec;
    let leftMoney = need;
    let bought = 0;
    while (!m.asks.empty) {
      const price = m.asks.best();
      const lotCost = BigInt(price) * spec.dealMul;
      const level = m.asks.levels.get(price)!;
      let k = 0;
      while (k < level.length) {
        const affordable = (leftMoney * spec.dealDiv) / lotCost;
        if (affordable === 0n) return bought;
        const maker = level[k]!;
        const lots = affordable < BigInt(maker.left) ? Number(affordable) : maker.left;
        leftMoney -= (BigInt(price) * BigInt(lots) * spec.dealMul) / spec.dealDiv;
        bought += lots;
        maker.left -= lots;
        this.deals++;
        if (maker.left === 0) {
          level.splice(k, 1);
          m.dropLive(maker);
          m.rememberFilled(maker);
        } else {
          k++;
        }
      }
      if (level.length === 0) m.asks.dropLevel(price);
    }
    return bought;
  }
}
