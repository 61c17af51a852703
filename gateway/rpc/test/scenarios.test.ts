/**
 * Acceptance scenarios of viabtc-original.md §12 that the engine method layer serves (A5–A8, B, C,
 * D, E, F, G, H, R), driven in-process through RpcHarness. Expected values are the spec's; where the
 * original prints exponent spellings ("0e-8", "5.0e-7") we compare by value (ours prints plain
 * decimals without trailing zeros). Where our implementation deliberately differs from the original,
 * the assertion follows ours and a comment names the difference.
 *
 * After each scenario (and after many steps) two invariants are checked:
 *  - conservation: for every asset, Σ(available + freeze) over all users including the fee account
 *    = deposits − withdrawals made in the scenario (and asset.summary's total says the same);
 *  - P6: every user's frozen balance of an asset = Σ left of their resting asks (stock) + Σ price × left
 *    of their resting bids (money).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigInput } from '../../../conf/schema.js';
import { decodeEvents, EventKind, OrderEvent, type DealRecord, type EventRecord, type OrderEventRecord } from '../../../engine/core/events.js';
import type { RpcOutcome } from '../engine-methods.js';
import type { RpcError } from '../errors.js';
import type { OrderInfo } from '../format.js';
import { RpcHarness } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Decimal helpers (independent of the engine's own decimal code)

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** The canonical plain spelling of a decimal (no exponent, no trailing zeros): "0e-8" → "0", "5.0e-7" → "0.0000005". */
function canon(text: string): string {
  const m = DECIMAL.exec(text);
  const intPart = m?.[2] ?? '';
  const fracPart = m?.[3] ?? '';
  if (m === null || intPart.length + fracPart.length === 0) throw new Error(`not a decimal: ${text}`);
  let mantissa = BigInt(intPart + fracPart);
  let exponent = Number(m[4] ?? '0') - fracPart.length;
  if (mantissa === 0n) return '0';
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  let digits = mantissa.toString();
  if (exponent >= 0) {
    digits += '0'.repeat(exponent);
  } else {
    const padded = digits.padStart(-exponent + 1, '0');
    digits = `${padded.slice(0, padded.length + exponent)}.${padded.slice(padded.length + exponent)}`;
  }
  return m[1] === '-' ? `-${digits}` : digits;
}

/** Exact units of 10^-decimals; throws when the text has more places than that. */
function units(text: string, decimals: number): bigint {
  const plain = canon(text);
  const negative = plain.startsWith('-');
  const [whole = '0', frac = ''] = (negative ? plain.slice(1) : plain).split('.');
  if (frac.length > decimals) throw new Error(`${text} has more than ${decimals} places`);
  const value = BigInt(whole + frac.padEnd(decimals, '0'));
  return negative ? -value : value;
}

/** Units of 10^-decimals as a canonical decimal string. */
function fmt(value: bigint, decimals: number): string {
  return canon(`${value}e-${decimals}`);
}

/** A decimal field equals the expected value; ours must spell it plainly without trailing zeros. */
function dec(actual: unknown, expected: string, label: string): void {
  assert.equal(typeof actual, 'string', `${label}: not a string`);
  assert.equal(actual, canon(expected), `${label}: ${String(actual)} ≠ ${expected}`);
}

const ORDER_KEYS = [
  'amount', 'ctime', 'deal_fee', 'deal_money', 'deal_stock', 'id', 'left', 'maker_fee', 'market', 'mtime',
  'price', 'side', 'source', 'taker_fee', 'type', 'user',
];
const DECIMAL_FIELDS = new Set(['price', 'amount', 'taker_fee', 'maker_fee', 'left', 'deal_stock', 'deal_money', 'deal_fee']);

type OrderExpectation = { [K in keyof OrderInfo]?: OrderInfo[K] };

/** An order info object has exactly the protocol's fields, and the expected values. */
function assertOrder(actual: OrderInfo, expected: OrderExpectation, label: string): void {
  assert.deepEqual(Object.keys(actual).sort(), ORDER_KEYS, `${label}: fields`);
  for (const [key, value] of Object.entries(expected)) {
    const got = (actual as unknown as Record<string, unknown>)[key];
    if (DECIMAL_FIELDS.has(key)) dec(got, value as string, `${label}.${key}`);
    else assert.equal(got, value, `${label}.${key}`);
  }
}

const INVALID: RpcError = { code: 1, message: 'invalid argument' };

interface Balance {
  available: string;
  freeze: string;
}

interface Page {
  offset: number;
  limit: number;
  total: number;
}

interface PendingPage extends Page {
  records: OrderInfo[];
}

interface BookPage extends Page {
  orders: OrderInfo[];
}

interface AssetSummaryRow {
  name: string;
  total_balance: string;
  available_count: number;
  available_balance: string;
  freeze_count: number;
  freeze_balance: string;
}

interface Depth {
  asks: [string, string][];
  bids: [string, string][];
}

// ---------------------------------------------------------------------------------------------
// A harness that also keeps the scenario's ledger (deposits − withdrawals) and checks invariants

class World {
  readonly h: RpcHarness;
  private readonly ledger = new Map<string, bigint>();
  private readonly users = new Set<number>();
  private nextBusinessId = 1;

  constructor(config?: ConfigInput) {
    this.h = config === undefined ? new RpcHarness() : new RpcHarness(config);
  }

  get engine(): RpcHarness['engine'] {
    return this.h.engine;
  }

  /** The harness clock in seconds (what ctime/mtime must show). */
  get now(): number {
    return this.h.time / 1e6;
  }

  /** Advances the clock by a little more than a second and returns the new time in seconds. */
  tick(): number {
    this.h.time += 1_000_123;
    return this.now;
  }

  call(method: string, ...params: unknown[]): RpcOutcome {
    const outcome = this.h.call(method, ...params);
    const user = params[0];
    if (typeof user === 'number' && user > 0 && ['balance.update', 'order.put_limit', 'order.put_market'].includes(method)) {
      this.users.add(user);
    }
    if (method === 'balance.update' && !('error' in outcome)) {
      const asset = this.engine.specs.assetByName.get(params[1] as string)!;
      const change = units(params[4] as string, asset.precSave);
      this.ledger.set(asset.name, (this.ledger.get(asset.name) ?? 0n) + change);
    }
    return outcome;
  }

