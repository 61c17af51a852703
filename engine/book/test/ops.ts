/**
 * Random operation sequences for the book property tests (tests only): fast-check arbitraries
 * for abstract operations, their resolution into concrete commands against the current state
 * (which live order to cancel, how much to withdraw), and runners for the engine and the
 * reference exchange.
 */
import fc from 'fast-check';
import { validateConfig } from '../../../conf/load.js';
import type { Config, ConfigInput } from '../../../conf/schema.js';
import { Code } from '../../codes.js';
import { decodeEvents, EventKind, OrderEvent, type DealRecord, type EventRecord } from '../../core/events.js';
import type { Engine } from '../../engine.js';
import { SIDE_ASK, SIDE_BID } from '../order-columns.js';
import type { MarketSpec } from '../../money/specs.js';
import { RefMoney, type RefCode, type ReferenceExchange, type RefResult, type Side } from './reference-book.js';

/** How one market's orders are drawn: prices cluster within ±spread ticks of mid so they cross often. */
export interface MarketPlan {
  readonly index: number;
  readonly mid: number;
  readonly spread: number;
  readonly minLots: number;
  readonly maxLots: number;
  /** Typical market-bid amounts (money with stock_prec decimals). */
  readonly bidMoney: readonly [number, number];
}

export interface AssetPlan {
  readonly index: number;
  /** Largest single deposit, in units. */
  readonly maxDeposit: bigint;
}

export interface Plan {
  /** Users that trade (never the fee account). */
  readonly traders: readonly number[];
  /** Users that make balance updates (may include the fee account). */
  readonly holders: readonly number[];
  readonly assets: readonly AssetPlan[];
  readonly markets: readonly MarketPlan[];
  readonly maxFeeTicks: number;
}

export type Op =
  | { readonly kind: 'deposit'; readonly user: number; readonly asset: number; readonly units: bigint }
  | { readonly kind: 'withdraw'; readonly user: number; readonly asset: number; readonly permille: number }
  | { readonly kind: 'repeat'; readonly pick: number }
  | {
    readonly kind: 'limit'; readonly user: number; readonly market: number; readonly side: Side;
    readonly lots: number; readonly ticks: number; readonly takerFee: number; readonly makerFee: number;
  }
  | {
    readonly kind: 'market'; readonly user: number; readonly market: number; readonly side: Side;
    readonly amount: number; readonly takerFee: number;
  }
  | {
    readonly kind: 'cancel'; readonly user: number; readonly market: number;
    readonly live: boolean; readonly pick: number; readonly asOwner: boolean;
  }
  /**
   * Boundary probes, sized from the current state: a limit order for all the user can pay at
   * `ticks` ('exact': the most lots whose exact cost fits; 'truncated': the most whose truncated
   * cost fits) plus `delta` lots; a market order for all the available balance plus `delta`; a
   * market bid whose money buys exactly `permille`‰ of the best ask's left (0: min_amount) plus `delta`.
   */
  | {
    readonly kind: 'limitAllIn'; readonly user: number; readonly market: number; readonly side: Side; readonly ticks: number;
    readonly fit: 'exact' | 'truncated'; readonly delta: number; readonly takerFee: number; readonly makerFee: number;
  }
  | { readonly kind: 'marketAllIn'; readonly user: number; readonly market: number; readonly side: Side; readonly delta: number; readonly takerFee: number }
  | { readonly kind: 'marketBidAtBest'; readonly user: number; readonly market: number; readonly permille: number; readonly delta: number; readonly takerFee: number };

export type Command =
  | { readonly kind: 'update'; readonly user: number; readonly asset: number; readonly business: string; readonly businessId: number; readonly change: bigint }
  | Extract<Op, { kind: 'limit' }>
  | Extract<Op, { kind: 'market' }>
  | { readonly kind: 'cancel'; readonly user: number; readonly market: number; readonly orderId: number };

export interface LiveOrder {
  readonly id: number;
  readonly user: number;
  readonly side: Side;
  readonly price: number;
  readonly left: number;
}

/** What resolving an operation needs to know about the current state. */
export interface StateView {
  /** Resting orders of a market, by id ascending. */
  liveOrders(market: number): readonly LiveOrder[];
  available(user: number, asset: number): bigint;
}

/** A validated config from assets and markets, with books and tables small enough for many runs. */
export function smallConfig(input: Pick<ConfigInput, 'assets' | 'markets'>, feeAccount: number): Readonly<Config> {
  return validateConfig({
    assets: input.assets,
    markets: input.markets,
    engine: { fee_account: feeAccount, max_users: 64, max_orders_per_market: 1024, max_levels_per_side: 1024 },
  });
}

