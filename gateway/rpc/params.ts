/**
 * Positional-parameter checks, as strict as the original matchengine: JSON types are checked
 * exactly (decimals must be strings, integers JSON integers), and decimals are parsed straight to
 * integer units, rejecting more decimals than the precision allows.
 * Each reader throws InvalidParams, which the method layer turns into "invalid argument".
 */
import { parseUnits, pow10 } from '../../engine/money/decimal.js';
import { MAX_QUANTITY, type AssetSpec, type MarketSpec, type Specs } from '../../engine/money/specs.js';

export class InvalidParams extends Error {
  override name = 'InvalidParams';
}

const fail = (why: string): never => {
  throw new InvalidParams(why);
};

export function expectCount(params: readonly unknown[], count: number): void {
  if (params.length !== count) fail(`expected ${count} params, got ${params.length}`);
}

export function integer(value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    return fail(`expected an integer in [${min}, ${max}]`);
  }
  return value;
}

/** A trading user id: 1 … 2^32 − 1 (the original wrapped larger ids; user 0 is refused). */
export function userId(value: unknown): number {
  return integer(value, 1, 0xffffffff);
}

export function text(value: unknown, maxBytes: number): string {
  if (typeof value !== 'string' || Buffer.byteLength(value) > maxBytes) return fail(`expected a string of at most ${maxBytes} bytes`);
  return value;
}

export function market(specs: Specs, value: unknown): MarketSpec {
  if (typeof value !== 'string') return fail('expected a market name');
  return specs.marketByName.get(value) ?? fail(`unknown market ${value}`);
}

export function asset(specs: Specs, value: unknown): AssetSpec {
  if (typeof value !== 'string') return fail('expected an asset name');
  return specs.assetByName.get(value) ?? fail(`unknown asset ${value}`);
}

export function side(value: unknown): number {
  return integer(value, 1, 2);
}

/** A decimal string with at most `decimals` places, as integer units (may be zero or negative). */
export function decimal(value: unknown, decimals: number): bigint {
  if (typeof value !== 'string') return fail('expected a decimal string');
  return parseUnits(value, decimals) ?? fail(`not a decimal with at most ${decimals} places`);
}

/** plainUnits' answer when the text is not plain digits (or too long to be exact): use parseUnits. */
const NOT_PLAIN = -1;
/** plainUnits' answer when the text has more significant places than allowed. */
const TOO_PRECISE = -2;
/** Powers of ten exact in a double (10^0 … 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The common spelling of a client decimal — digits with at most one '.', at most 15 digits — as
 * integer units without bigint (every value involved is an integer below 2^53, so exact).
 * NOT_PLAIN for anything else (signs, exponents, long texts: parseUnits decides those),
 * TOO_PRECISE when a non-zero digit lies beyond `decimals` places.
 */
function plainUnits(text: string, decimals: number): number {
  const length = text.length;
  if (length === 0 || length > 16) return NOT_PLAIN;
  let units = 0;
  let digits = 0;
  let places = -1;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c >= 0 && c <= 9) {
      units = units * 10 + c;
      digits++;
      if (places >= 0) places++;
    } else if (c === -2 && places < 0) { // '.'
      places = 0;
    } else {
      return NOT_PLAIN;
    }
  }
  if (digits === 0 || digits > 15) return NOT_PLAIN;
  if (places < 0) places = 0;
  if (places > decimals) {
    const drop = POW10[places - decimals]!;
    if (units % drop !== 0) return TOO_PRECISE;
    return units / drop;
  }
  const scaled = units * POW10[decimals - places]!;
  return scaled <= Number.MAX_SAFE_INTEGER ? scaled : NOT_PLAIN;
}

/** A decimal string > 0 with at most `decimals` places, as a lot/tick count below 2^53. */
export function quantity(value: unknown, decimals: number): number {
  if (typeof value !== 'string') return fail('expected a decimal string');
  const plain = plainUnits(value, decimals);
  if (plain === TOO_PRECISE) return fail(`not a decimal with at most ${decimals} places`);
  if (plain !== NOT_PLAIN) return plain > 0 ? plain : fail('expected a positive quantity in range');
  const units = decimal(value, decimals);
  if (units <= 0n || units > BigInt(MAX_QUANTITY)) return fail('expected a positive quantity in range');
  return Number(units);
}

/** A fee rate in [0, 1) with at most fee_prec places, in fee ticks. */
export function feeRate(value: unknown, spec: MarketSpec): number {
  if (typeof value !== 'string') return fail('expected a decimal string');
  const plain = plainUnits(value, spec.feePrec);
  if (plain === TOO_PRECISE) return fail(`not a decimal with at most ${spec.feePrec} places`);
  if (plain !== NOT_PLAIN) return plain < POW10[spec.feePrec]! ? plain : fail('fee rate must be in [0, 1)');
  const ticks = decimal(value, spec.feePrec);
  if (ticks < 0n || ticks >= pow10(spec.feePrec)) return fail('fee rate must be in [0, 1)');
  return Number(ticks);
}

/** A JSON object, kept as its JSON text. */
export function jsonObject(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('expected a JSON object');
  return JSON.stringify(value);
}
