/**
 * The gateway's fast paths must give exactly what the general code gives: decimal params read
 * without bigint (quantity, feeRate) against parseUnits, decimals printed without bigint
 * (unitsText, bigUnitsText) against formatUnits, and orderJson against JSON.stringify.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import { formatUnits, parseUnits } from '../../../engine/money/decimal.js';
import { buildSpecs, MAX_QUANTITY } from '../../../engine/money/specs.js';
import { bigUnitsText, orderJson, unitsText, type OrderInfo } from '../format.js';
import { feeRate, InvalidParams, quantity } from '../params.js';

/** What quantity() must return: the general rule, from parseUnits. */
function slowQuantity(text: string, decimals: number): number | 'invalid' {
  const units = parseUnits(text, decimals);
  return units === null || units <= 0n || units > BigInt(MAX_QUANTITY) ? 'invalid' : Number(units);
}

function attempt(f: () => number): number | 'invalid' {
  try {
    return f();
  } catch (err) {
    if (err instanceof InvalidParams) return 'invalid';
    throw err;
  }
}

/** Decimal-looking texts, mostly plain (the fast path), some with signs, exponents, stray characters. */
const decimalText = fc.oneof(
  fc.tuple(fc.stringMatching(/^[0-9]{0,12}$/), fc.option(fc.stringMatching(/^[0-9]{0,12}$/))).map(([a, b]) => (b === null ? a : `${a}.${b}`)),
  fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.integer({ min: 0, max: 20 })).map(([n, d]) => formatUnits(n, d)),
  fc.constantFrom('', '.', '0', '00', '0.', '.0', '1.', '.5', '-1', '+1', '1e3', '1E-3', 'NaN', 'Infinity', ' 1', '1 ', '1..2', '0x10', '١'),
  fc.string({ maxLength: 20 }),
);

describe('quantity and feeRate without bigint', () => {
  it('agree with parseUnits on every text and precision', () => {
    fc.assert(fc.property(decimalText, fc.integer({ min: 0, max: 18 }), (text, decimals) => {
      assert.equal(attempt(() => quantity(text, decimals)), slowQuantity(text, decimals), `${JSON.stringify(text)} at ${decimals}`);
    }), { numRuns: 20_000 });
  });

  it('fee rates in [0, 1) at fee_prec, as parseUnits says', () => {
    const base = validateConfig(defaultConfig);
    fc.assert(fc.property(decimalText, fc.integer({ min: 0, max: 18 }), (text, feePrec) => {
      const specs = buildSpecs({ ...base, markets: [{ ...base.markets[0]!, fee_prec: feePrec }] });
      const units = parseUnits(text, feePrec);
      const want = units === null || units < 0n || units >= 10n ** BigInt(feePrec) ? 'invalid' : Number(units);
      assert.equal(attempt(() => feeRate(text, specs.markets[0]!)), want, `${JSON.stringify(text)} at ${feePrec}`);
    }), { numRuns: 10_000 });
  });

  it('edges: 15 digits, scale past 2^53, trailing zeros past the precision', () => {
    assert.equal(quantity('999999999999999', 0), 999999999999999);
    assert.equal(quantity('90071992.54740991', 8), Number.MAX_SAFE_INTEGER);
    assert.equal(attempt(() => quantity('90071992.54740992', 8)), 'invalid');
    assert.equal(quantity('1.50000000000000', 8), 150_000_000);
    assert.equal(attempt(() => quantity('1.000000001', 8)), 'invalid');
    assert.equal(attempt(() => quantity('0.0000', 2)), 'invalid');
  });
});

describe('unitsText and bigUnitsText', () => {
  it('print what formatUnits prints', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, 1, 10, 100, 10 ** 15)), fc.integer({ min: 0, max: 18 }), (n, d) => {
      assert.equal(unitsText(n, d), formatUnits(BigInt(n), d));
    }), { numRuns: 20_000 });
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer({ min: 0, max: 18 }), (n, d) => {
      assert.equal(bigUnitsText(n, d), formatUnits(n, d));
    }), { numRuns: 20_000 });
  });
});

describe('orderJson', () => {
  it('is JSON.stringify of the order object', () => {
    const decimal = fc.bigInt({ min: 0n, max: 10n ** 20n }).map((n) => formatUnits(n, 8));
    const order: fc.Arbitrary<OrderInfo> = fc.record({
      id: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), market: fc.stringMatching(/^[A-Za-z0-9_-]{1,15}$/),
      source: fc.string({ maxLength: 30, unit: 'binary' }), type: fc.constantFrom(1, 2), side: fc.constantFrom(1, 2),
      user: fc.integer({ min: 1, max: 0xffffffff }), ctime: fc.double({ min: 0, max: 4e9, noNaN: true }), mtime: fc.double({ min: 0, max: 4e9, noNaN: true }),
      price: decimal, amount: decimal, taker_fee: decimal, maker_fee: decimal, left: decimal, deal_stock: decimal, deal_money: decimal, deal_fee: decimal,
    });
    fc.assert(fc.property(order, (o) => {
      assert.equal(orderJson(o), JSON.stringify(o));
    }), { numRuns: 5_000 });
  });
});
