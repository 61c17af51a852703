/**
 * Bad input at the engine's integer API (placeLimit, placeMarket, cancel, updateBalance) returns
 * the right result code and changes nothing: not a balance cell, not a supply counter, not a book,
 * not an id counter, not the event buffer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../conf/load.js';
import { defaultConfig } from '../../conf/defaults.js';
import type { ConfigInput } from '../../conf/schema.js';
import { INT64_MAX } from '../balance/table.js';
import { SIDE_ASK, SIDE_BID } from '../book/order-columns.js';
import { Code, type CodeValue } from '../codes.js';
import { Engine } from '../engine.js';
import { bookOrders } from '../queries.js';

/** The default assets and markets with small tables, so that each test builds its engine quickly. */
function config(engine: Partial<NonNullable<ConfigInput['engine']>> = {}): ConfigInput {
  return { ...defaultConfig, engine: { max_users: 64, max_orders_per_market: 64, max_levels_per_side: 32, ...engine } };
}

// Default config: assets BCH 0, BTC 1, LTC 2, ETH 3, USDT 4 (prec_save 12, 12, 12, 12, 8);
// markets BTCBCH 0, LTCBCH 1, ETHBCH 2, BTCUSDT 3. BTCBCH: lots and ticks of 10^-8, fee ticks of 10^-4.
const BCH = 0;
const BTC = 1;
const LTC = 2;
const BTCBCH = 0;
const LTCBCH = 1;
const COIN = 10n ** 12n; // one BTC/BCH/LTC in balance units
const LOT = 1e8; // lots (or ticks) in one unit of amount (or price) on BTCBCH
const T0 = 1_700_000_000_000_000;

/** Everything a command could change. */
function fingerprint(engine: Engine): unknown {
  const b = engine.balances;
  const users: [number, number][] = [];
  b.users.forEach((user, row) => users.push([user, row]));
  const cells: bigint[] = [];
  for (let row = 0; row < b.users.size; row++) {
    for (let asset = 0; asset < b.assetCount; asset++) cells.push(b.available(row, asset), b.frozen(row, asset));
  }
  const books = engine.books.map((book, market) => {
    if (book === null) return null;
    const side = (levels: typeof book.asks): [number, number, number][] => {
      const out: [number, number, number][] = [];
      for (let i = 0; i < levels.size; i++) {
        const level = levels.nth(i);
        out.push([levels.price[level]!, levels.total[level]!, levels.count[level]!]);
      }
      return out;
    };
    const orders = [SIDE_ASK, SIDE_BID].flatMap((s) =>
      bookOrders(engine, market, s, 0, 1 << 20)!.items.map((o) => [o.id, o.user, o.left, o.dealStock, String(o.freeze), String(o.dealFee), o.mtime]),
    );
    return { asks: side(book.asks), bids: side(book.bids), size: book.orders.size, orders };
  });
  return {
    users: users.sort((x, y) => x[0] - y[0]),
    rows: b.users.size,
    cells,
    supply: [...b.supply],
    books,
    nextOrderId: engine.nextOrderId,
    nextDealId: engine.nextDealId,
    events: engine.events.count,
    eventBytes: engine.events.length,
  };
}

/** The command returns `code` and the engine is exactly as before. */
function rejected(engine: Engine, code: CodeValue, run: () => CodeValue, label: string): void {
  const before = fingerprint(engine);
  assert.equal(run(), code, label);
  assert.deepEqual(fingerprint(engine), before, `${label}: state changed`);
}

function ok(code: CodeValue, label: string): void {
  assert.equal(code, Code.OK, label);
}

/**
 * An engine where user 1 deposited 10 BTC and has an ask 2 @ 5000 half filled (order 1, 1 left),
 * user 2 deposited 100000 BCH and has a resting bid 1 @ 4000 (order 2) and a filled bid (order 3),
 * user 3 holds 0.5 BTC and 100 BCH; one deal done.
 */
