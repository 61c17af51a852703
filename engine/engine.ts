/**
 * The in-process engine API of one shard: commands in integer units, each returning a result
 * code; on OK the order's state is in `result` and the command's events are appended to `events`
 * (they accumulate until the caller resets the buffer, so a batch of commands can share it).
 * A command that returns an error code has changed nothing and written no event.
 *
 * Time (microseconds since the epoch) comes in with each command; the engine never reads a clock.
 */
import type { Config } from '../conf/schema.js';
import { DeltaLog } from './balance/delta-log.js';
import { BalanceTable, INT64_MAX } from './balance/table.js';
import { AppliedUpdates, type EncodedKeys } from './balance/update-keys.js';
import { copyInt64, setInt64, unitsAt } from './book/int64-words.js';
import { OrderBook } from './book/order-book.js';
import { NIL, SIDE_ASK, SIDE_BID, TYPE_LIMIT, TYPE_MARKET } from './book/order-columns.js';
import { Code, type CodeValue } from './codes.js';
import { EventBuffer, OrderEvent } from './core/events.js';
import { LocalIds, type IdSequence } from './ids.js';
import { crosses, loadOrder, Matcher } from './core/matcher.js';
import { AMOUNT_MONEY, DEAL_FEE, DEAL_MONEY, FREEZE, LEFT_MONEY, MONEY_FIELDS, OrderView } from './core/order-view.js';
import {
  affordableLots, affordableLotsNumber, buildSpecs, dealMoney, dealMoneyNumber, MAX_QUANTITY, stockUnits, stockUnitsNumber,
  type MarketSpec, type Specs,
} from './money/specs.js';

/** Longest `source` and `business` strings, in UTF-8 bytes (the original's VARCHAR(30) columns). */
export const MAX_LABEL_BYTES = 30;

/** Entries of the engine's user → row cache, minus one. */
const ROW_CACHE_MASK = 4095;

/** Distinct source labels an engine keeps. */
export const MAX_SOURCES = 1 << 16;

export interface EngineOptions {
  /** Shared balance table; a new one is allocated when omitted. */
  readonly balances?: BalanceTable;
  /** Indexes of the markets this engine holds books for; all markets when omitted. */
  readonly markets?: readonly number[];
  /** Order and deal id sequences (shared between shards); local counters from 1 when omitted. */
  readonly orderIds?: IdSequence;
  readonly dealIds?: IdSequence;
  /** Ends every command with DELTA events (the balance changes it made), as the journal needs. */
  readonly recordDeltas?: boolean;
}

export class Engine {
  readonly specs: Specs;
  readonly balances: BalanceTable;
  /** Books by market index; null for markets another shard holds. */
  readonly books: (OrderBook | null)[];
  readonly events = new EventBuffer();
  /**
   * The order as the last successful place or cancel left it. Assigned in the constructor, not
   * by a field initializer: an initializer pins this field's V8 field type to OrderView's first
   * map, which the first commands deprecate (fields that start as small integers become doubles),
   * so a second Engine in the process would deoptimise the code optimised for the first.
   */
  readonly result: OrderView;
  readonly feeAccount: number;
  readonly feeRow: number;
  readonly orderIds: IdSequence;
  readonly dealIds: IdSequence;
  private readonly matcher: Matcher;
  private readonly rowCacheUsers = new Float64Array(ROW_CACHE_MASK + 1).fill(-1);
  private readonly rowCacheRows = new Int32Array(ROW_CACHE_MASK + 1);
  /** The balance changes of the running command, when deltas are recorded. */
  private readonly deltas: DeltaLog | null;
  private readonly sources: string[] = [];
  private readonly sourceIds = new Map<string, number>();
  /** balance.update keys (user, asset, business, business_id) already applied: repeats are refused forever. */
  private readonly appliedUpdates = new AppliedUpdates();

