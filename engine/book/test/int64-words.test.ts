import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { addInt64, copyInt64, setInt64, storeInt64WordsOf, unitsAt } from '../int64-words.js';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

test('addInt64 adds exactly like bigint, on both sides of 2^53 and of zero', () => {
  const value = fc.oneof(
    fc.bigInt({ min: -(1n << 54n), max: 1n << 54n }),
    fc.bigInt({ min: INT64_MIN / 2n, max: INT64_MAX / 2n }),
    fc.constantFrom(0n, -1n, 1n, 2n ** 32n, -(2n ** 32n), 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n, -(2n ** 53n)),
  );
  const delta = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.maxSafeInteger(), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 32, -(2 ** 32)));
  fc.assert(fc.property(value, delta, fc.nat({ max: 3 }), (start, d, i) => {
    const column = new BigInt64Array(4);
    const words = new Uint32Array(column.buffer);
    column[i] = start;
    addInt64(column, words, i, d);
    assert.equal(column[i], BigInt.asIntN(64, start + BigInt(d)));
    for (let j = 0; j < 4; j++) if (j !== i) assert.equal(column[j], 0n, 'neighbours untouched');
  }), { numRuns: 5000 });
});

test('unitsAt reads an int64 as a double exactly in [0, 2^53) and -1 elsewhere; setInt64 and copyInt64 write what bigint reads', () => {
  const value = fc.oneof(
    fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
    fc.bigInt({ min: -(1n << 54n), max: 1n << 54n }),
    fc.constantFrom(0n, -1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, INT64_MAX, INT64_MIN),
  );
  fc.assert(fc.property(value, fc.maxSafeNat(), (start, safe) => {
    const column = new BigInt64Array(2);
    const words = new Uint32Array(column.buffer);
    column[0] = start;
    const units = unitsAt(words, 0);
    if (start >= 0n && start < 2n ** 53n) assert.equal(BigInt(units), start);
    else assert.equal(units, -1);
    copyInt64(words, 0, words, 1);
    assert.equal(column[1], start);
    setInt64(words, 0, safe);
    assert.equal(column[0], BigInt(safe));
    setInt64(words, 0, -safe);
    assert.equal(column[0], -BigInt(safe));
  }), { numRuns: 5000 });
});

test('storeInt64WordsOf stores a safe integer read from a Float64Array as the int64 bigint reads', () => {
  fc.assert(fc.property(fc.maxSafeInteger(), fc.integer({ min: 0, max: 3 }), (value, i) => {
    const column = new BigInt64Array(3);
    const from = new Float64Array(4);
    from[i] = value;
    storeInt64WordsOf(new Uint32Array(column.buffer), 2, from, i);
    assert.deepEqual([...column], [0n, BigInt(value), 0n]);
  }), { numRuns: 5000 });
});