function populated(engineConfig: Partial<NonNullable<ConfigInput['engine']>> = {}): { engine: Engine; source: number } {
  const engine = new Engine(validateConfig(config(engineConfig)));
  const source = engine.internSource('api');
  ok(engine.updateBalance(1, BTC, 'deposit', 1, 10n * COIN, '{}', T0), 'deposit 1');
  ok(engine.updateBalance(2, BCH, 'deposit', 1, 100_000n * COIN, '{}', T0), 'deposit 2');
  ok(engine.updateBalance(3, BTC, 'deposit', 1, COIN / 2n, '{}', T0), 'deposit 3 BTC');
  ok(engine.updateBalance(3, BCH, 'deposit', 2, 100n * COIN, '{}', T0), 'deposit 3 BCH');
  ok(engine.placeLimit(1, BTCBCH, SIDE_ASK, 2 * LOT, 5000 * LOT, 20, 10, source, T0 + 1), 'ask');
  ok(engine.placeLimit(2, BTCBCH, SIDE_BID, 1 * LOT, 4000 * LOT, 20, 10, source, T0 + 2), 'bid');
  ok(engine.placeLimit(2, BTCBCH, SIDE_BID, 1 * LOT, 5000 * LOT, 20, 10, source, T0 + 3), 'crossing bid');
  assert.equal(engine.nextDealId, 2);
  assert.equal(engine.nextOrderId, 4);
  return { engine, source };
}

const NOT_INTEGERS: unknown[] = [1.5, NaN, Infinity, -Infinity, '1', undefined, null, 1n];
const BAD_QUANTITIES: unknown[] = [...NOT_INTEGERS, 0, -1, -LOT, 2 ** 53, Number.MAX_VALUE];
const BAD_TIMES: unknown[] = [...NOT_INTEGERS, -1, -T0, 2 ** 53];

test('placeLimit: malformed arguments are refused with their code and change nothing', () => {
  const { engine, source } = populated();
  const good: unknown[] = [1, BTCBCH, SIDE_ASK, LOT / 100, 6000 * LOT, 20, 10, source, T0 + 10];
  const place = (i: number, value: unknown) => (): CodeValue => {
    const args = [...good];
    args[i] = value;
    return (engine.placeLimit as (...a: unknown[]) => CodeValue)(...args);
  };
  const cases: [number, unknown[], CodeValue][] = [
    [0, [...NOT_INTEGERS, 0, -1, 2 ** 32, 2 ** 53, engine.feeAccount], Code.INVALID_USER],
    [1, [-1, 99, 1.5, 4, NaN, Infinity, '0', undefined, null], Code.UNKNOWN_MARKET],
    [2, [0, 3, 1.5, NaN, -1, '1', undefined], Code.INVALID_SIDE],
    [3, BAD_QUANTITIES, Code.INVALID_AMOUNT],
    [4, BAD_QUANTITIES, Code.INVALID_PRICE],
    [5, [...NOT_INTEGERS, -1, 10_000, 2 ** 53], Code.INVALID_FEE_RATE],
    [6, [...NOT_INTEGERS, -1, 10_000], Code.INVALID_FEE_RATE],
    [7, [...NOT_INTEGERS, -1, 99, 2 ** 31], Code.INVALID_SOURCE],
    [8, BAD_TIMES, Code.INVALID_ARGUMENT],
  ];
  for (const [i, values, code] of cases) {
    for (const value of values) rejected(engine, code, place(i, value), `placeLimit arg ${i} = ${String(value)}`);
  }
  // the largest fee rate, 10^fee_prec − 1, is fine
  ok(place(5, 9_999)(), 'taker fee 0.9999');
});