  constructor(readonly config: Readonly<Config>, options: EngineOptions = {}) {
    this.specs = buildSpecs(config);
    this.result = new OrderView();
    this.balances = options.balances ?? new BalanceTable(BalanceTable.allocate(config.engine.max_users, this.specs.assets.length));
    const owned = new Set(options.markets ?? this.specs.markets.map((m) => m.index));
    this.books = this.specs.markets.map((m) =>
      owned.has(m.index) ? new OrderBook(config.engine.max_orders_per_market, config.engine.max_levels_per_side, config.engine.max_users) : null,
    );
    this.feeAccount = config.engine.fee_account;
    const feeRow = this.balances.users.findOrInsert(this.feeAccount);
    if (feeRow < 0) throw new Error('balance table has no row for the fee account');
    this.feeRow = feeRow;
    this.orderIds = options.orderIds ?? new LocalIds();
    this.dealIds = options.dealIds ?? new LocalIds();
    this.matcher = new Matcher(this.balances, this.feeRow, this.events, this.dealIds);
    this.deltas = options.recordDeltas === true ? new DeltaLog() : null;
    this.balances.deltas = this.deltas;
    this.internSource('');
  }

  /** The id the next accepted order will get. */
  get nextOrderId(): number {
    return this.orderIds.peek();
  }

  /** The id the next deal will get. */
  get nextDealId(): number {
    return this.dealIds.peek();
  }

  /** Id of a source label (for placeLimit/placeMarket), or -1 when it is not a string of at most 30 bytes. */
  internSource(source: string): number {
    const known = this.sourceIds.get(source);
    if (known !== undefined) return known;
    if (typeof source !== 'string' || Buffer.byteLength(source) > MAX_LABEL_BYTES || this.sources.length >= MAX_SOURCES) return -1;
    const id = this.sources.push(source) - 1;
    this.sourceIds.set(source, id);
    return id;
  }