  ok<T = unknown>(method: string, ...params: unknown[]): T {
    const outcome = this.call(method, ...params);
    if ('error' in outcome) assert.fail(`${method} ${JSON.stringify(params)} failed: ${JSON.stringify(outcome.error)}`);
    return outcome.result as T;
  }

  err(method: string, ...params: unknown[]): RpcError {
    const outcome = this.call(method, ...params);
    if (!('error' in outcome)) assert.fail(`${method} ${JSON.stringify(params)} succeeded: ${JSON.stringify(outcome.result)}`);
    return outcome.error;
  }

  /** A call that must fail with exactly this error and change nothing visible. */
  rejects(expected: RpcError, method: string, ...params: unknown[]): void {
    const before = this.snapshot();
    assert.deepEqual(this.err(method, ...params), expected, `${method} ${JSON.stringify(params)}`);
    assert.deepEqual(this.snapshot(), before, `${method} ${JSON.stringify(params)} changed state`);
  }

  deposit(user: number, asset: string, amount: string): void {
    assert.deepEqual(this.ok('balance.update', user, asset, 'deposit', this.nextBusinessId++, amount, {}), { status: 'success' });
  }

  order(method: 'order.put_limit' | 'order.put_market' | 'order.cancel', ...params: unknown[]): OrderInfo {
    return this.ok<OrderInfo>(method, ...params);
  }

  balance(user: number, asset: string): Balance {
    const result = this.ok<Record<string, Balance>>('balance.query', user, asset);
    assert.deepEqual(Object.keys(result), [asset]);
    return result[asset]!;
  }

  /** Shown balances of a user, compared by value. */
  assertBalance(user: number, asset: string, available: string, freeze: string): void {
    const b = this.balance(user, asset);
    dec(b.available, available, `user ${user} ${asset} available`);
    dec(b.freeze, freeze, `user ${user} ${asset} freeze`);
  }

  /** A stored (prec_save) balance, read from the balance table. */
  stored(user: number, asset: string): { available: string; freeze: string } {
    const spec = this.engine.specs.assetByName.get(asset)!;
    const row = this.engine.balances.users.find(user);
    if (row < 0) return { available: '0', freeze: '0' };
    return {
      available: fmt(this.engine.balances.available(row, spec.index), spec.precSave),
      freeze: fmt(this.engine.balances.frozen(row, spec.index), spec.precSave),
    };
  }

  pending(user: number, market: string): OrderInfo[] {
    const all: OrderInfo[] = [];
    for (let offset = 0; ; offset += 101) {
      const page = this.ok<PendingPage>('order.pending', user, market, offset, 101);
      all.push(...page.records);
      if (page.records.length < 101) {
        assert.equal(page.total, all.length, `order.pending total of user ${user} in ${market}`);
        return all;
      }
    }
  }

  depth(market: string, limit: number, interval: string): Depth {
    return this.ok<Depth>('order.depth', market, limit, interval);
  }

  /** Everything a failed call must leave alone (balances, books, id counters). */
  snapshot(): unknown {
    const e = this.engine;
    const cells: string[] = [];
    e.balances.users.forEach((user, row) => {
      for (const a of e.specs.assets) cells.push(`${user}:${a.name}:${e.balances.available(row, a.index)}:${e.balances.frozen(row, a.index)}`);
    });
    const books = e.specs.markets.map((m) => [this.depth(m.name, 101, '0'), this.h.call('order.book', m.name, 1, 0, 101), this.h.call('order.book', m.name, 2, 0, 101)]);
    return { cells: cells.sort(), supply: [...e.balances.supply], books, nextOrderId: e.nextOrderId, nextDealId: e.nextDealId };
  }

  /** The events the last call wrote (the harness resets the buffer before each call). */
  events(): EventRecord[] {
    return decodeEvents(this.engine.events.data(), this.engine.events.strings);
  }

  /** Conservation (with the fee account) and P6 for every user seen in the scenario. */
  check(label: string): void {
    const e = this.engine;
    for (const asset of e.specs.assets) {
      const expected = this.ledger.get(asset.name) ?? 0n;
      let sum = 0n;
      e.balances.users.forEach((_user, row) => {
        sum += e.balances.available(row, asset.index) + e.balances.frozen(row, asset.index);
      });
      // Ours: fees go to the fee account, so Σ over all users including it equals deposits − withdrawals.
      assert.equal(sum, expected, `${label}: conservation of ${asset.name}`);
      assert.equal(e.balances.supply[asset.index], expected, `${label}: supply of ${asset.name}`);
      const [summary] = this.ok<AssetSummaryRow[]>('asset.summary', asset.name);
      dec(summary?.total_balance, fmt(expected, asset.precSave), `${label}: asset.summary ${asset.name}`);
    }

    for (const user of this.users) {
      const frozen = new Map<number, bigint>();
      const exact = new Map<number, boolean>();
      for (const m of e.specs.markets) {
        for (const o of this.pending(user, m.name)) {
          assert.equal(o.user, user);
          assert.equal(o.market, m.name);
          assert.equal(o.type, 1, `${label}: only limit orders rest`);
          if (o.side === 1) {
            const stock = units(o.left, m.stock.precSave);
            frozen.set(m.stock.index, (frozen.get(m.stock.index) ?? 0n) + stock);
          } else {
            // price × left, exact at money_prec + stock_prec places; the freeze is exact when that fits prec_save.
            const product = units(o.price, m.moneyPrec) * units(o.left, m.stockPrec);
            const shift = m.money.precSave - m.moneyPrec - m.stockPrec;
            let money: bigint;
            if (shift >= 0) {
              money = product * 10n ** BigInt(shift);
            } else {
              money = product / 10n ** BigInt(-shift);
              // An inexact market: only orders whose price has few enough places are exact (see money/specs.ts).
              const pricePlaces = canon(o.price).split('.')[1]?.length ?? 0;
              if (pricePlaces + m.stockPrec > m.money.precSave) exact.set(m.money.index, false);
            }
            frozen.set(m.money.index, (frozen.get(m.money.index) ?? 0n) + money);
          }
        }
      }
      const row = e.balances.users.find(user);
      for (const asset of e.specs.assets) {
        if (exact.get(asset.index) === false) continue;
        const expected = frozen.get(asset.index) ?? 0n;
        const stored = row < 0 ? 0n : e.balances.frozen(row, asset.index);
        assert.equal(stored, expected, `${label}: P6 user ${user} ${asset.name} frozen`);
        const shown = expected / 10n ** BigInt(asset.precSave - asset.precShow);
        dec(this.balance(user, asset.name).freeze, fmt(shown, asset.precShow), `${label}: P6 user ${user} ${asset.name} freeze shown`);
      }
    }
  }
}