test('placeMarket: malformed arguments are refused with their code and change nothing', () => {
  const { engine, source } = populated();
  const good: unknown[] = [1, BTCBCH, SIDE_ASK, LOT / 100, 20, source, T0 + 10];
  const place = (i: number, value: unknown) => (): CodeValue => {
    const args = [...good];
    args[i] = value;
    return (engine.placeMarket as (...a: unknown[]) => CodeValue)(...args);
  };
  const cases: [number, unknown[], CodeValue][] = [
    [0, [...NOT_INTEGERS, 0, -1, 2 ** 32, engine.feeAccount], Code.INVALID_USER],
    [1, [-1, 99, 1.5, 4, NaN, '0', undefined], Code.UNKNOWN_MARKET],
    [2, [0, 3, 1.5, NaN, '2', undefined], Code.INVALID_SIDE],
    [3, BAD_QUANTITIES, Code.INVALID_AMOUNT],
    [4, [...NOT_INTEGERS, -1, 10_000], Code.INVALID_FEE_RATE],
    [5, [...NOT_INTEGERS, -1, 99], Code.INVALID_SOURCE],
    [6, BAD_TIMES, Code.INVALID_ARGUMENT],
  ];
  for (const [i, values, code] of cases) {
    for (const value of values) rejected(engine, code, place(i, value), `placeMarket arg ${i} = ${String(value)}`);
  }
  ok(place(0, 1)(), 'the good arguments work');
});

test('cancel: malformed arguments are refused with their code and change nothing', () => {
  const { engine } = populated();
  const good: unknown[] = [1, BTCBCH, 1, T0 + 10];
  const cancel = (i: number, value: unknown) => (): CodeValue => {
    const args = [...good];
    args[i] = value;
    return (engine.cancel as (...a: unknown[]) => CodeValue)(...args);
  };
  const cases: [number, unknown[], CodeValue][] = [
    [0, [...NOT_INTEGERS, 0, -1, 2 ** 32, engine.feeAccount], Code.INVALID_USER],
    [1, [-1, 99, 1.5, 4, NaN, '0', undefined], Code.UNKNOWN_MARKET],
    [2, [...NOT_INTEGERS, 0, -1, 2 ** 53], Code.INVALID_ARGUMENT],
    [3, BAD_TIMES, Code.INVALID_ARGUMENT],
  ];
  for (const [i, values, code] of cases) {
    for (const value of values) rejected(engine, code, cancel(i, value), `cancel arg ${i} = ${String(value)}`);
  }
  ok(cancel(0, 1)(), 'the good arguments work');
});

test('updateBalance: malformed arguments are refused with their code and change nothing', () => {
  const { engine } = populated();
  const good: unknown[] = [1, BTC, 'deposit', 77, COIN, '{}', T0 + 10];
  const update = (i: number, value: unknown) => (): CodeValue => {
    const args = [...good];
    args[i] = value;
    return (engine.updateBalance as (...a: unknown[]) => CodeValue)(...args);
  };
  const cases: [number, unknown[], CodeValue][] = [
    [0, [...NOT_INTEGERS, -1, 2 ** 32, 2 ** 53], Code.INVALID_USER],
    [1, [-1, 5, 99, 1.5, NaN, '1', undefined], Code.UNKNOWN_ASSET],
    [2, ['x'.repeat(31), '€'.repeat(10) + 'x', 7, undefined, null], Code.INVALID_ARGUMENT],
    [3, [...NOT_INTEGERS, -1, 2 ** 53], Code.INVALID_ARGUMENT],
    [4, [INT64_MAX + 1n, -INT64_MAX - 1n, 1n << 100n, 5, 1.5, '5', undefined, null], Code.INVALID_ARGUMENT],
    [5, [undefined, null, 5, {}], Code.INVALID_ARGUMENT],
    [6, BAD_TIMES, Code.INVALID_ARGUMENT],
  ];
  for (const [i, values, code] of cases) {
    for (const value of values) rejected(engine, code, update(i, value), `updateBalance arg ${i} = ${String(value)}`);
  }
  // edges that are fine: a business of exactly 30 bytes (also in UTF-8), the largest safe id
  ok(update(2, 'b'.repeat(30))(), 'business of 30 bytes');
  ok(update(2, '€'.repeat(10))(), 'business of 30 UTF-8 bytes');
  ok(update(3, Number.MAX_SAFE_INTEGER)(), 'business id 2^53 − 1');
});

