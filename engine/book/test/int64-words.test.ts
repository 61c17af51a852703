import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { addInt64 } from '../int64-words.js';

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