function deals(events: EventRecord[]): DealRecord[] {
  return events.filter((ev): ev is DealRecord => ev.kind === EventKind.DEAL);
}

function orderEvents(events: EventRecord[]): [number, number][] {
  return events.filter((ev): ev is OrderEventRecord => ev.kind === EventKind.ORDER).map((ev) => [ev.event, ev.order.id]);
}

// ---------------------------------------------------------------------------------------------
// Scenario A — envelope-level results served by the engine methods

test('Scenario A (A5, A6, A8): asset.list, market.list, balance.query argument errors', () => {
  const w = new World();
  // A5: every configured asset in config order, prec = prec_show.
  assert.deepEqual(w.ok('asset.list'), [
    { name: 'BCH', prec: 8 }, { name: 'BTC', prec: 8 }, { name: 'LTC', prec: 8 }, { name: 'ETH', prec: 8 }, { name: 'USDT', prec: 8 },
  ]);
  // A6
  const markets = w.ok<unknown[]>('market.list');
  assert.deepEqual(markets[0], { name: 'BTCBCH', stock: 'BTC', money: 'BCH', fee_prec: 4, stock_prec: 8, money_prec: 8, min_amount: '0.001' });
  assert.equal(markets.length, 4);
  // A8
  w.rejects(INVALID, 'balance.query', 0);
  w.rejects(INVALID, 'balance.query');
  w.rejects(INVALID, 'balance.query', 1, 'XYZ');
  w.check('A');
});

// ---------------------------------------------------------------------------------------------
// Scenario B — deposits, withdrawals, idempotency

test('Scenario B (B1–B8, B12): deposits, withdrawals, idempotency', () => {
  const w = new World();
  const success = { status: 'success' };
  // B1, B2
  assert.deepEqual(w.ok('balance.update', 1, 'BTC', 'deposit', 1001, '10', {}), success);
  assert.deepEqual(w.err('balance.update', 1, 'BTC', 'deposit', 1001, '10', {}), { code: 10, message: 'repeat update' });
  w.assertBalance(1, 'BTC', '10', '0');
  // B3: same id under another business is another key
  assert.deepEqual(w.ok('balance.update', 1, 'BTC', 'bonus', 1001, '10', {}), success);
  assert.deepEqual(w.ok('balance.update', 1, 'BTC', 'bonus', 1002, '-10', {}), success);
  w.assertBalance(1, 'BTC', '10', '0');
  w.check('B3');
  // B4. Ours: more places than prec_show is an invalid argument (the original truncated to 0.12345678).
  w.rejects(INVALID, 'balance.update', 1, 'BTC', 'deposit', 1003, '0.123456789', { tx: 'abc' });
  assert.deepEqual(w.ok('balance.update', 1, 'BTC', 'deposit', 1003, '0.12345678', { tx: 'abc' }), success);
  assert.deepEqual(w.ok('balance.query', 1, 'BTC'), { BTC: { available: '10.12345678', freeze: '0' } });
  // B5: a failed withdrawal changes nothing ...
  w.rejects({ code: 11, message: 'balance not enough' }, 'balance.update', 1, 'BTC', 'withdraw', 1004, '-20', {});
  w.assertBalance(1, 'BTC', '10.12345678', '0');
  // B6: ... and does not consume its business id
  assert.deepEqual(w.ok('balance.update', 1, 'BTC', 'withdraw', 1004, '-0.12345678', {}), success);
  w.assertBalance(1, 'BTC', '10', '0');
  // B7: string id, 5 params, null detail, numeric change
  w.rejects(INVALID, 'balance.update', 1, 'BTC', 'deposit', '1005', '1', {});
  w.rejects(INVALID, 'balance.update', 1, 'BTC', 'deposit', 1005, '1');
  w.rejects(INVALID, 'balance.update', 1, 'BTC', 'deposit', 1005, '1', null);
  w.rejects(INVALID, 'balance.update', 1, 'BTC', 'deposit', 1005, 1, {});
  // B8: every configured asset, in config order
  const all = w.ok<Record<string, Balance>>('balance.query', 1);
  assert.deepEqual(Object.keys(all), ['BCH', 'BTC', 'LTC', 'ETH', 'USDT']);
  assert.deepEqual(all, {
    BCH: { available: '0', freeze: '0' },
    BTC: { available: '10', freeze: '0' },
    LTC: { available: '0', freeze: '0' },
    ETH: { available: '0', freeze: '0' },
    USDT: { available: '0', freeze: '0' },
  });
  // B12
  assert.deepEqual(w.ok('asset.summary', 'BTC'), [
    { name: 'BTC', total_balance: '10', available_count: 1, available_balance: '10', freeze_count: 0, freeze_balance: '0' },
  ]);
  w.check('B');
});

// ---------------------------------------------------------------------------------------------
// Scenario C — limit orders: rest, cross, partial fill, fees, cancel