  /** Records a label under an id chosen elsewhere (the router interns labels for all shards). */
  registerSource(id: number, source: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= MAX_SOURCES || Buffer.byteLength(source) > MAX_LABEL_BYTES) return;
    while (this.sources.length <= id) this.sources.push('');
    this.sources[id] = source;
    this.sourceIds.set(source, id);
  }

  sourceName(id: number): string {
    return this.sources[id] ?? '';
  }

  /** Number of source ids in use (ids 0 … sourceCount − 1), for snapshots. */
  get sourceCount(): number {
    return this.sources.length;
  }

  /**
   * Marks a balance.update key as applied without applying it (journal replay, snapshot load),
   * so that a repeat of the original update is refused after a restart.
   */
  restoreAppliedUpdate(user: number, asset: number, business: string, businessId: number): void {
    this.appliedUpdates.add(updateKey(user, asset, business, businessId));
  }

  /** A copy of the applied balance.update keys, in the format of updateKey() (snapshots). Allocates. */
  appliedUpdateKeys(): string[] {
    return this.appliedUpdates.keys();
  }

  /**
   * The applied balance.update keys, encoded as a snapshot stores them, as views of an
   * append-only log (balance/update-keys.ts): O(1) per 1 MiB of keys, no copy, for a paused shard.
   */
  encodedUpdateKeys(): EncodedKeys {
    return this.appliedUpdates.encoded();
  }

  /** Marks keys returned by appliedUpdateKeys() as applied again (snapshot load). */
  restoreAppliedUpdateKeys(keys: Iterable<string>): void {
    for (const key of keys) this.appliedUpdates.add(key);
  }

  /** A limit order: `amount` in lots, `price` in ticks, fee rates in fee ticks. */
  placeLimit(
    user: number, market: number, side: number, amount: number, price: number,
    takerFee: number, makerFee: number, source: number, time: number,
  ): CodeValue {
    const book = this.books[market];
    const spec = this.specs.markets[market];
    if (!Number.isInteger(market) || book === undefined || book === null || spec === undefined) return Code.UNKNOWN_MARKET; // "0" would index books
    if (!this.isTrader(user)) return Code.INVALID_USER;
    if (side !== SIDE_ASK && side !== SIDE_BID) return Code.INVALID_SIDE;
    if (!isQuantity(amount)) return Code.INVALID_AMOUNT;
    if (!isQuantity(price)) return Code.INVALID_PRICE;
    if (!isFeeRate(takerFee, spec) || !isFeeRate(makerFee, spec)) return Code.INVALID_FEE_RATE;
    if (!this.isSource(source)) return Code.INVALID_SOURCE;
    if (!isTime(time)) return Code.INVALID_ARGUMENT;

    const row = this.rowOf(user);
    if (row < 0) return Code.BALANCE_NOT_ENOUGH;
    const asset = side === SIDE_ASK ? spec.stock.index : spec.money.index;
    // The funds to reserve: in a double when exact (needUnits ≥ 0, the common case), else in bigint.
    const needUnits = side === SIDE_ASK ? stockUnitsNumber(spec, amount) : dealMoneyNumber(spec, price, amount);
    const need = needUnits >= 0 ? 0n : limitNeed(spec, side, price, amount);
    // A remainder must be able to rest: refuse up front rather than after trades happened.
    // A level's total is a double: it stays exact only while it holds at most MAX_QUANTITY lots.
    const levels = book.levels(side);
    const level = levels.find(price);
    const bookFull = book.orders.size >= book.orders.capacity
      || (level === NIL ? levels.size >= levels.capacity : levels.total[level]! + amount > MAX_QUANTITY);
    if (amount < spec.minAmountLots || bookFull) {
      // Rare: the balance check still comes first, as in the original.
      if (this.balances.available(row, asset) < (needUnits >= 0 ? BigInt(needUnits) : need)) return Code.BALANCE_NOT_ENOUGH;
      return amount < spec.minAmountLots ? Code.AMOUNT_TOO_SMALL : Code.BOOK_FULL;
    }
    if (!this.reserve(row, asset, needUnits, need)) return Code.BALANCE_NOT_ENOUGH;

    const taker = this.newTaker(user, market, side, TYPE_LIMIT, price, takerFee, makerFee, source, time);
    taker.amount = amount;
    taker.left = amount;
    setFreeze(taker, needUnits, need);
    const opposite = side === SIDE_ASK ? book.bids : book.asks;
    const best = opposite.best();
    if (best !== NIL && crosses(side, price, opposite.price[best]!)) { // most limit orders are passive: no matching to set up
      this.matcher.matchByStock(book, spec, taker, row);
      this.matcher.settle();
    }

    if (taker.left === 0) {
      this.releaseTakerFreeze(taker, row, asset); // price improvement on a bid
      this.events.order(OrderEvent.FINISH, taker);
      this.endCommand();
      return Code.OK;
    }
    if (side === SIDE_BID && taker.left !== amount) this.keepBidRemainderFunds(spec, taker, row, asset);
    this.rest(book, taker, row, level); // matching took from the other side only: `level` is still this price's
    this.events.order(OrderEvent.PUT, taker);
    this.endCommand();
    return Code.OK;
  }

  /**
   * A market order: an ask sells `amount` lots of stock; a bid spends `amount` of money, given
   * with stock_prec decimals as in the original (units of 10^-stock_prec money). Never rests.
   */
  placeMarket(user: number, market: number, side: number, amount: number, takerFee: number, source: number, time: number): CodeValue {
    const book = this.books[market];
    const spec = this.specs.markets[market];
    if (!Number.isInteger(market) || book === undefined || book === null || spec === undefined) return Code.UNKNOWN_MARKET; // "0" would index books
    if (!this.isTrader(user)) return Code.INVALID_USER;
    if (side !== SIDE_ASK && side !== SIDE_BID) return Code.INVALID_SIDE;
    if (!isQuantity(amount)) return Code.INVALID_AMOUNT;
    if (!isFeeRate(takerFee, spec)) return Code.INVALID_FEE_RATE;
    if (!this.isSource(source)) return Code.INVALID_SOURCE;
    if (!isTime(time)) return Code.INVALID_ARGUMENT;

    const row = this.rowOf(user);
    const isAsk = side === SIDE_ASK;
    const asset = isAsk ? spec.stock.index : spec.money.index;
    // The funds to reserve: in a double when exact (needUnits ≥ 0, the common case), else in bigint.
    const perLot = isAsk ? spec.stockUnitsPerLotNumber : spec.marketBidUnitsPerLotNumber;
    const needUnits = amount * perLot <= Number.MAX_SAFE_INTEGER ? amount * perLot : -1;
    const need = needUnits >= 0 ? 0n : BigInt(amount) * (isAsk ? spec.stockUnitsPerLot : spec.marketBidUnitsPerLot);
    if (row < 0) return Code.BALANCE_NOT_ENOUGH;
    if (needUnits >= 0 ? !this.balances.hasAvailable(row, asset, needUnits) : this.balances.available(row, asset) < need) {
      return Code.BALANCE_NOT_ENOUGH;
    }
    const opposite = isAsk ? book.bids : book.asks;
    const best = opposite.best();
    if (best === NIL) return Code.NO_ENOUGH_TRADER;
    if (isAsk) {
      if (amount < spec.minAmountLots) return Code.AMOUNT_TOO_SMALL;
    } else if (!canBuyMinimum(spec, opposite.price[best]!, needUnits, need)) {
      return Code.AMOUNT_TOO_SMALL;
    }
    if (!this.reserve(row, asset, needUnits, need)) return Code.BALANCE_NOT_ENOUGH;

    const taker = this.newTaker(user, market, side, TYPE_MARKET, 0, takerFee, 0, source, time);
    setFreeze(taker, needUnits, need);
    if (isAsk) {
      taker.amount = amount;
      taker.left = amount;
      this.matcher.matchByStock(book, spec, taker, row);
    } else {
      // A market bid's amount is the money it reserved.
      copyInt64(taker.moneyWords, FREEZE, taker.moneyWords, AMOUNT_MONEY);
      copyInt64(taker.moneyWords, FREEZE, taker.moneyWords, LEFT_MONEY);
      this.matcher.matchByMoney(book, spec, taker, row);
    }
    this.matcher.settle();
    this.releaseTakerFreeze(taker, row, asset); // what was not traded stays available
    this.events.order(OrderEvent.FINISH, taker);
    this.endCommand();
    return Code.OK;
  }

  /** Cancels a pending order of `user`; `result` holds the order as it was cancelled. */
  cancel(user: number, market: number, orderId: number, time: number): CodeValue {
    const book = this.books[market];
    const spec = this.specs.markets[market];
    if (!Number.isInteger(market) || book === undefined || book === null || spec === undefined) return Code.UNKNOWN_MARKET; // "0" would index books
    if (!this.isTrader(user)) return Code.INVALID_USER;
    if (!Number.isSafeInteger(orderId) || orderId <= 0) return Code.INVALID_ARGUMENT;
    if (!isTime(time)) return Code.INVALID_ARGUMENT;
    const slot = book.find(orderId);
    if (slot === NIL) return Code.ORDER_NOT_FOUND;
    const orders = book.orders;
    if (orders.user[slot] !== user) return Code.USER_NOT_MATCH;
    const view = this.result;
    loadOrder(book, market, slot, view);
    const asset = orders.side[slot] === SIDE_ASK ? spec.stock.index : spec.money.index;
    this.balances.releaseHeld(orders.row[slot]!, asset, orders.freeze, orders.freezeWords, slot);
    setInt64(view.moneyWords, FREEZE, 0);
    this.events.order(OrderEvent.FINISH, view);
    book.remove(slot);
    this.endCommand();
    return Code.OK;
  }

  /**
   * balance.update: adds `change` units (negative = debit) to the available balance. The key
   * (user, asset, business, businessId) is accepted once; a failed update does not consume it.
   */
  updateBalance(
    user: number, asset: number, business: string, businessId: number, change: bigint, detail: string, time: number,
  ): CodeValue {
    if (!Number.isInteger(user) || user < 0 || user > 0xffffffff) return Code.INVALID_USER;
    if (user === 0 && user !== this.feeAccount) return Code.INVALID_USER;
    if (!Number.isInteger(asset) || asset < 0 || asset >= this.specs.assets.length) return Code.UNKNOWN_ASSET;
    if (typeof business !== 'string' || Buffer.byteLength(business) > MAX_LABEL_BYTES) return Code.INVALID_ARGUMENT;
    if (!Number.isSafeInteger(businessId) || businessId < 0) return Code.INVALID_ARGUMENT;
    if (typeof change !== 'bigint' || change > INT64_MAX || change < -INT64_MAX) return Code.INVALID_ARGUMENT;
    if (typeof detail !== 'string' || !isTime(time)) return Code.INVALID_ARGUMENT;
    const key = updateKey(user, asset, business, businessId);
    if (this.appliedUpdates.has(key)) return Code.REPEAT_UPDATE;

    let row = this.balances.users.find(user);
    if (change < 0n) {
      if (row < 0 || !this.balances.withdraw(row, asset, -change)) return Code.BALANCE_NOT_ENOUGH;
    } else {
      // A deposit that must fail takes no row (a new row would outlive the failed command).
      if (row < 0 && Atomics.load(this.balances.supply, asset) + change > INT64_MAX) return Code.SUPPLY_OVERFLOW;
      if (row < 0) row = this.balances.users.findOrInsert(user);
      if (row < 0) return Code.TOO_MANY_USERS;
      if (!this.balances.deposit(row, asset, change)) return Code.SUPPLY_OVERFLOW;
    }
    this.appliedUpdates.add(key);
    this.events.balance(user, asset, business, businessId, detail, time, change,
      this.balances.available(row, asset), this.balances.frozen(row, asset));
    this.endCommand();
    return Code.OK;
  }

  /**
   * The balance-table row of `user`, or -1. A small direct-mapped cache in front of the shared
   * index: a user's row never changes once assigned, so a cached entry never goes stale.
   */
  private rowOf(user: number): number {
    const at = user & ROW_CACHE_MASK;
    if (this.rowCacheUsers[at] === user) return this.rowCacheRows[at]!;
    const row = this.balances.users.find(user);
    if (row >= 0) {
      this.rowCacheUsers[at] = user;
      this.rowCacheRows[at] = row;
    }
    return row;
  }

  /** Writes the command's balance changes as DELTA events (when recorded). Small: V8 inlines it. */
  private endCommand(): void {
    if (this.deltas !== null) this.writeDeltas(this.deltas);
  }

  private writeDeltas(deltas: DeltaLog): void {
    const users = this.balances.users;
    for (let i = 0; i < deltas.count; i++) {
      this.events.deltaFromLog(users.userOf(deltas.rows[i]!), deltas.assets[i]!, deltas, i);
    }
    deltas.reset();
  }

  /** True when `user` may trade: a 32-bit id other than 0 and the fee account. */
  private isTrader(user: number): boolean {
    return Number.isInteger(user) && user > 0 && user <= 0xffffffff && user !== this.feeAccount;
  }

  private isSource(source: number): boolean {
    return Number.isInteger(source) && source >= 0 && source < this.sources.length;
  }

  private newTaker(
    user: number, market: number, side: number, type: number, price: number,
    takerFee: number, makerFee: number, source: number, time: number,
  ): OrderView {
    const taker = this.result;
    taker.id = this.orderIds.next();
    taker.market = market;
    taker.side = side;
    taker.type = type;
    taker.user = user;
    taker.ctime = time;
    taker.mtime = time;
    taker.price = price;
    taker.amount = 0;
    taker.left = 0;
    taker.dealStock = 0;
    taker.takerFee = takerFee;
    taker.makerFee = makerFee;
    taker.source = source;
    const words = taker.moneyWords;
    for (let i = 0; i < MONEY_FIELDS * 2; i++) words[i] = 0;
    return taker;
  }

  /**
   * Moves an order's funds to frozen: `units`, or `big` when units is -1 (beyond 2^53). False,
   * changing nothing, when the available balance is short.
   */
  private reserve(row: number, asset: number, units: number, big: bigint): boolean {
    return units >= 0 ? this.balances.reserveUnits(row, asset, units) : this.balances.reserve(row, asset, big);
  }

  /** Releases what the taker still holds frozen (it will not rest) and sets its freeze to 0. */
  private releaseTakerFreeze(taker: OrderView, row: number, asset: number): void {
    this.balances.releaseHeld(row, asset, taker.money, taker.moneyWords, FREEZE);
    setInt64(taker.moneyWords, FREEZE, 0);
  }

  /**
   * A bid that traded and rests keeps frozen the money of its remainder at its own price; what
   * its deals at better prices left over is released. In doubles when exact, else in bigint.
   */
  private keepBidRemainderFunds(spec: MarketSpec, taker: OrderView, row: number, asset: number): void {
    const keep = dealMoneyNumber(spec, taker.price, taker.left);
    const frozen = unitsAt(taker.moneyWords, FREEZE);
    if (keep >= 0 && frozen >= 0) {
      if (frozen !== keep) this.balances.releaseUnits(row, asset, frozen - keep);
      setInt64(taker.moneyWords, FREEZE, keep);
      return;
    }
    const keepBig = dealMoney(spec, taker.price, taker.left);
    const excess = taker.freeze - keepBig;
    if (excess !== 0n) this.balances.release(row, asset, excess);
    taker.freeze = keepBig;
  }

  /** Puts the taker's remainder on the book (capacity was checked before matching). */
  private rest(book: OrderBook, taker: OrderView, row: number, level: number): void {
    const o = book.orders;
    const slot = o.allocate();
    o.guard(slot);
    o.id[slot] = taker.id;
    o.user[slot] = taker.user;
    o.row[slot] = row;
    o.side[slot] = taker.side;
    o.price[slot] = taker.price;
    o.amount[slot] = taker.amount;
    o.left[slot] = taker.left;
    o.dealStock[slot] = taker.dealStock;
    o.takerFee[slot] = taker.takerFee;
    o.makerFee[slot] = taker.makerFee;
    copyInt64(taker.moneyWords, FREEZE, o.freezeWords, slot);
    copyInt64(taker.moneyWords, DEAL_MONEY, o.dealMoneyWords, slot);
    copyInt64(taker.moneyWords, DEAL_FEE, o.dealFeeWords, slot);
    o.ctime[slot] = taker.ctime;
    o.mtime[slot] = taker.mtime;
    o.source[slot] = taker.source;
    book.insert(slot, level);
  }

  /** The market's spec, or undefined. */
  market(index: number): MarketSpec | undefined {
    return this.specs.markets[index];
  }
}

