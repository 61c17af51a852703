import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatUnits, parseUnits, rescaleTruncate } from '../decimal.js';

test('parses plain decimals into units', () => {
  assert.equal(parseUnits('5000', 8), 500000000000n);
  assert.equal(parseUnits('0.1', 8), 10000000n);
  assert.equal(parseUnits('-0.12345678', 8), -12345678n);
  assert.equal(parseUnits('+1.5', 1), 15n);
  assert.equal(parseUnits('.5', 1), 5n);
  assert.equal(parseUnits('5.', 0), 5n);
  assert.equal(parseUnits('1.50000000000000', 1), 15n, 'trailing zeros beyond the precision are fine');
});

test('parses exponents as the original does (Python str(float) sends 1e-05)', () => {
  assert.equal(parseUnits('1e-05', 8), 1000n);
  assert.equal(parseUnits('2.5E-4', 8), 25000n);
  assert.equal(parseUnits('1e3', 0), 1000n);
  assert.equal(parseUnits('100e-2', 0), 1n);
});

test('rejects too many decimals, non-finite values and junk', () => {
  for (const bad of ['1.123456789', '0.000000001', '1e-9']) assert.equal(parseUnits(bad, 8), null, bad);
  for (const bad of ['', ' 1', '1 ', 'NaN', 'nan', 'Infinity', '-Inf', 'sNaN', '1,5', '0x10', '1e', 'e5', '.', '-', '1..2', '1e999', '١']) {
    assert.equal(parseUnits(bad, 8), null, JSON.stringify(bad));
  }
  assert.equal(parseUnits('9'.repeat(81), 0), null, 'over-long text');
});

test('formats without trailing zeros', () => {
  assert.equal(formatUnits(500000000000n, 8), '5000');
  assert.equal(formatUnits(24n, 6), '0.000024');
  assert.equal(formatUnits(0n, 8), '0');
  assert.equal(formatUnits(-5n, 1), '-0.5');
  assert.equal(formatUnits(123n, 0), '123');
});

test('rescale truncates toward zero', () => {
  assert.equal(rescaleTruncate(1381846149240n, 12, 8), 138184614n);
  assert.equal(rescaleTruncate(-19n, 1, 0), -1n);
  assert.equal(rescaleTruncate(7n, 0, 3), 7000n);
});

test('format and parse are inverse for any units and precision', () => {
  fc.assert(fc.property(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), fc.integer({ min: 0, max: 18 }), (units, decimals) => {
    assert.equal(parseUnits(formatUnits(units, decimals), decimals), units);
  }));
});