test('Scenario C (C1–C11, C20): limit orders rest, cross, partially fill, pay fees, cancel', () => {
  const w = new World();
  w.deposit(1, 'BTC', '10');
  w.deposit(2, 'BCH', '10000');

  // C1
  const t1 = w.tick();
  const order1 = w.order('order.put_limit', 1, 'BTCBCH', 1, '2', '5000', '0.002', '0.001', 'test');
  assertOrder(order1, {
    id: 1, market: 'BTCBCH', source: 'test', type: 1, side: 1, user: 1, price: '5000', amount: '2', taker_fee: '0.002',
    maker_fee: '0.001', left: '2', deal_stock: '0', deal_money: '0', deal_fee: '0', ctime: t1, mtime: t1,
  }, 'C1');
  // C2, C3
  w.assertBalance(1, 'BTC', '8', '2');
  assert.deepEqual(w.depth('BTCBCH', 10, '0'), { asks: [['5000', '2']], bids: [] });
  w.check('C3');

  // C4: filled at the maker's 5000
  const t4 = w.tick();
  const order2 = w.order('order.put_limit', 2, 'BTCBCH', 2, '1', '5100', '0.002', '0.001', 'test');
  assertOrder(order2, {
    id: 2, market: 'BTCBCH', source: 'test', type: 1, side: 2, user: 2, price: '5100', amount: '1', taker_fee: '0.002',
    maker_fee: '0.001', left: '0e-8', deal_stock: '1', deal_money: '5000', deal_fee: '0.002', ctime: t4, mtime: t4,
  }, 'C4');
  const c4Deals = deals(w.events());
  assert.equal(c4Deals.length, 1);
  assert.deepEqual(
    { id: c4Deals[0]!.id, ask: c4Deals[0]!.askOrder, bid: c4Deals[0]!.bidOrder, askUser: c4Deals[0]!.askUser, bidUser: c4Deals[0]!.bidUser },
    { id: 1, ask: 1, bid: 2, askUser: 1, bidUser: 2 },
  );

  // C5
  w.assertBalance(1, 'BTC', '8', '1');
  w.assertBalance(1, 'BCH', '4995', '0');
  w.assertBalance(2, 'BTC', '0.998', '0');
  w.assertBalance(2, 'BCH', '5000', '0'); // price improvement: nothing stays frozen at 5100
  // Ours: the fees (5 BCH from the maker, 0.002 BTC from the taker) are credited to the fee account (user 0).
  assert.deepEqual(w.stored(0, 'BCH'), { available: '5', freeze: '0' });
  assert.deepEqual(w.stored(0, 'BTC'), { available: '0.002', freeze: '0' });
  w.check('C5');

  // C6
  const c6 = w.ok<PendingPage>('order.pending', 1, 'BTCBCH', 0, 10);
  assert.equal(c6.limit, 10);
  assert.equal(c6.offset, 0);
  assert.equal(c6.total, 1);
  assert.equal(c6.records.length, 1);
  const partially = {
    id: 1, user: 1, side: 1, type: 1, source: 'test', price: '5000', amount: '2', left: '1', deal_stock: '1',
    deal_money: '5000', deal_fee: '5', ctime: t1, mtime: t4,
  };
  assertOrder(c6.records[0]!, partially, 'C6');
  assert.deepEqual(w.ok('order.pending', 2, 'BTCBCH', 0, 10), { limit: 10, offset: 0, total: 0, records: [] });

  // C7
  const c7 = w.ok<BookPage>('order.book', 'BTCBCH', 1, 0, 10);
  assert.deepEqual({ offset: c7.offset, limit: c7.limit, total: c7.total }, { offset: 0, limit: 10, total: 1 });
  assert.equal(c7.orders.length, 1);
  assertOrder(c7.orders[0]!, partially, 'C7');
  assert.deepEqual(c7.orders[0], c6.records[0]);

  // C8
  const c8 = w.ok<{ name: string }[]>('market.summary');
  assert.deepEqual(c8.find((m) => m.name === 'BTCBCH'), { name: 'BTCBCH', ask_count: 1, ask_amount: '1', bid_count: 0, bid_amount: '0' });
  assert.equal(c8.length, 4);

  // C9
  assert.equal(w.ok('order.pending_detail', 'BTCBCH', 2), null);
  assert.deepEqual(w.ok('order.pending_detail', 'BTCBCH', 1), c6.records[0]);

  // C10
  w.rejects({ code: 11, message: 'user not match' }, 'order.cancel', 2, 'BTCBCH', 1);
  w.rejects({ code: 10, message: 'order not found' }, 'order.cancel', 1, 'BTCBCH', 99);
  w.check('C10');

  // C11
  w.tick();
  const cancelled = w.order('order.cancel', 1, 'BTCBCH', 1);
  assertOrder(cancelled, partially, 'C11');
  w.assertBalance(1, 'BTC', '9', '0');
  assert.equal(w.ok('order.pending_detail', 'BTCBCH', 1), null);
  w.rejects({ code: 10, message: 'order not found' }, 'order.cancel', 1, 'BTCBCH', 1);
  assert.deepEqual(w.depth('BTCBCH', 10, '0'), { asks: [], bids: [] });

  // C20. Ours: the 5 BCH fee sits in the fee account, so the total stays 10000 (the original shows 9995).
  const [bch] = w.ok<AssetSummaryRow[]>('asset.summary', 'BCH');
  assert.deepEqual(bch, {
    name: 'BCH', total_balance: '10000', available_count: 3, available_balance: '10000', freeze_count: 0, freeze_balance: '0',
  });
  w.check('C');
});

// ---------------------------------------------------------------------------------------------
// Scenario D — market buy spends money across levels