test('a fee account other than user 0: it cannot trade, and user 0 is not a valid user at all', () => {
  const engine = new Engine(validateConfig(config({ fee_account: 7 })));
  const source = engine.internSource('api');
  ok(engine.updateBalance(7, BTC, 'deposit', 1, COIN, '{}', T0), 'the fee account may be credited');
  ok(engine.updateBalance(1, BCH, 'deposit', 1, 10_000n * COIN, '{}', T0), 'deposit');
  ok(engine.placeLimit(1, BTCBCH, SIDE_BID, LOT, 5000 * LOT, 0, 0, source, T0), 'a bid to trade against');
  rejected(engine, Code.INVALID_USER, () => engine.updateBalance(0, BTC, 'deposit', 1, COIN, '{}', T0), 'user 0 deposit');
  rejected(engine, Code.INVALID_USER, () => engine.placeLimit(7, BTCBCH, SIDE_ASK, LOT, 5000 * LOT, 0, 0, source, T0), 'fee account limit');
  rejected(engine, Code.INVALID_USER, () => engine.placeMarket(7, BTCBCH, SIDE_ASK, LOT, 0, source, T0), 'fee account market');
  rejected(engine, Code.INVALID_USER, () => engine.cancel(7, BTCBCH, 1, T0), 'fee account cancel');
  rejected(engine, Code.INVALID_USER, () => engine.placeLimit(0, BTCBCH, SIDE_ASK, LOT, 5000 * LOT, 0, 0, source, T0), 'user 0 limit');
});

test('internSource refuses labels longer than 30 bytes, and their id is refused by the commands', () => {
  const { engine } = populated();
  assert.equal(engine.internSource('s'.repeat(31)), -1);
  assert.equal(engine.internSource('é'.repeat(15) + 'x'), -1, '31 bytes in UTF-8');
  const thirty = engine.internSource('é'.repeat(15));
  assert.ok(thirty > 0);
  assert.equal(engine.sourceName(thirty), 'é'.repeat(15));
  assert.equal(engine.internSource('é'.repeat(15)), thirty, 'interned once');
  rejected(engine, Code.INVALID_SOURCE, () => engine.placeLimit(1, BTCBCH, SIDE_ASK, LOT, 6000 * LOT, 0, 0, -1, T0), 'source -1');
  rejected(engine, Code.INVALID_SOURCE, () => engine.placeLimit(1, BTCBCH, SIDE_ASK, LOT, 6000 * LOT, 0, 0, thirty + 1, T0), 'unknown source id');
});

test('balance not enough: limit ask and bid, market ask and bid, withdrawal', () => {
  const { engine, source } = populated();
  const limit = (user: number, side: number, amount: number, price: number) => () =>
    engine.placeLimit(user, BTCBCH, side, amount, price, 20, 10, source, T0 + 10);
  const market = (user: number, side: number, amount: number) => () => engine.placeMarket(user, BTCBCH, side, amount, 20, source, T0 + 10);
  // user 3 holds 0.5 BTC and 100 BCH
  rejected(engine, Code.BALANCE_NOT_ENOUGH, limit(3, SIDE_ASK, LOT / 2 + 1, 6000 * LOT), 'limit ask 0.50000001 BTC');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, limit(3, SIDE_BID, LOT / 40 + 1, 4000 * LOT), 'limit bid 100.00004 BCH');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, market(3, SIDE_ASK, LOT / 2 + 1), 'market ask');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, market(3, SIDE_BID, 100 * LOT + 1), 'market bid 100.00000001 BCH');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, limit(99, SIDE_ASK, LOT, 6000 * LOT), 'a user without a row');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, market(99, SIDE_BID, LOT), 'market bid of a user without a row');
  // frozen funds do not count: user 1 has 8 available and 1 frozen in the resting ask
  rejected(engine, Code.BALANCE_NOT_ENOUGH, limit(1, SIDE_ASK, 8 * LOT + 1, 6000 * LOT), 'frozen stock is not available');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, () => engine.updateBalance(3, BTC, 'withdraw', 1, -(COIN / 2n) - 1n, '{}', T0), 'withdraw');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, () => engine.updateBalance(1, BTC, 'withdraw', 1, -9n * COIN, '{}', T0), 'withdraw frozen');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, () => engine.updateBalance(99, BTC, 'withdraw', 1, -1n, '{}', T0), 'withdraw, no row');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, () => engine.updateBalance(3, BTC, 'withdraw', 2, -INT64_MAX, '{}', T0), 'withdraw −(2^63−1)');
  // exactly the available amount is fine
  ok(limit(3, SIDE_ASK, LOT / 2, 6000 * LOT)(), 'limit ask of everything');
  ok(limit(3, SIDE_BID, LOT / 40, 4000 * LOT)(), 'limit bid of everything');
});

