/**
 * Decimal strings ↔ integer units, exactly, never through a float.
 *
 * A value with `decimals` places is held as the integer `value × 10^decimals`.
 * Parsing accepts the syntax the original (libmpdec) accepts for finite numbers: optional sign,
 * digits with an optional fraction, an optional exponent (`1e-05`, as Python's str(float) sends).
 * Non-finite spellings (NaN, Infinity) are syntax errors here, on purpose (see the spec, §2.1).
 */

const DECIMAL_SYNTAX = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/;

/** Longest text we look at; longer input is rejected before any work is done. */
const MAX_TEXT_LENGTH = 80;

/** Exponents beyond this are rejected rather than expanded into huge digit strings. */
const MAX_ABS_EXPONENT = 40;

const POWERS_OF_TEN: bigint[] = [];
for (let i = 0, p = 1n; i <= 80; i++, p *= 10n) POWERS_OF_TEN.push(p);

/** 10^n as a bigint, for 0 ≤ n ≤ 80. */
export function pow10(n: number): bigint {
  const p = POWERS_OF_TEN[n];
  if (p === undefined) throw new RangeError(`pow10(${n}) out of table`);
  return p;
}

/**
 * Parses `text` into units of 10^-decimals. Returns null when the text is not a finite decimal,
 * or when the value has more significant decimal places than `decimals` (trailing zeros are fine).
 * Allocates (bigint).
 */
export function parseUnits(text: string, decimals: number): bigint | null {
  if (text.length === 0 || text.length > MAX_TEXT_LENGTH) return null;
  const m = DECIMAL_SYNTAX.exec(text);
  if (m === null) return null;
  const sign = m[1] ?? '';
  const intDigits = m[2] ?? '';
  let fracDigits = m[3] ?? '';
  if (intDigits.length === 0 && fracDigits.length === 0) return null;
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  if (Math.abs(exponent) > MAX_ABS_EXPONENT) return null;

  // value = digits × 10^(exponent − fracDigits.length); we need it × 10^decimals as an integer.
  fracDigits = fracDigits.replace(/0+$/, '');
  const digits = (intDigits + fracDigits).replace(/^0+/, '');
  const shift = decimals + exponent - fracDigits.length;
  if (digits.length === 0) return 0n;
  if (shift < 0) {
    // Only exact when the dropped digits are zeros; trailing zeros were stripped above, so any
    // negative shift means real digits would be lost.
    const trailingZeros = digits.length - digits.replace(/0+$/, '').length;
    if (trailingZeros < -shift) return null;
    const units = BigInt(digits.slice(0, digits.length + shift));
    return sign === '-' ? -units : units;
  }
  if (digits.length + shift > 60) return null;
  const units = BigInt(digits) * pow10(shift);
  return sign === '-' ? -units : units;
}

/**
 * Formats units of 10^-decimals as a plain decimal string without trailing zeros
 * (the original's "stripped" rendering, without its exponent spellings). Allocates.
 */
export function formatUnits(units: bigint, decimals: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString();
  let text: string;
  if (decimals === 0) {
    text = digits;
  } else {
    const padded = digits.padStart(decimals + 1, '0');
    const whole = padded.slice(0, padded.length - decimals);
    const frac = padded.slice(padded.length - decimals).replace(/0+$/, '');
    text = frac.length === 0 ? whole : `${whole}.${frac}`;
  }
  return negative && text !== '0' ? `-${text}` : text;
}

/** Units at `from` decimals re-expressed at `to` decimals, truncated toward zero when `to` < `from`. */
export function rescaleTruncate(units: bigint, from: number, to: number): bigint {
  if (to >= from) return units * pow10(to - from);
  return units / pow10(from - to); // bigint division truncates toward zero
}