test('Scenario D (D1–D6): a market buy spends money across levels', () => {
  const w = new World();
  w.deposit(1, 'BTC', '10');
  w.deposit(3, 'BCH', '10000');
  const t0 = w.tick();
  for (const [i, price] of ['5000', '5200', '5300'].entries()) {
    assertOrder(w.order('order.put_limit', 1, 'BTCBCH', 1, '1', price, '0.002', '0.001', 'web'), { id: i + 1, left: '1', price }, `ask ${price}`);
  }
  w.check('D setup');

  // D1
  const t1 = w.tick();
  const market = w.order('order.put_market', 3, 'BTCBCH', 2, '7000', '0.002', 'web');
  assertOrder(market, {
    id: 4, market: 'BTCBCH', source: 'web', type: 2, side: 2, user: 3, price: '0', amount: '7000', taker_fee: '0.002',
    maker_fee: '0', left: '0.000024', deal_stock: '1.38461538', deal_money: '6999.999976', deal_fee: '0.00276923076',
    ctime: t1, mtime: t1,
  }, 'D1');

  // D2: 1 @ 5000, then 0.38461538 @ 5200; the 5300 level is not touched
  const d2 = deals(w.events()).map((d) => ({ id: d.id, ask: d.askOrder, bid: d.bidOrder, price: d.price, amount: d.amount }));
  assert.deepEqual(d2, [
    { id: 1, ask: 1, bid: 4, price: 5000_00000000, amount: 1_00000000 },
    { id: 2, ask: 2, bid: 4, price: 5200_00000000, amount: 38461538 },
  ]);
  assert.deepEqual(orderEvents(w.events()), [[OrderEvent.FINISH, 1], [OrderEvent.UPDATE, 2], [OrderEvent.FINISH, 4]]);
  assertOrder(w.ok<OrderInfo>('order.pending_detail', 'BTCBCH', 2), {
    left: '0.61538462', deal_stock: '0.38461538', deal_money: '1999.999976', deal_fee: '1.999999976', ctime: t0, mtime: t1,
  }, 'D2 order 2');
  assert.equal(w.ok('order.pending_detail', 'BTCBCH', 1), null);
  assert.equal(w.ok('order.pending_detail', 'BTCBCH', 4), null, 'market orders never rest');

  // D3. balance.query truncates to prec_show as the original does; stored values keep prec_save 12 (ours: BCH too, the original's BCH kept 20).
  w.assertBalance(3, 'BTC', '1.38184614', '0');
  assert.equal(w.stored(3, 'BTC').available, '1.38184614924');
  w.assertBalance(3, 'BCH', '3000.000024', '0');
  w.assertBalance(1, 'BTC', '7', '1.61538462');
  w.assertBalance(1, 'BCH', '6992.99997602', '0');
  assert.equal(w.stored(1, 'BCH').available, '6992.999976024');
  w.check('D3');

  // D4
  assert.deepEqual(w.depth('BTCBCH', 10, '0'), { asks: [['5200', '0.61538462'], ['5300', '1']], bids: [] });

  // D5: 5 < 5200 × 0.001 = 5.2
  w.rejects({ code: 11, message: 'amount too small' }, 'order.put_market', 3, 'BTCBCH', 2, '5', '0.002', 'web');
  const t5 = w.tick();
  assertOrder(w.order('order.put_market', 3, 'BTCBCH', 2, '5.2', '0.002', 'web'), {
    id: 5, type: 2, side: 2, amount: '5.2', left: '0', deal_stock: '0.001', deal_money: '5.2', deal_fee: '0.000002', ctime: t5, mtime: t5,
  }, 'D5');
  w.check('D5');

  // D6
  w.rejects({ code: 10, message: 'balance not enough' }, 'order.put_market', 3, 'BTCBCH', 2, '100000', '0.002', 'web');
  w.check('D');
});

// ---------------------------------------------------------------------------------------------
// Scenario E — market sell, error precedence

test('Scenario E (E1–E6, E8–E10): market sell and the order of checks', () => {
  const w = new World();
  w.deposit(1, 'BTC', '10');
  w.deposit(2, 'BCH', '10000');

  // E1
  w.rejects({ code: 12, message: 'no enough trader' }, 'order.put_market', 1, 'BTCBCH', 1, '0.5', '0.002', 'web');
  // E2
  const t2 = w.tick();
  assertOrder(w.order('order.put_limit', 2, 'BTCBCH', 2, '0.5', '4000', '0.001', '0.001', 'web'), { id: 1, left: '0.5', ctime: t2 }, 'E2');
  w.assertBalance(2, 'BCH', '8000', '2000');
  w.check('E2');
  // E3
  w.rejects({ code: 11, message: 'amount too small' }, 'order.put_market', 1, 'BTCBCH', 1, '0.0005', '0.002', 'web');
  // E4: balance is checked before min amount
  w.rejects({ code: 10, message: 'balance not enough' }, 'order.put_market', 4, 'BTCBCH', 1, '0.0005', '0.002', 'web');

  // E5 (failed orders consume no order id, so this is id 2)
  const t5 = w.tick();
  assertOrder(w.order('order.put_market', 1, 'BTCBCH', 1, '0.3', '0.002', 'web'), {
    id: 2, type: 2, side: 1, user: 1, price: '0', amount: '0.3', left: '0e-8', deal_stock: '0.3', deal_money: '1200',
    deal_fee: '2.4', taker_fee: '0.002', maker_fee: '0', ctime: t5, mtime: t5,
  }, 'E5');

  // E6
  w.assertBalance(1, 'BTC', '9.7', '0');
  w.assertBalance(1, 'BCH', '1197.6', '0');
  w.assertBalance(2, 'BTC', '0.2997', '0');
  w.assertBalance(2, 'BCH', '8000', '800');
  assertOrder(w.ok<OrderInfo>('order.pending_detail', 'BTCBCH', 1), {
    left: '0.2', deal_stock: '0.3', deal_money: '1200', deal_fee: '0.0003', ctime: t2, mtime: t5,
  }, 'E6');
  w.check('E6');

  // E8, E9
  w.rejects({ code: 11, message: 'amount too small' }, 'order.put_limit', 1, 'BTCBCH', 1, '0.0009', '4000', '0', '0', 'web');
  // (ours refuses the 9th place itself; the original truncated the amount to 0 — the same error either way)
  w.rejects(INVALID, 'order.put_limit', 1, 'BTCBCH', 1, '0.000000001', '4000', '0', '0', 'web');

  // E10
  const put = (...overrides: [number, unknown][]): unknown[] => {
    const params: unknown[] = [1, 'BTCBCH', 1, '0.001', '5000', '0.002', '0.001', 'web'];
    for (const [i, v] of overrides) params[i] = v;
    return params;
  };
  w.rejects(INVALID, 'order.put_limit', ...put([5, '1']));
  w.rejects(INVALID, 'order.put_limit', ...put([6, '1']));
  w.rejects(INVALID, 'order.put_limit', ...put([5, '-0.1']));
  w.rejects(INVALID, 'order.put_limit', ...put([2, 3]));
  w.rejects(INVALID, 'order.put_limit', ...put([1, 'NOPE']));
  w.rejects(INVALID, 'order.put_limit', ...put([7, 'x'.repeat(31)]));
  w.rejects(INVALID, 'order.put_limit', ...put([7, '€'.repeat(10) + 'x'])); // 31 bytes in UTF-8
  w.rejects(INVALID, 'order.put_limit', ...put().slice(0, 7));
  // Ours: a fee rate with more places than fee_prec is invalid (the original truncated "0.99999" to 0.9999).
  w.rejects(INVALID, 'order.put_limit', ...put([5, '0.99999']));
  w.rejects(INVALID, 'order.put_market', 1, 'BTCBCH', 1, '0.3', '0.99999', 'web');
  const t10 = w.tick();
  assertOrder(w.order('order.put_limit', ...put([5, '0.9999'])), { id: 3, taker_fee: '0.9999', left: '0.001', ctime: t10 }, 'E10 fee');
  assertOrder(w.order('order.put_limit', ...put([7, 'y'.repeat(30)])), { id: 4, source: 'y'.repeat(30) }, 'E10 source 30 bytes');
  assertOrder(w.order('order.put_limit', ...put([7, '€'.repeat(10)])), { id: 5, source: '€'.repeat(10) }, 'E10 source 30 UTF-8 bytes');
  w.assertBalance(1, 'BTC', '9.697', '0.003');
  w.check('E');
});