test('amount too small (limit and market), no enough trader, order not found, user not match', () => {
  const { engine, source } = populated();
  const min = 100_000; // 0.001 BTC in lots
  rejected(engine, Code.AMOUNT_TOO_SMALL, () => engine.placeLimit(1, BTCBCH, SIDE_ASK, min - 1, 6000 * LOT, 0, 0, source, T0), 'limit ask');
  rejected(engine, Code.AMOUNT_TOO_SMALL, () => engine.placeLimit(2, BTCBCH, SIDE_BID, min - 1, 3000 * LOT, 0, 0, source, T0), 'limit bid');
  rejected(engine, Code.AMOUNT_TOO_SMALL, () => engine.placeMarket(1, BTCBCH, SIDE_ASK, min - 1, 0, source, T0), 'market ask');
  // a market bid needs best ask × min_amount = 5000 × 0.001 = 5 BCH (amount in units of 10^-8 money)
  rejected(engine, Code.AMOUNT_TOO_SMALL, () => engine.placeMarket(2, BTCBCH, SIDE_BID, 5 * LOT - 1, 0, source, T0), 'market bid');
  // balance is checked before the amount
  rejected(engine, Code.BALANCE_NOT_ENOUGH, () => engine.placeLimit(4, BTCBCH, SIDE_ASK, min - 1, 6000 * LOT, 0, 0, source, T0), 'no balance, tiny');

  // no enough trader: LTCBCH has an empty book
  ok(engine.updateBalance(3, LTC, 'deposit', 1, 5n * COIN, '{}', T0), 'LTC deposit');
  rejected(engine, Code.NO_ENOUGH_TRADER, () => engine.placeMarket(3, LTCBCH, SIDE_ASK, LOT, 0, source, T0), 'market ask, no bids');
  rejected(engine, Code.NO_ENOUGH_TRADER, () => engine.placeMarket(3, LTCBCH, SIDE_BID, LOT, 0, source, T0), 'market bid, no asks');
  rejected(engine, Code.BALANCE_NOT_ENOUGH, () => engine.placeMarket(4, LTCBCH, SIDE_ASK, LOT, 0, source, T0), 'balance before trader');

  // cancels: order 1 is user 1's ask on BTCBCH, order 2 user 2's bid; order 3 is finished
  rejected(engine, Code.ORDER_NOT_FOUND, () => engine.cancel(1, BTCBCH, 999, T0), 'unknown id');
  rejected(engine, Code.ORDER_NOT_FOUND, () => engine.cancel(2, BTCBCH, 3, T0), 'finished order');
  rejected(engine, Code.ORDER_NOT_FOUND, () => engine.cancel(1, LTCBCH, 1, T0), 'another market');
  rejected(engine, Code.USER_NOT_MATCH, () => engine.cancel(2, BTCBCH, 1, T0), 'someone else’s order');
  ok(engine.cancel(1, BTCBCH, 1, T0), 'the owner cancels');
  rejected(engine, Code.ORDER_NOT_FOUND, () => engine.cancel(1, BTCBCH, 1, T0), 'cancelled twice');
});

