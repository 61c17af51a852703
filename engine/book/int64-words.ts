/**
 * Arithmetic on int64 columns without bigint: a BigInt64Array is read and written through a
 * Uint32Array over the same buffer (little-endian word pairs: low, high), in doubles, whenever
 * the value and the result are within ±(2^53 − 1) — exact there — and through the bigint view
 * otherwise. Bigint arithmetic allocates on every operation; this does not.
 */

const TWO_32 = 4294967296;
const INV_TWO_32 = 1 / TWO_32;
/** High words of values with |value| < 2^53: the high word's signed value is within ±2^21. */
const HIGH_LIMIT = 0x200000;

/**
 * Adds `delta` (a safe integer) to element `i` of `column`, whose word view is `words`. Kept small
 * (the bigint path is a separate function) so that V8 inlines it into the hot callers.
 */
export function addInt64(column: BigInt64Array, words: Uint32Array, i: number, delta: number): void {
  const w = i * 2;
  const high = words[w + 1]! | 0;
  const next = high * TWO_32 + words[w]! + delta; // the first sum is exact when |value| < 2^53 (checked next)
  if (high > -HIGH_LIMIT && high < HIGH_LIMIT && next >= Number.MIN_SAFE_INTEGER && next <= Number.MAX_SAFE_INTEGER) {
    storeInt64Words(words, w, next);
  } else {
    addInt64Big(column, i, delta);
  }
}

function addInt64Big(column: BigInt64Array, i: number, delta: number): void {
  column[i] = column[i]! + BigInt(delta);
}

/** Stores a safe integer as a little-endian int64 at 32-bit word `p` (low word, then high word). */
export function storeInt64Words(words: Uint32Array, p: number, value: number): void {
  words[p] = value >>> 0; // ToUint32: the low word, also for negative values (two's complement)
  words[p + 1] = Math.floor(value * INV_TWO_32); // exact: a power of two, and cheaper than dividing
}

/**
 * storeInt64Words() of element `i` of `from`: the value is read here rather than passed, because
 * V8 boxes a double argument of a call it does not inline (an allocation per call).
 */
export function storeInt64WordsOf(words: Uint32Array, p: number, from: Float64Array, i: number): void {
  const value = from[i]!;
  words[p] = value >>> 0;
  words[p + 1] = Math.floor(value * INV_TWO_32);
}

/** Element `i` of an int64 column (word view `words`) as a double when it is in [0, 2^53), else -1. */
export function unitsAt(words: Uint32Array, i: number): number {
  const high = words[i * 2 + 1]!; // unsigned: a negative value's high word is ≥ 2^31
  return high < HIGH_LIMIT ? high * TWO_32 + words[i * 2]! : -1;
}

/** Stores a safe integer into element `i` of an int64 column, through its word view (no bigint). */
export function setInt64(words: Uint32Array, i: number, value: number): void {
  storeInt64Words(words, i * 2, value);
}

/** Copies element `from` of one int64 column to element `to` of another, word by word (no bigint). */
export function copyInt64(fromWords: Uint32Array, from: number, toWords: Uint32Array, to: number): void {
  toWords[to * 2] = fromWords[from * 2]!;
  toWords[to * 2 + 1] = fromWords[from * 2 + 1]!;
}