function feeArb(plan: Plan): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 5, arbitrary: fc.integer({ min: 1, max: 30 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: plan.maxFeeTicks }) },
  );
}

function lotsArb(m: MarketPlan): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: m.minLots, max: m.maxLots }) },
    { weight: 1, arbitrary: fc.integer({ min: Math.max(1, Math.floor(m.minLots / 2)), max: m.minLots }) },
    { weight: 1, arbitrary: fc.constantFrom(m.minLots - 1, m.minLots, m.minLots + 1).filter((n) => n > 0) },
  );
}

function priceArb(m: MarketPlan): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: m.mid - m.spread, max: m.mid + m.spread }) },
    { weight: 2, arbitrary: fc.integer({ min: Math.max(1, m.mid - 8 * m.spread), max: m.mid + 8 * m.spread }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) },
  );
}

function marketOpArb(plan: Plan, m: MarketPlan): fc.Arbitrary<Op> {
  const user = fc.constantFrom(...plan.traders);
  const limit = fc.record({
    kind: fc.constant('limit' as const), user, market: fc.constant(m.index), side: fc.constantFrom<Side>('ask', 'bid'),
    lots: lotsArb(m), ticks: priceArb(m), takerFee: feeArb(plan), makerFee: feeArb(plan),
  });
  const marketAsk = fc.record({
    kind: fc.constant('market' as const), user, market: fc.constant(m.index), side: fc.constant<Side>('ask'),
    amount: lotsArb(m), takerFee: feeArb(plan),
  });
  const marketBid = fc.record({
    kind: fc.constant('market' as const), user, market: fc.constant(m.index), side: fc.constant<Side>('bid'),
    amount: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: m.bidMoney[0], max: m.bidMoney[1] }) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: m.bidMoney[0] }) },
    ),
    takerFee: feeArb(plan),
  });
  const cancel = fc.record({
    kind: fc.constant('cancel' as const), user, market: fc.constant(m.index),
    live: fc.boolean(), pick: fc.integer({ min: 0, max: 1000 }),
    asOwner: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  });
  const delta = fc.integer({ min: -1, max: 1 });
  const limitAllIn = fc.record({
    kind: fc.constant('limitAllIn' as const), user, market: fc.constant(m.index), side: fc.constantFrom<Side>('ask', 'bid'),
    ticks: priceArb(m), fit: fc.constantFrom<'exact' | 'truncated'>('exact', 'truncated'), delta, takerFee: feeArb(plan), makerFee: feeArb(plan),
  });
  const marketAllIn = fc.record({
    kind: fc.constant('marketAllIn' as const), user, market: fc.constant(m.index), side: fc.constantFrom<Side>('ask', 'bid'),
    delta, takerFee: feeArb(plan),
  });
  const marketBidAtBest = fc.record({
    kind: fc.constant('marketBidAtBest' as const), user, market: fc.constant(m.index),
    permille: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1500 })), delta, takerFee: feeArb(plan),
  });
  return fc.oneof(
    { weight: 10, arbitrary: limit },
    { weight: 2, arbitrary: marketAsk },
    { weight: 2, arbitrary: marketBid },
    { weight: 3, arbitrary: cancel },
    { weight: 1, arbitrary: limitAllIn },
    { weight: 1, arbitrary: marketAllIn },
    { weight: 1, arbitrary: marketBidAtBest },
  );
}

function depositArb(plan: Plan): fc.Arbitrary<Op> {
  return fc.constantFrom(...plan.assets).chain((a) => fc.record({
    kind: fc.constant('deposit' as const), user: fc.constantFrom(...plan.holders), asset: fc.constant(a.index),
    units: fc.oneof({ weight: 9, arbitrary: fc.bigInt({ min: 1n, max: a.maxDeposit }) }, { weight: 1, arbitrary: fc.constant(0n) }),
  }));
}

export function opArb(plan: Plan): fc.Arbitrary<Op> {
  const withdraw = fc.record({
    kind: fc.constant('withdraw' as const), user: fc.constantFrom(...plan.holders),
    asset: fc.constantFrom(...plan.assets.map((a) => a.index)),
    permille: fc.oneof(fc.integer({ min: 1, max: 1200 }), fc.constantFrom(999, 1000, 1001)),
  });
  const repeat = fc.record({ kind: fc.constant('repeat' as const), pick: fc.integer({ min: 0, max: 1000 }) });
  return fc.oneof(
    { weight: 3, arbitrary: depositArb(plan) },
    { weight: 1, arbitrary: withdraw },
    { weight: 1, arbitrary: repeat },
    ...plan.markets.map((m) => ({ weight: 12, arbitrary: marketOpArb(plan, m) })),
  );
}

