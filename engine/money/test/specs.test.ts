import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { validateConfig } from '../../../conf/load.js';
import { buildSpecs, dealMoney, dealMoneyNumber, feeUnits, feeUnitsNumber, stockUnits, stockUnitsNumber, type MarketSpec } from '../specs.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Markets whose deal money is scaled up (exponent ≥ 0) and truncated (exponent < 0), with various fee precisions. */
function markets(): MarketSpec[] {
  const config = validateConfig({
    assets: [
      { name: 'AAA', prec_save: 18 }, { name: 'BBB', prec_save: 12 }, { name: 'CCC', prec_save: 6 },
    ],
    markets: [
      { name: 'AAABBB', stock: { name: 'AAA', prec: 8 }, money: { name: 'BBB', prec: 2 }, fee_prec: 4, min_amount: '0.00000001' },
      { name: 'BBBCCC', stock: { name: 'BBB', prec: 6 }, money: { name: 'CCC', prec: 3 }, fee_prec: 8, min_amount: '0.000001' },
      { name: 'AAACCC', stock: { name: 'AAA', prec: 0 }, money: { name: 'CCC', prec: 0 }, fee_prec: 0, min_amount: '1' },
    ],
  });
  return [...buildSpecs(config).markets];
}

const quantity = fc.oneof(fc.integer({ min: 1, max: 10_000_000 }), fc.maxSafeInteger().filter((n) => n > 0));

test('the double fast paths agree with the bigint versions, and decline exactly when a value leaves 2^53', () => {
  const all = markets();
  fc.assert(fc.property(fc.constantFrom(...all), quantity, quantity, fc.integer({ min: 0, max: 10 ** 8 - 1 }), (spec, ticks, lots, rate) => {
    const money = dealMoney(spec, ticks, lots);
    const moneyN = dealMoneyNumber(spec, ticks, lots);
    if (moneyN >= 0) assert.equal(BigInt(moneyN), money);
    else assert.ok(money > MAX_SAFE || BigInt(ticks) * BigInt(lots) * spec.dealMul > MAX_SAFE, `declined ${ticks}×${lots} in ${spec.name}`);

    const units = stockUnits(spec, lots);
    const unitsN = stockUnitsNumber(spec, lots);
    if (unitsN >= 0) assert.equal(BigInt(unitsN), units);
    else assert.ok(units > MAX_SAFE);

    const feeRate = rate % (spec.maxFeeTicks + 1);
    if (moneyN >= 0) {
      const feeN = feeUnitsNumber(spec, moneyN, feeRate);
      const fee = feeUnits(spec, money, feeRate);
      if (feeN >= 0) assert.equal(BigInt(feeN), fee);
      else assert.ok(money * BigInt(feeRate) > MAX_SAFE);
    }
  }), { numRuns: 5000 });
});

test('fee fast path rounds up exactly at the boundaries', () => {
  const spec = markets()[0]!; // fee_prec 4
  assert.equal(feeUnitsNumber(spec, 10_000, 1), 1);
  assert.equal(feeUnitsNumber(spec, 10_001, 1), 2);
  assert.equal(feeUnitsNumber(spec, 9_999, 1), 1);
  assert.equal(feeUnitsNumber(spec, 0, 5), 0);
  assert.equal(feeUnitsNumber(spec, 123, 0), 0);
  assert.equal(feeUnitsNumber(spec, Number.MAX_SAFE_INTEGER, 2), -1);
});