test('repeat update is refused; a failed update does not consume its business id', () => {
  const { engine } = populated();
  ok(engine.updateBalance(3, BTC, 'deposit', 500, COIN, '{}', T0), 'first');
  rejected(engine, Code.REPEAT_UPDATE, () => engine.updateBalance(3, BTC, 'deposit', 500, COIN, '{}', T0), 'same key');
  rejected(engine, Code.REPEAT_UPDATE, () => engine.updateBalance(3, BTC, 'deposit', 500, -COIN, '{"x":1}', T0 + 1), 'same key, other change');
  // any part of the key differing makes another key
  ok(engine.updateBalance(3, BTC, 'deposit', 501, COIN, '{}', T0), 'other id');
  ok(engine.updateBalance(3, BTC, 'bonus', 500, COIN, '{}', T0), 'other business');
  ok(engine.updateBalance(3, BCH, 'deposit', 500, COIN, '{}', T0), 'other asset');
  ok(engine.updateBalance(4, BTC, 'deposit', 500, COIN, '{}', T0), 'other user');

  // balance not enough leaves the key unused ...
  rejected(engine, Code.BALANCE_NOT_ENOUGH, () => engine.updateBalance(3, BTC, 'withdraw', 600, -100n * COIN, '{}', T0), 'too much');
  ok(engine.updateBalance(3, BTC, 'withdraw', 600, -COIN, '{}', T0), 'the same key, affordable');
  rejected(engine, Code.REPEAT_UPDATE, () => engine.updateBalance(3, BTC, 'withdraw', 600, -COIN, '{}', T0), 'now it is used');
  // ... and so does an invalid argument
  rejected(engine, Code.INVALID_ARGUMENT, () => engine.updateBalance(3, BTC, 'withdraw', 601, -COIN, '{}', -5), 'bad time');
  ok(engine.updateBalance(3, BTC, 'withdraw', 601, -COIN, '{}', T0), 'the same key after a bad time');
});

test('supply overflow: a deposit taking an asset’s total past 2^63 − 1 is refused and changes nothing', () => {
  const { engine } = populated();
  const supply = engine.balances.supply[BTC]!;
  const room = INT64_MAX - supply;
  rejected(engine, Code.SUPPLY_OVERFLOW, () => engine.updateBalance(3, BTC, 'deposit', 700, room + 1n, '{}', T0), 'existing user');
  rejected(engine, Code.SUPPLY_OVERFLOW, () => engine.updateBalance(50, BTC, 'deposit', 700, room + 1n, '{}', T0), 'new user');
  rejected(engine, Code.SUPPLY_OVERFLOW, () => engine.updateBalance(3, BTC, 'deposit', 701, INT64_MAX, '{}', T0), 'the largest change');
  assert.equal(engine.balances.users.find(50), -1, 'no row was created for the refused deposit');
  // exactly up to the limit is fine, the key of the refused deposit is still free, and then even 1 more unit is refused
  ok(engine.updateBalance(3, BTC, 'deposit', 700, room, '{}', T0), 'fill to INT64_MAX');
  assert.equal(engine.balances.supply[BTC], INT64_MAX);
  rejected(engine, Code.SUPPLY_OVERFLOW, () => engine.updateBalance(50, BTC, 'deposit', 702, 1n, '{}', T0), 'one unit more');
  // other assets are independent
  ok(engine.updateBalance(50, BCH, 'deposit', 702, 1n, '{}', T0), 'another asset');
});

test('too many users: a deposit for a new user when the table is full is refused and changes nothing', () => {
  const engine = new Engine(validateConfig(config({ max_users: 16 })));
  // row 0 is the fee account
  for (let user = 1; user < 16; user++) ok(engine.updateBalance(user, BTC, 'deposit', 1, COIN, '{}', T0), `user ${user}`);
  rejected(engine, Code.TOO_MANY_USERS, () => engine.updateBalance(16, BTC, 'deposit', 1, COIN, '{}', T0), 'user 16');
  ok(engine.updateBalance(15, BTC, 'deposit', 2, COIN, '{}', T0), 'known users still work');
});