// ---------------------------------------------------------------------------------------------
// Scenario F — price-time priority

test('Scenario F (F1–F2): price-time priority, makers first', () => {
  const w = new World();
  for (const user of [1, 2, 3]) w.deposit(user, 'BTC', '10');
  w.deposit(9, 'BCH', '100000');
  w.tick();
  assertOrder(w.order('order.put_limit', 1, 'BTCBCH', 1, '1', '5010', '0.002', '0.001', 'web'), { id: 1 }, 'ask 1');
  assertOrder(w.order('order.put_limit', 2, 'BTCBCH', 1, '1', '5000', '0.002', '0.001', 'web'), { id: 2 }, 'ask 2');
  assertOrder(w.order('order.put_limit', 3, 'BTCBCH', 1, '1', '5000', '0.002', '0.001', 'web'), { id: 3 }, 'ask 3');

  // F1
  const t1 = w.tick();
  assertOrder(w.order('order.put_limit', 9, 'BTCBCH', 2, '2.5', '5010', '0.002', '0.001', 'web'), {
    id: 4, left: '0e-8', deal_stock: '2.5', deal_money: '12505', deal_fee: '0.005', ctime: t1, mtime: t1,
  }, 'F1');
  const fills = deals(w.events()).map((d) => ({ ask: d.askOrder, price: d.price, amount: d.amount }));
  assert.deepEqual(fills, [
    { ask: 2, price: 5000_00000000, amount: 1_00000000 },
    { ask: 3, price: 5000_00000000, amount: 1_00000000 },
    { ask: 1, price: 5010_00000000, amount: 50000000 },
  ]);
  // F3 (as order events): makers first, taker last
  assert.deepEqual(orderEvents(w.events()), [[OrderEvent.FINISH, 2], [OrderEvent.FINISH, 3], [OrderEvent.UPDATE, 1], [OrderEvent.FINISH, 4]]);

  // F2
  assert.deepEqual(w.depth('BTCBCH', 10, '0'), { asks: [['5010', '0.5']], bids: [] });
  w.assertBalance(9, 'BTC', '2.495', '0');
  w.assertBalance(9, 'BCH', '87495', '0');
  w.assertBalance(1, 'BTC', '9', '0.5');
  w.assertBalance(1, 'BCH', '2502.495', '0'); // 2505 − 0.1% maker fee
  w.assertBalance(2, 'BCH', '4995', '0');
  w.check('F');
});

// ---------------------------------------------------------------------------------------------
// Scenario G — zero fees and exponent spelling (tolerant: values, not spellings)

test('Scenario G (G1–G4): zero fees; small values by value', () => {
  const w = new World();
  w.deposit(1, 'BTC', '10');
  w.deposit(2, 'BCH', '10000');
  const t0 = w.tick();
  w.order('order.put_limit', 1, 'BTCBCH', 1, '2', '5000', '0', '0', 'web');

  // G1
  const t1 = w.tick();
  assertOrder(w.order('order.put_limit', 2, 'BTCBCH', 2, '1', '5000', '0', '0', 'web'), {
    id: 2, taker_fee: '0', maker_fee: '0', left: '0e-8', deal_stock: '1', deal_money: '5000', deal_fee: '0e-12', ctime: t1, mtime: t1,
  }, 'G1');
  const [deal] = deals(w.events());
  assert.equal(deal?.askFee, 0n);
  assert.equal(deal?.bidFee, 0n);

  // G2
  const g2 = w.ok<PendingPage>('order.pending', 1, 'BTCBCH', 0, 10);
  assert.equal(g2.total, 1);
  assertOrder(g2.records[0]!, { id: 1, left: '1', deal_fee: '0e-20', ctime: t0, mtime: t1 }, 'G2');

  // G3: no fees charged anywhere
  w.assertBalance(2, 'BTC', '1', '0');
  w.assertBalance(1, 'BCH', '5000', '0');
  assert.deepEqual(w.stored(0, 'BTC'), { available: '0', freeze: '0' });
  assert.deepEqual(w.stored(0, 'BCH'), { available: '0', freeze: '0' });
  w.check('G3');

  // G4 (the original prints "5.0e-7" and "9.9e-7")
  w.ok('balance.update', 5, 'BTC', 'deposit', 1, '0.0000005', {});
  assert.deepEqual(w.ok('balance.query', 5, 'BTC'), { BTC: { available: canon('5.0e-7'), freeze: '0' } });
  // Ours: "0.00000099999" has more places than prec_show 8 and is refused (the original truncated it to 9.9e-7).
  w.rejects(INVALID, 'balance.update', 6, 'BTC', 'deposit', 1, '0.00000099999', {});
  w.ok('balance.update', 6, 'BTC', 'deposit', 1, '0.00000099', {});
  w.assertBalance(6, 'BTC', '9.9e-7', '0');
  w.ok('balance.update', 7, 'BTC', 'deposit', 1, '0.000001', {});
  assert.deepEqual(w.ok('balance.query', 7, 'BTC'), { BTC: { available: '0.000001', freeze: '0' } });
  w.check('G');
});

