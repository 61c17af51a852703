/**
 * Arithmetic on int64 columns without bigint: a BigInt64Array is read and written through a
 * Uint32Array over the same buffer (little-endian word pairs: low, high), in doubles, whenever
 * the value and the result are within ±(2^53 − 1) — exact there — and through the bigint view
 * otherwise. Bigint arithmetic allocates on every operation; this does not.
 */

const TWO_32 = 4294967296;
/** High words of values with |value| < 2^53: the high word's signed value is within ±2^21. */
const HIGH_LIMIT = 0x200000;

/** Adds `delta` (a safe integer) to element `i` of `column`, whose word view is `words`. */
export function addInt64(column: BigInt64Array, words: Uint32Array, i: number, delta: number): void {
  const w = i * 2;
  const high = words[w + 1]! | 0;
  if (high > -HIGH_LIMIT && high < HIGH_LIMIT) {
    const next = high * TWO_32 + words[w]! + delta; // the first sum is exact: |value| < 2^53
    if (next >= Number.MIN_SAFE_INTEGER && next <= Number.MAX_SAFE_INTEGER) {
      storeInt64Words(words, w, next);
      return;
    }
  }
  column[i] = column[i]! + BigInt(delta);
}

/** Stores a safe integer as a little-endian int64 at 32-bit word `p` (low word, then high word). */
export function storeInt64Words(words: Uint32Array, p: number, value: number): void {
  words[p] = value >>> 0; // ToUint32: the low word, also for negative values (two's complement)
  words[p + 1] = Math.floor(value / TWO_32);
}