test('book full: resting orders are refused cleanly; market orders still trade and free room', () => {
  const engine = new Engine(validateConfig(config({ max_orders_per_market: 16, max_levels_per_side: 16 })));
  const source = engine.internSource('api');
  ok(engine.updateBalance(1, BTC, 'deposit', 1, 100n * COIN, '{}', T0), 'BTC');
  ok(engine.updateBalance(2, BCH, 'deposit', 1, 1_000_000n * COIN, '{}', T0), 'BCH');
  for (let i = 0; i < 8; i++) {
    ok(engine.placeLimit(1, BTCBCH, SIDE_ASK, LOT, (5000 + i) * LOT, 0, 0, source, T0), `ask ${i}`);
    ok(engine.placeLimit(2, BTCBCH, SIDE_BID, LOT, (4000 - i) * LOT, 0, 0, source, T0), `bid ${i}`);
  }
  assert.equal(engine.books[BTCBCH]!.orders.size, 16);
  const limit = (user: number, side: number, amount: number, price: number) => () =>
    engine.placeLimit(user, BTCBCH, side, amount, price, 0, 0, source, T0 + 1);
  rejected(engine, Code.BOOK_FULL, limit(1, SIDE_ASK, LOT, 6000 * LOT), 'a new ask level');
  rejected(engine, Code.BOOK_FULL, limit(1, SIDE_ASK, LOT, 5000 * LOT), 'an existing ask level');
  rejected(engine, Code.BOOK_FULL, limit(2, SIDE_BID, LOT, 3000 * LOT), 'a bid');
  rejected(engine, Code.BOOK_FULL, limit(2, SIDE_BID, 2 * LOT, 5000 * LOT), 'a bid that would rest a remainder');
  // the other markets have their own books
  ok(engine.updateBalance(2, LTC, 'deposit', 1, COIN, '{}', T0), 'LTC');
  ok(engine.placeLimit(2, LTCBCH, SIDE_ASK, LOT, 100 * LOT, 0, 0, source, T0), 'another market');

  // a market order needs no slot: it trades, and the makers it fills free theirs
  const before = engine.nextDealId;
  ok(engine.placeMarket(1, BTCBCH, SIDE_ASK, LOT, 0, source, T0 + 2), 'market ask into the best bid');
  ok(engine.placeMarket(2, BTCBCH, SIDE_BID, 10_001 * LOT, 0, source, T0 + 3), 'market bid 10001 BCH: the asks at 5000 and 5001');
  assert.equal(engine.nextDealId, before + 3, 'one bid and two asks filled');
  assert.equal(engine.books[BTCBCH]!.orders.size, 13);
  ok(limit(1, SIDE_ASK, LOT, 6000 * LOT)(), 'room again');
});

test('book full by price levels: a new level is refused, an existing level still takes orders', () => {
  const engine = new Engine(validateConfig(config({ max_orders_per_market: 32, max_levels_per_side: 16 })));
  const source = engine.internSource('api');
  ok(engine.updateBalance(1, BTC, 'deposit', 1, 100n * COIN, '{}', T0), 'BTC');
  for (let i = 0; i < 16; i++) ok(engine.placeLimit(1, BTCBCH, SIDE_ASK, LOT, (5000 + i) * LOT, 0, 0, source, T0), `ask ${i}`);
  rejected(engine, Code.BOOK_FULL, () => engine.placeLimit(1, BTCBCH, SIDE_ASK, LOT, 6000 * LOT, 0, 0, source, T0), 'a 17th level');
  ok(engine.placeLimit(1, BTCBCH, SIDE_ASK, LOT, 5015 * LOT, 0, 0, source, T0), 'an existing level');
  assert.equal(engine.books[BTCBCH]!.asks.size, 16);
  assert.equal(engine.books[BTCBCH]!.orders.size, 17);
});