// ---------------------------------------------------------------------------------------------
// Scenario H — depth and merging

test('Scenario H (H1–H6): depth with and without merging', () => {
  const w = new World();
  w.deposit(1, 'BTC', '100');
  w.deposit(2, 'BCH', '1000000');
  for (const [amount, price] of [['1', '5000'], ['1', '5003'], ['2', '5012']] as const) {
    w.order('order.put_limit', 1, 'BTCBCH', 1, amount, price, '0', '0', 'web');
  }
  for (const [amount, price] of [['1', '4999'], ['1', '4991'], ['0.5', '4980']] as const) {
    w.order('order.put_limit', 2, 'BTCBCH', 2, amount, price, '0', '0', 'web');
  }
  // H1
  assert.deepEqual(w.depth('BTCBCH', 10, '0'), {
    asks: [['5000', '1'], ['5003', '1'], ['5012', '2']],
    bids: [['4999', '1'], ['4991', '1'], ['4980', '0.5']],
  });
  // H2: asks rounded up, bids down
  assert.deepEqual(w.depth('BTCBCH', 10, '10'), {
    asks: [['5000', '1'], ['5010', '1'], ['5020', '2']],
    bids: [['4990', '2'], ['4980', '0.5']],
  });
  // H3
  assert.deepEqual(w.depth('BTCBCH', 2, '10'), {
    asks: [['5000', '1'], ['5010', '1']],
    bids: [['4990', '2'], ['4980', '0.5']],
  });
  // H4
  assert.deepEqual(w.depth('BTCBCH', 10, '100'), { asks: [['5000', '1'], ['5100', '3']], bids: [['4900', '2.5']] });
  // H5
  w.rejects(INVALID, 'order.depth', 'BTCBCH', 102, '0');
  w.rejects(INVALID, 'order.depth', 'BTCBCH', 10, '-1');
  // H6
  w.assertBalance(1, 'BTC', '96', '4');
  w.assertBalance(2, 'BCH', '987520', '12480');
  // market.summary agrees with the book
  assert.deepEqual(w.ok('market.summary', 'BTCBCH'), [{ name: 'BTCBCH', ask_count: 3, ask_amount: '4', bid_count: 3, bid_amount: '2.5' }]);
  w.check('H');
});

// ---------------------------------------------------------------------------------------------
// Scenario R — a fee with more places than prec_save (custom config)

const scenarioR: ConfigInput = {
  assets: [{ name: 'XBT', prec_save: 12, prec_show: 8 }, { name: 'USD', prec_save: 12, prec_show: 8 }],
  markets: [{ name: 'XBTUSD', stock: { name: 'XBT', prec: 6 }, money: { name: 'USD', prec: 6 }, fee_prec: 4, min_amount: '0.001' }],
};

test('Scenario R (R1–R4): fee rounding and conservation with a fee account', () => {
  const w = new World(scenarioR);
  w.deposit(1, 'XBT', '10');
  w.deposit(2, 'USD', '100');

  // R1
  const t1 = w.tick();
  assertOrder(w.order('order.put_limit', 2, 'XBTUSD', 2, '1.000001', '1.000001', '0.0011', '0.0011', 'web'), {
    id: 1, side: 2, left: '1.000001', deal_stock: '0', ctime: t1, mtime: t1,
  }, 'R1');
  assert.deepEqual(w.stored(2, 'USD'), { available: '98.999997999999', freeze: '1.000002000001' });
  w.assertBalance(2, 'USD', '98.99999799', '1.000002');
  w.check('R1');

  // R2. Ours: the fee is charged rounded up to whole units of prec_save, and deal_fee shows the charged
  // amount: 0.001100002201 (the original records 0.0011000022000011 and loses the rounding dust).
  const t2 = w.tick();
  assertOrder(w.order('order.put_limit', 1, 'XBTUSD', 1, '1.000001', '1.000001', '0.0011', '0.0011', 'web'), {
    id: 2, side: 1, left: '0', deal_stock: '1.000001', deal_money: '1.000002000001', deal_fee: '0.001100002201', ctime: t2, mtime: t2,
  }, 'R2');
  const [deal] = deals(w.events());
  assert.equal(deal?.dealMoney, 1_000002_000001n);
  assert.equal(deal?.askFee, 1100002201n);
  assert.equal(deal?.bidFee, 1100001100n); // 1.000001 × 0.0011 = 0.0011000011, exact at 12 places

  // R3: balances as the original
  assert.deepEqual(w.stored(1, 'USD'), { available: '0.9989019978', freeze: '0' });
  w.assertBalance(1, 'USD', '0.99890199', '0');
  w.assertBalance(1, 'XBT', '8.999999', '0');
  assert.deepEqual(w.stored(2, 'XBT'), { available: '0.9989009989', freeze: '0' });
  w.assertBalance(2, 'XBT', '0.99890099', '0');
  assert.deepEqual(w.stored(2, 'USD'), { available: '98.999997999999', freeze: '0' });
  w.assertBalance(2, 'USD', '98.99999799', '0');

  // R4. Ours: the fee account holds exactly what was charged, so Σ balances = deposits (no vanished dust).
  assert.deepEqual(w.stored(0, 'USD'), { available: '0.001100002201', freeze: '0' });
  assert.deepEqual(w.stored(0, 'XBT'), { available: '0.0011000011', freeze: '0' });
  assert.deepEqual(w.ok('asset.summary'), [
    { name: 'XBT', total_balance: '10', available_count: 3, available_balance: '10', freeze_count: 0, freeze_balance: '0' },
    { name: 'USD', total_balance: '100', available_count: 3, available_balance: '100', freeze_count: 0, freeze_balance: '0' },
  ]);
  w.check('R');
});

