/**
 * BalanceTable: the money operations on (row, asset) cells and the per-asset supply counter.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BalanceTable, INT64_MAX } from '../table.js';

const ASSETS = 3;

function table(): { t: BalanceTable; alice: number; bob: number } {
  const t = new BalanceTable(BalanceTable.allocate(16, ASSETS));
  return { t, alice: t.users.findOrInsert(1), bob: t.users.findOrInsert(2 ** 32 - 1) };
}

/** Every cell and the supply, for "nothing changed" checks. */
function state(t: BalanceTable): bigint[] {
  return [...t.cells, ...t.supply];
}

function sumOf(t: BalanceTable, asset: number): bigint {
  let sum = 0n;
  t.users.forEach((_user, row) => { sum += t.available(row, asset) + t.frozen(row, asset); });
  return sum;
}

test('cells are laid out per (row, asset): available then frozen, independent of each other', () => {
  const { t, alice, bob } = table();
  assert.equal(t.cell(0, 0), 0);
  assert.equal(t.cell(0, 1), 2);
  assert.equal(t.cell(1, 0), 2 * ASSETS);
  assert.ok(t.deposit(alice, 1, 5n));
  assert.ok(t.reserve(alice, 1, 2n));
  assert.equal(t.cells[t.cell(alice, 1)], 3n);
  assert.equal(t.cells[t.cell(alice, 1) + 1], 2n);
  for (let row = 0; row < 2; row++) {
    for (let asset = 0; asset < ASSETS; asset++) {
      if (row === alice && asset === 1) continue;
      assert.equal(t.available(row, asset), 0n);
      assert.equal(t.frozen(row, asset), 0n);
    }
  }
  assert.equal(t.available(bob, 1), 0n);
});

test('deposit and withdraw move the supply; withdraw fails cleanly when available is short', () => {
  const { t, alice } = table();
  assert.ok(t.deposit(alice, 0, 100n));
  assert.equal(t.available(alice, 0), 100n);
  assert.equal(t.supply[0], 100n);
  assert.ok(t.reserve(alice, 0, 30n));
  const before = state(t);
  assert.equal(t.withdraw(alice, 0, 71n), false, 'frozen funds cannot be withdrawn');
  assert.deepEqual(state(t), before);
  assert.ok(t.withdraw(alice, 0, 70n));
  assert.equal(t.available(alice, 0), 0n);
  assert.equal(t.frozen(alice, 0), 30n);
  assert.equal(t.supply[0], 30n);
  assert.equal(t.withdraw(alice, 0, 1n), false);
  assert.ok(t.withdraw(alice, 0, 0n), 'withdrawing nothing is fine');
  assert.ok(t.deposit(alice, 0, 0n), 'depositing nothing is fine');
  assert.equal(t.supply[0], 30n);
});

test('reserve and release move between available and frozen; reserve fails cleanly when short', () => {
  const { t, alice } = table();
  assert.ok(t.deposit(alice, 2, 50n));
  assert.ok(t.reserve(alice, 2, 20n));
  assert.deepEqual([t.available(alice, 2), t.frozen(alice, 2)], [30n, 20n]);
  const before = state(t);
  assert.equal(t.reserve(alice, 2, 31n), false);
  assert.deepEqual(state(t), before, 'a failed reserve changes nothing');
  assert.equal(t.reserve(alice, 1, 1n), false, 'another asset has nothing');
  assert.deepEqual(state(t), before);
  assert.ok(t.reserve(alice, 2, 30n), 'exactly the available amount');
  assert.deepEqual([t.available(alice, 2), t.frozen(alice, 2)], [0n, 50n]);
  t.release(alice, 2, 15n);
  assert.deepEqual([t.available(alice, 2), t.frozen(alice, 2)], [15n, 35n]);
  assert.equal(t.supply[2], 50n, 'reserve and release do not touch the supply');
});

test('spendFrozen and credit settle a deal: the supply and the sum of cells stay equal', () => {
  const { t, alice, bob } = table();
  const STOCK = 1;
  const MONEY = 0;
  assert.ok(t.deposit(alice, STOCK, 10n));
  assert.ok(t.deposit(bob, MONEY, 1000n));
  assert.ok(t.reserve(alice, STOCK, 4n));
  assert.ok(t.reserve(bob, MONEY, 400n));
  // alice sells 4 stock for 400 money
  t.spendFrozen(alice, STOCK, 4n);
  t.credit(bob, STOCK, 4n);
  t.spendFrozen(bob, MONEY, 400n);
  t.credit(alice, MONEY, 400n);
  assert.deepEqual([t.available(alice, STOCK), t.frozen(alice, STOCK), t.available(alice, MONEY)], [6n, 0n, 400n]);
  assert.deepEqual([t.available(bob, STOCK), t.available(bob, MONEY), t.frozen(bob, MONEY)], [4n, 600n, 0n]);
  for (const asset of [STOCK, MONEY]) assert.equal(sumOf(t, asset), t.supply[asset]);
  assert.equal(t.supply[STOCK], 10n);
  assert.equal(t.supply[MONEY], 1000n);
});

test('deposits are refused past INT64_MAX supply, changing nothing', () => {
  const { t, alice, bob } = table();
  assert.ok(t.deposit(alice, 1, INT64_MAX - 5n));
  assert.ok(t.deposit(bob, 1, 5n), 'exactly INT64_MAX');
  assert.equal(t.supply[1], INT64_MAX);
  const before = state(t);
  assert.equal(t.deposit(bob, 1, 1n), false);
  assert.equal(t.deposit(alice, 1, INT64_MAX), false);
  assert.deepEqual(state(t), before);
  // the limit is per asset
  assert.ok(t.deposit(bob, 0, INT64_MAX));
  // after a withdrawal there is room again
  assert.ok(t.withdraw(alice, 1, 10n));
  assert.equal(t.deposit(bob, 1, 11n), false);
  assert.ok(t.deposit(bob, 1, 10n));
  assert.equal(t.supply[1], INT64_MAX);
  assert.equal(sumOf(t, 1), INT64_MAX);
});

test('two tables over the same buffers share every cell, the supply and the users', () => {
  const buffers = BalanceTable.allocate(16, ASSETS);
  const a = new BalanceTable(buffers);
  const b = new BalanceTable(buffers);
  const row = a.users.findOrInsert(42);
  assert.equal(b.users.find(42), row);
  assert.ok(a.deposit(row, 2, 9n));
  assert.ok(b.reserve(row, 2, 4n));
  assert.deepEqual([a.available(row, 2), a.frozen(row, 2), a.supply[2]], [5n, 4n, 9n]);
});