/** A deposit of every asset for every trader to start with (some may be zero), then up to `maxOps` random operations. */
export function opsArb(plan: Plan, maxOps: number): fc.Arbitrary<Op[]> {
  const setup = plan.traders.flatMap((user) => plan.assets.map((a) => fc.record({
    kind: fc.constant('deposit' as const), user: fc.constant(user), asset: fc.constant(a.index),
    units: fc.oneof({ weight: 6, arbitrary: fc.bigInt({ min: 0n, max: a.maxDeposit }) }, { weight: 1, arbitrary: fc.constant(0n) }),
  })));
  return fc.tuple(fc.tuple(...setup), fc.array(opArb(plan), { maxLength: maxOps, size: 'max' }))
    .map(([initial, ops]): Op[] => [...initial, ...ops]);
}

function wireSide(side: Side): number {
  return side === 'ask' ? SIDE_ASK : SIDE_BID;
}

export interface Outcome {
  readonly code: number;
  readonly events: EventRecord[];
}

/** Turns operations into commands and runs them; keeps the clock and balance-update ids. */
export class Driver {
  private time = 1_700_000_000_000_000;
  private businessId = 1;
  private readonly updates: Extract<Command, { kind: 'update' }>[] = [];
  private readonly money = new Map<number, { spec: MarketSpec; rules: RefMoney }>();

  constructor(markets: readonly MarketSpec[]) {
    for (const spec of markets) this.money.set(spec.index, { spec, rules: new RefMoney(spec) });
  }

  private market(index: number): { spec: MarketSpec; rules: RefMoney } {
    const m = this.money.get(index);
    if (m === undefined) throw new Error(`no market ${index}`);
    return m;
  }

  /** The concrete command for `op` in the current state, or null when it has nothing to act on. */
  resolve(op: Op, state: StateView): Command | null {
    switch (op.kind) {
      case 'deposit':
        return this.update(op.user, op.asset, 'deposit', op.units);
      case 'withdraw': {
        const available = state.available(op.user, op.asset);
        const units = op.permille === 1001 ? available + 1n : (available * BigInt(op.permille)) / 1000n;
        return this.update(op.user, op.asset, 'withdraw', -(units > 0n ? units : 1n));
      }
      case 'limitAllIn': {
        const { spec, rules } = this.market(op.market);
        const ticks = BigInt(op.ticks);
        let lots: bigint;
        if (op.side === 'ask') {
          lots = state.available(op.user, spec.stock.index) / rules.stockUnits(1n);
        } else {
          const money = state.available(op.user, spec.money.index);
          // exact: price × lots ≤ money; truncated: ⌊price × lots⌋ ≤ money, i.e. price × lots < money + 1 (in units)
          const scale = 10n ** BigInt(rules.sp + rules.mp);
          const perTick = ticks * 10n ** BigInt(rules.moneySave);
          lots = op.fit === 'exact' ? (money * scale) / perTick : ((money + 1n) * scale - 1n) / perTick;
        }
        return {
          kind: 'limit', user: op.user, market: op.market, side: op.side, lots: quantity(lots + BigInt(op.delta)),
          ticks: op.ticks, takerFee: op.takerFee, makerFee: op.makerFee,
        };
      }
      case 'marketAllIn': {
        const { spec, rules } = this.market(op.market);
        const amount = op.side === 'ask'
          ? state.available(op.user, spec.stock.index) / rules.stockUnits(1n)
          : state.available(op.user, spec.money.index) / rules.marketBidUnits(1n);
        return { kind: 'market', user: op.user, market: op.market, side: op.side, amount: quantity(amount + BigInt(op.delta)), takerFee: op.takerFee };
      }
      case 'marketBidAtBest': {
        const { rules } = this.market(op.market);
        const asks = state.liveOrders(op.market).filter((o) => o.side === 'ask');
        const best = asks.reduce<LiveOrder | undefined>((b, o) => (b === undefined || o.price < b.price ? o : b), undefined);
        const price = BigInt(best?.price ?? 1);
        const lots = op.permille === 0 ? rules.minLots : BigInt(Math.max(1, Math.floor(((best?.left ?? 1) * op.permille) / 1000)));
        // the least amount (money with stock_prec decimals) whose exact value covers `lots` at `price`
        const perAmount = rules.marketBidUnits(1n);
        let amount = rules.dealMoney(price, lots) / perAmount;
        while (rules.affordableLots(amount * perAmount, price) < lots) amount++;
        return { kind: 'market', user: op.user, market: op.market, side: 'bid', amount: quantity(amount + BigInt(op.delta)), takerFee: op.takerFee };
      }
      case 'repeat': {
        const past = this.updates[op.pick % Math.max(1, this.updates.length)];
        return past ?? null;
      }
      case 'limit':
      case 'market':
        return op;
      case 'cancel': {
        const live = state.liveOrders(op.market);
        const target = live[op.pick % Math.max(1, live.length)];
        if (!op.live || target === undefined) return { kind: 'cancel', user: op.user, market: op.market, orderId: 1 + (op.pick % 200) };
        return { kind: 'cancel', user: op.asOwner ? target.user : op.user, market: op.market, orderId: target.id };
      }
    }
  }

