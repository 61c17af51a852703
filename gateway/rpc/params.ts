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

/** A decimal string > 0 with at most `decimals` places, as a lot/tick count below 2^53. */
export function quantity(value: unknown, decimals: number): number {
  const units = decimal(value, decimals);
  if (units <= 0n || units > BigInt(MAX_QUANTITY)) return fail('expected a positive quantity in range');
  return Number(units);
}

/** A fee rate in [0, 1) with at most fee_prec places, in fee ticks. */
export function feeRate(value: unknown, spec: MarketSpec): number {
  const ticks = decimal(value, spec.feePrec);
  if (ticks < 0n || ticks >= pow10(spec.feePrec)) return fail('fee rate must be in [0, 1)');
  return Number(ticks);
}

/** A JSON object, kept as its JSON text. */
export function jsonObject(value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('expected a JSON object');
  return JSON.stringify(value);
}
