/**
 * Helpers of the router tests (not a test file): configs with markets on known shards, a router
 * that is always stopped, a seeded random generator, balance-table totals, bounded waiting.
 */
import assert from 'node:assert/strict';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import type { Config, ConfigInput } from '../../../conf/schema.js';
import { EventKind, type EventRecord } from '../../core/events.js';
import { Router } from '../router.js';

// Default config: assets BCH 0, BTC 1, LTC 2, ETH 3, USDT 4; markets BTCBCH 0, LTCBCH 1, ETHBCH 2, BTCUSDT 3.
export const BCH = 0;
export const BTC = 1;
export const LTC = 2;
export const ETH = 3;
export const BTCBCH = 0;
export const LTCBCH = 1;
export const ETHBCH = 2;
export const BTCUSDT = 3;
/** One BCH/BTC/LTC/ETH in balance units (prec_save 12). */
export const COIN = 10n ** 12n;
/** Lots (or ticks) in one unit of amount (or price) on the *BCH markets (prec 8). */
export const LOT = 100_000_000;
/** Stock balance units per lot on the *BCH markets. */
export const UNITS_PER_LOT = 10_000n;
/** Microseconds since the epoch. */
export const T0 = 1_700_000_000_000_000;

type EngineInput = NonNullable<ConfigInput['engine']>;

/** The default assets and markets on two shards: BTCBCH and BTCUSDT on shard 0, LTCBCH and ETHBCH on shard 1. */
export function twoShards(engine: Partial<EngineInput> = {}): Readonly<Config> {
  return validateConfig({
    ...defaultConfig,
    engine: {
      max_users: 256, max_orders_per_market: 4096, max_levels_per_side: 1024,
      shards: 2, assignment: { BTCBCH: 0, BTCUSDT: 0, LTCBCH: 1, ETHBCH: 1 }, ring_bytes: 1 << 16, depth_levels: 16,
      ...engine,
    },
  });
}

/** Bounds every test that starts workers. */
export const WORKER_TEST = { timeout: 60_000 } as const;

/** Starts a router, runs `body`, and always stops the router (no worker outlives the test). */
export async function withRouter<T>(config: Readonly<Config>, body: (router: Router) => Promise<T>): Promise<T> {
  const router = await Router.start(config);
  try {
    return await body(router);
  } finally {
    await router.stop();
  }
}

/** Collects every event the router delivers (journal DELTA records left out), in delivery order. */
export function recordEvents(router: Router): EventRecord[] {
  const log: EventRecord[] = [];
  router.onEvents((events) => {
    for (const e of events) if (e.kind !== EventKind.DELTA) log.push(e);
  });
  return log;
}

/**
 * Yields to the event loop until `done()` holds: first on setImmediate, then on 1 ms timers, at
 * most `rounds` times in all (bounded: no test waits forever; nothing here measures time).
 */
export async function until(done: () => boolean, what: string, rounds = 5_000): Promise<void> {
  for (let i = 0; i < rounds && !done(); i++) await (i < 100 ? yieldToLoop() : sleep(1));
  assert.ok(done(), `gave up waiting for ${what}`);
}

/** Available and frozen of (user, asset) in the shared table; zeros for a user with no row. */
export function balanceOf(router: Router, user: number, asset: number): { available: bigint; frozen: bigint } {
  const row = router.balances.users.find(user);
  if (row < 0) return { available: 0n, frozen: 0n };
  return { available: router.balances.available(row, asset), frozen: router.balances.frozen(row, asset) };
}

/** Σ available + frozen of one asset over every row (the fee account included). */
export function totalOf(router: Router, asset: number): bigint {
  const b = router.balances;
  let total = 0n;
  for (let row = 0; row < b.users.size; row++) total += b.available(row, asset) + b.frozen(row, asset);
  return total;
}

/** The first negative cell of the table, or null. Reads every cell once (under its row lock, as every reader must). */
export function negativeCell(router: Router): string | null {
  const b = router.balances;
  const rows = b.users.size;
  for (let row = 0; row < rows; row++) {
    for (let asset = 0; asset < b.assetCount; asset++) {
      if (b.available(row, asset) < 0n) return `row ${row} asset ${asset} available ${b.available(row, asset)}`;
      if (b.frozen(row, asset) < 0n) return `row ${row} asset ${asset} frozen ${b.frozen(row, asset)}`;
    }
  }
  for (let asset = 0; asset < b.assetCount; asset++) if (b.supply[asset]! < 0n) return `supply of asset ${asset}`;
  return null;
}

/** A small seeded generator (mulberry32): the same seed gives the same command stream. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}