  private update(user: number, asset: number, business: string, change: bigint): Command {
    const command = { kind: 'update' as const, user, asset, business, businessId: this.businessId++, change };
    this.updates.push(command);
    return command;
  }

  /** Runs a command on the engine and returns its code and the events it wrote. */
  execute(engine: Engine, command: Command): Outcome {
    const time = this.time++;
    engine.events.reset();
    let code: number;
    switch (command.kind) {
      case 'update':
        code = engine.updateBalance(command.user, command.asset, command.business, command.businessId, command.change, '{}', time);
        break;
      case 'limit':
        code = engine.placeLimit(command.user, command.market, wireSide(command.side), command.lots, command.ticks, command.takerFee, command.makerFee, 0, time);
        break;
      case 'market':
        code = engine.placeMarket(command.user, command.market, wireSide(command.side), command.amount, command.takerFee, 0, time);
        break;
      case 'cancel':
        code = engine.cancel(command.user, command.market, command.orderId, time);
        break;
    }
    const events = decodeEvents(engine.events.data(), engine.events.strings);
    engine.events.reset();
    return { code, events };
  }
}

/** Runs a command on the reference exchange. */
export function executeReference(ref: ReferenceExchange, command: Command): RefResult {
  switch (command.kind) {
    case 'update':
      return ref.update(command.user, command.asset, command.business, command.businessId, command.change);
    case 'limit':
      return ref.placeLimit(command.user, command.market, command.side, BigInt(command.lots), BigInt(command.ticks), BigInt(command.takerFee), BigInt(command.makerFee));
    case 'market':
      return ref.placeMarket(command.user, command.market, command.side, BigInt(command.amount), BigInt(command.takerFee));
    case 'cancel':
      return ref.cancel(command.user, command.market, command.orderId);
  }
}

/** The reference's name for an engine result code (engine-only codes keep their number). */
export function codeName(code: number): RefCode | `engine code ${number}` {
  switch (code) {
    case Code.OK: return 'ok';
    case Code.BALANCE_NOT_ENOUGH: return 'balance not enough';
    case Code.AMOUNT_TOO_SMALL: return 'amount too small';
    case Code.NO_ENOUGH_TRADER: return 'no enough trader';
    case Code.ORDER_NOT_FOUND: return 'order not found';
    case Code.USER_NOT_MATCH: return 'user not match';
    case Code.REPEAT_UPDATE: return 'repeat update';
    case Code.BOOK_FULL: return 'book full';
    default: return `engine code ${code}`;
  }
}

/** A positive safe lot or amount count near `n` (commands must carry valid quantities). */
function quantity(n: bigint): number {
  return Number(n < 1n ? 1n : n > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : n);
}

/** A state view over the reference exchange. */
export function referenceView(ref: ReferenceExchange): StateView {
  return {
    liveOrders: (market) => ref.liveOrders()
      .filter((o) => o.market === market)
      .sort((a, b) => a.id - b.id)
      .map((o) => ({ id: o.id, user: o.user, side: o.side, price: Number(o.price), left: Number(o.left) })),
    available: (user, asset) => ref.cell(user, asset).available,
  };
}

export function describe(command: Command): string {
  return JSON.stringify(command, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
}

export function isDeal(e: EventRecord): e is DealRecord {
  return e.kind === EventKind.DEAL;
}

/** A compact spelling of an event sequence, for comparing the order of events. */
export function eventTrail(events: readonly EventRecord[]): string[] {
  return events.map((e) => {
    switch (e.kind) {
      case EventKind.DEAL: return 'deal';
      case EventKind.BALANCE: return 'balance';
      case EventKind.DELTA: return `delta ${e.user}/${e.asset}`;
      case EventKind.ORDER: return `order ${e.order.id} ${e.event === OrderEvent.PUT ? 'put' : e.event === OrderEvent.UPDATE ? 'update' : 'finish'}`;
    }
  });
}
