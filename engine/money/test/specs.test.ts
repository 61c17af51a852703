import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { validateConfig } from '../../../conf/load.js';
import {
  affordableLots, affordableLotsNumber, buildSpecs, DEAL_AMOUNTS, DEAL_ASK_FEE, DEAL_BID_FEE, DEAL_MONEY_UNITS, DEAL_STOCK_UNITS,
  dealAmountsNumber, dealMoney, dealMoneyNumber, feeUnits, feeUnitsNumber, floorDiv, stockUnits, stockUnitsNumber, type MarketSpec,
} from '../specs.js';

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

test('deal money in doubles stays exact when ticks × lots passes 2^53 but the truncated money does not', () => {
  const truncating = markets().filter((m) => m.dealDivNumber > 1 && Number.isFinite(m.dealDivNumber));
  assert.ok(truncating.length > 0);
  const big = fc.integer({ min: 2 ** 26, max: Number.MAX_SAFE_INTEGER });
  fc.assert(fc.property(fc.constantFrom(...truncating), big, big, (spec, ticks, lots) => {
    const money = dealMoney(spec, ticks, lots);
    const moneyN = dealMoneyNumber(spec, ticks, lots);
    const div = spec.dealDiv;
    const q = BigInt(lots) / div;
    const parts = [BigInt(ticks) * q, BigInt(ticks) * (BigInt(lots) - q * div)];
    if (moneyN >= 0) assert.equal(BigInt(moneyN), money);
    else assert.ok(money > MAX_SAFE || parts.some((p) => p > MAX_SAFE), `declined ${ticks}×${lots} in ${spec.name}`);
  }), { numRuns: 5000 });
  const spec = truncating[0]!; // BBBCCC: money = ⌊ticks × lots / 10^3⌋
  assert.equal(spec.dealDivNumber, 1_000);
  assert.equal(dealMoneyNumber(spec, 2e9, 1e7 + 999), 2e13 + 1_998_000_000); // ticks × lots ≈ 2 × 10^16
  assert.equal(dealMoneyNumber(spec, 3, 3_002_399_751_580_331), 9_007_199_254_740); // ⌊(2^53 + 1) / 1000⌋
  assert.equal(dealMoneyNumber(spec, Number.MAX_SAFE_INTEGER, 1_000), Number.MAX_SAFE_INTEGER);
  assert.equal(dealMoneyNumber(spec, Number.MAX_SAFE_INTEGER, 2_000), -1);
});

test('a deal\'s amounts in doubles agree with the bigint versions, or are declined (and nothing written) when one is not exact', () => {
  const all = markets();
  const rate = fc.integer({ min: 0, max: 10 ** 8 - 1 });
  fc.assert(fc.property(fc.constantFrom(...all), quantity, quantity, rate, rate, (spec, ticks, lots, askRaw, bidRaw) => {
    const askRate = askRaw % (spec.maxFeeTicks + 1);
    const bidRate = bidRaw % (spec.maxFeeTicks + 1);
    const out = new Float64Array(DEAL_AMOUNTS).fill(-7);
    const money = dealMoney(spec, ticks, lots);
    const units = stockUnits(spec, lots);
    const askFee = feeUnits(spec, money, askRate);
    const bidFee = feeUnits(spec, units, bidRate);
    if (dealAmountsNumber(spec, ticks, lots, askRate, bidRate, out)) {
      const got = [out[DEAL_MONEY_UNITS]!, out[DEAL_STOCK_UNITS]!, out[DEAL_ASK_FEE]!, out[DEAL_BID_FEE]!];
      assert.deepEqual(got.map((x) => BigInt(x)), [money, units, askFee, bidFee]);
    } else {
      assert.deepEqual([...out], [-7, -7, -7, -7], 'nothing written');
      const declined = dealMoneyNumber(spec, ticks, lots) < 0 || stockUnitsNumber(spec, lots) < 0
        || money * BigInt(askRate) > MAX_SAFE || units * BigInt(bidRate) > MAX_SAFE;
      assert.ok(declined, `declined ${ticks}×${lots} at ${askRate}/${bidRate} in ${spec.name}`);
    }
  }), { numRuns: 5000 });
});

test('floorDiv divides exactly like bigint, also next to multiples of the divisor', () => {
  const divisor = fc.oneof(fc.integer({ min: 0, max: 22 }).map((e) => 10 ** e), fc.integer({ min: 1, max: 2 ** 30 }), fc.maxSafeNat().filter((d) => d > 0));
  fc.assert(fc.property(divisor, fc.maxSafeNat(), fc.integer({ min: -2, max: 2 }), (d, n, offset) => {
    // a near a multiple of d (k × d + offset), or anywhere below 2^53 when that multiple is out of range.
    const near = Math.floor(n / d) * d + offset;
    const a = near >= 0 && near <= Number.MAX_SAFE_INTEGER ? near : n;
    assert.equal(BigInt(floorDiv(a, d)), BigInt(a) / BigInt(d), `${a} / ${d}`);
  }), { numRuns: 20000 });
  assert.equal(floorDiv(Number.MAX_SAFE_INTEGER, 1), Number.MAX_SAFE_INTEGER);
  assert.equal(floorDiv(Number.MAX_SAFE_INTEGER, 3), 3002399751580330);
  assert.equal(floorDiv(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER), 0);
  assert.equal(floorDiv(5, 10 ** 22), 0);
});

test('affordable lots: the double fast path agrees with bigint, declines only beyond 2^53, and never overspends', () => {
  const all = markets();
  const money = fc.oneof(fc.integer({ min: 0, max: 10 ** 12 }), fc.maxSafeNat());
  fc.assert(fc.property(fc.constantFrom(...all), quantity, money, (spec, ticks, units) => {
    const lots = affordableLots(spec, ticks, BigInt(units));
    const lotsN = affordableLotsNumber(spec, ticks, units);
    if (lotsN >= 0) assert.equal(BigInt(lotsN), lots);
    else assert.ok(BigInt(units) * spec.dealDiv > MAX_SAFE || BigInt(ticks) * spec.dealMul > MAX_SAFE, `declined ${units} at ${ticks} in ${spec.name}`);
    if (lots > 0n && lots <= MAX_SAFE) assert.ok(dealMoney(spec, ticks, Number(lots)) <= BigInt(units), 'the lots cost at most the money');
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
