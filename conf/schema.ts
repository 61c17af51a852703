/**
 * The configuration schema: every key, its type and its default, side by side.
 * Unknown keys are rejected (strict objects); the result is validated once at start-up and frozen.
 */
import { z } from 'zod';

/** Asset and market names: the original limits them to 15 bytes; we also keep them printable. */
const NAME = z.string().regex(/^[A-Za-z0-9_-]{1,15}$/, 'names are 1–15 characters of A–Z, a–z, 0–9, _ or -');

/** Decimal places a balance or a quantity may carry. Kept ≤ 18 so that 10^prec fits comfortably in int64 arithmetic. */
const PRECISION = z.number().int().min(0).max(18);

export const assetSchema = z.strictObject({
  name: NAME,
  /** Decimals kept in balances (balances are int64 counts of 10^-prec_save). */
  prec_save: PRECISION,
  /** Decimals shown by balance.query / asset.list and accepted by balance.update; defaults to prec_save. */
  prec_show: PRECISION.optional(),
});

export const marketSchema = z.strictObject({
  name: NAME,
  /** The traded asset; `prec` = decimals of amounts. */
  stock: z.strictObject({ name: NAME, prec: PRECISION }),
  /** The pricing asset; `prec` = decimals of prices. */
  money: z.strictObject({ name: NAME, prec: PRECISION }),
  /** Decimals of fee rates. */
  fee_prec: PRECISION.default(4),
  /** Smallest order amount, in stock (a decimal string, as in the original). */
  min_amount: z.string().default('0.01'),
});

export const engineSchema = z.strictObject({
  /**
   * The user id that collects trading fees (and rounding dust), so that every asset is conserved.
   * The original let fees vanish; user 0 is not a valid trading user, which keeps this account apart.
   */
  fee_account: z.number().int().min(0).max(0xffffffff).default(0),
  /** Rows reserved in the shared balance table. Memory is committed by the OS only as rows are used. */
  max_users: z.number().int().min(16).max(1 << 26).default(1 << 20),
  /** Resting orders one market's book can hold; a full book rejects new resting orders cleanly. */
  max_orders_per_market: z.number().int().min(16).max(1 << 26).default(1 << 20),
  /** Price levels one side of a book can hold. */
  max_levels_per_side: z.number().int().min(16).max(1 << 24).default(1 << 16),
});

export const configSchema = z.strictObject({
  assets: z.array(assetSchema).min(1),
  markets: z.array(marketSchema),
  engine: engineSchema.default(engineSchema.parse({})),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type AssetConfig = z.output<typeof assetSchema>;
export type MarketConfig = z.output<typeof marketSchema>;
export type EngineConfig = z.output<typeof engineSchema>;