/**
 * The idempotency key of a balance.update: user, asset, business, business id, in decimal and
 * NUL-separated (only `business` is free text, so the key parses unambiguously). Snapshots store
 * these strings as they are (journal/snapshot.ts): changing the format needs a snapshot version.
 */
export function updateKey(user: number, asset: number, business: string, businessId: number): string {
  return `${user}\u0000${asset}\u0000${business}\u0000${businessId}`;
}

/** The funds a limit order reserves: stock units for an ask, the deal money of its amount for a bid. Allocates. */
function limitNeed(spec: MarketSpec, side: number, price: number, amount: number): bigint {
  return side === SIDE_ASK ? stockUnits(spec, amount) : dealMoney(spec, price, amount);
}

/** Sets the taker's freeze: `units`, or `big` when units is -1 (beyond 2^53). */
function setFreeze(taker: OrderView, units: number, big: bigint): void {
  if (units >= 0) setInt64(taker.moneyWords, FREEZE, units);
  else taker.freeze = big;
}

/**
 * True when a market bid's money (`units`, or `big` when units is -1) buys at least min_amount
 * lots at the best ask `ticks`, compared exactly.
 */
function canBuyMinimum(spec: MarketSpec, ticks: number, units: number, big: bigint): boolean {
  const lots = units >= 0 ? affordableLotsNumber(spec, ticks, units) : -1;
  return lots >= 0 ? lots >= spec.minAmountLots : affordableLots(spec, ticks, units >= 0 ? BigInt(units) : big) >= BigInt(spec.minAmountLots);
}

function isQuantity(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && n <= MAX_QUANTITY;
}

function isFeeRate(n: number, spec: MarketSpec): boolean {
  return Number.isInteger(n) && n >= 0 && n <= spec.maxFeeTicks;
}

function isTime(t: number): boolean {
  return Number.isSafeInteger(t) && t >= 0;
}