// ---------------------------------------------------------------------------------------------
// Ours beyond §12: deal money truncated to the money asset's prec_save

test('ours: deal money is truncated to prec_save when stock_prec + money_prec exceed it; buyer and seller agree', () => {
  // Ours: BTCBCH has stock_prec 8 + money_prec 8 = 16 > BCH prec_save 12 in our defaults (the original's BCH kept 20).
  const w = new World();
  w.deposit(1, 'BTC', '1');
  w.deposit(2, 'BCH', '1000');
  w.order('order.put_limit', 1, 'BTCBCH', 1, '0.12345678', '5000.12345678', '0.001', '0.001', 'web');
  w.check('ask rests');
  const filled = w.order('order.put_limit', 2, 'BTCBCH', 2, '0.12345678', '5000.12345678', '0.002', '0.002', 'web');
  // 0.12345678 × 5000.12345678 = 617.2991415765279684, truncated to 12 places
  assertOrder(filled, { left: '0', deal_stock: '0.12345678', deal_money: '617.299141576527', deal_fee: '0.00024691356' }, 'bid');
  const [deal] = deals(w.events());
  assert.equal(deal?.dealMoney, 617_299141576527n);
  assert.equal(deal?.askFee, 617299141577n, 'ask fee 0.617299141576527 rounded up to 12 places');
  // the buyer paid exactly the truncated deal money; nothing stays frozen
  assert.deepEqual(w.stored(2, 'BCH'), { available: '382.700858423473', freeze: '0' });
  // the seller received the same amount, net of the fee
  assert.deepEqual(w.stored(1, 'BCH'), { available: '616.68184243495', freeze: '0' });
  assert.deepEqual(w.stored(0, 'BCH'), { available: '0.617299141577', freeze: '0' });
  w.check('after the deal');
});

test('ours: a truncated bid maker filled in pieces gives back the rounding remainder when it finishes', () => {
  const w = new World();
  w.deposit(1, 'BTC', '1');
  w.deposit(2, 'BCH', '1000');
  w.order('order.put_limit', 2, 'BTCBCH', 2, '0.12345678', '5000.12345678', '0', '0', 'web');
  // frozen: 0.12345678 × 5000.12345678 truncated to 12 places
  assert.deepEqual(w.stored(2, 'BCH'), { available: '382.700858423473', freeze: '617.299141576527' });
  w.order('order.put_limit', 1, 'BTCBCH', 1, '0.06172839', '5000', '0', '0', 'web');
  w.check('first piece');
  // each piece pays 0.06172839 × 5000.12345678 = 308.6495707882639842, truncated: 308.649570788263
  assert.deepEqual(w.stored(2, 'BCH'), { available: '382.700858423473', freeze: '308.649570788264' });
  w.order('order.put_limit', 1, 'BTCBCH', 1, '0.06172839', '5000', '0', '0', 'web');
  assert.equal(w.ok('order.pending_detail', 'BTCBCH', 1), null, 'the bid is finished');
  // the 1e-12 the two truncated pieces did not spend goes back to available
  assert.deepEqual(w.stored(2, 'BCH'), { available: '382.700858423474', freeze: '0' });
  assert.deepEqual(w.stored(1, 'BCH'), { available: '617.299141576526', freeze: '0' });
  w.check('finished');
});

test('P6 after partial fills at better prices: a bid keeps price × left frozen, an ask keeps left', () => {
  const w = new World();
  w.deposit(1, 'BTC', '10');
  w.deposit(2, 'BCH', '100000');
  w.order('order.put_limit', 1, 'BTCBCH', 1, '1', '5000', '0.001', '0.001', 'web');
  w.order('order.put_limit', 1, 'BTCBCH', 1, '0.5', '5050', '0.001', '0.001', 'web');
  // a bid at 5100 for 3 takes 1 @ 5000 and 0.5 @ 5050, then rests 1.5 at its own price
  assertOrder(w.order('order.put_limit', 2, 'BTCBCH', 2, '3', '5100', '0.002', '0.001', 'web'), {
    id: 3, left: '1.5', deal_stock: '1.5', deal_money: '7525', deal_fee: '0.003',
  }, 'bid');
  w.assertBalance(2, 'BCH', '84825', '7650'); // 100000 − 7525 − 1.5 × 5100
  w.check('bid rests');
  // an ask at 4000 for 2 takes the resting 1.5 @ 5100, then rests 0.5 at its own price
  assertOrder(w.order('order.put_limit', 1, 'BTCBCH', 1, '2', '4000', '0.002', '0.001', 'web'), {
    id: 4, left: '0.5', deal_stock: '1.5', deal_money: '7650', deal_fee: '15.3',
  }, 'ask');
  w.assertBalance(1, 'BTC', '6.5', '0.5');
  w.assertBalance(1, 'BCH', '15152.175', '0'); // 7525 − 7.525 + 7650 − 15.3
  w.assertBalance(2, 'BCH', '84825', '0');
  w.assertBalance(2, 'BTC', '2.9955', '0'); // 1.5 − 0.2% taker fee + 1.5 − 0.1% maker fee
  w.check('ask rests');
  w.tick();
  w.order('order.cancel', 1, 'BTCBCH', 4);
  w.assertBalance(1, 'BTC', '7', '0');
  w.check('cancelled');
});
