/**
 * The state hash is a function of the state alone: the order in which users got balance-table
 * rows does not change it; any change to a balance, an order, a key or an id counter does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIDE_ASK, SIDE_BID } from '../../book/order-columns.js';
import { Code } from '../../codes.js';
import { Engine } from '../../engine.js';
import { stateHash } from '../state-hash.js';
import { journalConfig, T0 } from './workload.js';

const COIN = 10n ** 12n;

function deposit(engine: Engine, user: number, asset: number, id: number, units: bigint): void {
  assert.equal(engine.updateBalance(user, asset, 'deposit', id, units, '', T0), Code.OK);
}

/** Users 1…4 funded (in `order`), then the same two resting orders. */
function build(order: readonly number[]): Engine {
  const engine = new Engine(journalConfig());
  for (const user of order) {
    deposit(engine, user, 0, user, 100n * COIN);
    deposit(engine, user, 1, 100 + user, 10n * COIN);
  }
  assert.equal(engine.placeLimit(1, 0, SIDE_BID, 100_000, 40e8, 2, 1, engine.internSource('web'), T0 + 1), Code.OK);
  assert.equal(engine.placeLimit(2, 0, SIDE_ASK, 200_000, 60e8, 2, 1, 0, T0 + 2), Code.OK);
  return engine;
}

test('the same state hashes the same whatever rows users got', () => {
  const a = build([1, 2, 3, 4]);
  const b = build([4, 2, 3, 1]);
  assert.notEqual(a.balances.users.find(1), b.balances.users.find(1));
  assert.match(stateHash([a]), /^[0-9a-f]{64}$/);
  assert.equal(stateHash([a]), stateHash([b]));
  assert.equal(stateHash([a]), stateHash([a]), 'hashing changes nothing');
});

test('any difference in balances, orders, keys or ids changes the hash', () => {
  const base = stateHash([build([1, 2, 3, 4])]);
  const variants: [string, (e: Engine) => void][] = [
    ['a balance', (e) => deposit(e, 3, 2, 999, 1n)],
    ['keys, with balances as before', (e) => {
      deposit(e, 3, 2, 998, 5n);
      assert.equal(e.updateBalance(3, 2, 'withdraw', 998, -5n, '', T0), Code.OK);
    }],
    ['an order cancelled', (e) => assert.equal(e.cancel(1, 0, 1, T0 + 3), Code.OK)],
    ['an order filled', (e) => assert.equal(e.placeMarket(3, 0, SIDE_ASK, 100_000, 0, 0, T0 + 3), Code.OK)],
    ['an order\'s mtime', (e) => { e.books[0]!.orders.mtime[e.books[0]!.find(2)]! += 1; }],
    ['an order\'s source label', (e) => e.registerSource(e.internSource('web'), 'api')],
    ['the next order id', (e) => e.orderIds.advanceTo(e.nextOrderId + 1)],
    ['the next deal id', (e) => e.dealIds.advanceTo(e.nextDealId + 5)],
  ];
  const seen = new Set([base]);
  for (const [what, change] of variants) {
    const engine = build([1, 2, 3, 4]);
    change(engine);
    const hash = stateHash([engine]);
    assert.ok(!seen.has(hash), what);
    seen.add(hash);
  }
  const ids = build([1, 2, 3, 4]);
  ids.orderIds.advanceTo(ids.nextOrderId + 1);
  assert.equal(stateHash([ids], { ids: false }), stateHash([build([1, 2, 3, 4])], { ids: false }), 'ids: false ignores the counters');
});
