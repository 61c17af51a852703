/**
 * Test helpers: a seeded random trading workload (deposits, withdrawals, repeated balance
 * updates, limit and market orders, cancels) run against one engine or several engines that
 * share one balance table, with every command's events journaled as the shards will: one EVENTS
 * frame per command in the running engine's own log, SOURCES frames before a label's first use,
 * a SEAL of every log at the end of each epoch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../../conf/load.js';
import { defaultConfig } from '../../../conf/defaults.js';
import type { Config } from '../../../conf/schema.js';
import { BalanceTable } from '../../balance/table.js';
import { SIDE_ASK, SIDE_BID } from '../../book/order-columns.js';
import { Code, type CodeValue } from '../../codes.js';
import { decodeEvents, EventKind, OrderEvent } from '../../core/events.js';
import { Engine } from '../../engine.js';
import { SharedIds } from '../../ids.js';
import { SegmentWriter, type SegmentWriterOptions } from '../segment-writer.js';

export const T0 = 1_700_000_000_000_000;

/** Default assets (BCH 0, BTC 1, LTC 2, ETH 3, USDT 4) and markets (BTCBCH 0, LTCBCH 1, ETHBCH 2, BTCUSDT 3), small tables. */
export function journalConfig(engine: Record<string, number> = {}): Readonly<Config> {
  return validateConfig({
    ...defaultConfig,
    engine: { max_users: 64, max_orders_per_market: 512, max_levels_per_side: 256, ...engine },
  });
}

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** mulberry32: small, fast, seeded. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
}

/** One engine holding every market, recording deltas. */
export function singleEngine(config: Readonly<Config>): Engine {
  return new Engine(config, { recordDeltas: true });
}

/**
 * `shards` engines over ONE shared balance table (each with its own BalanceTable instance over
 * the shared buffers, as each worker has), markets dealt round-robin, shared id counters.
 */
export function shardedEngines(config: Readonly<Config>, shards: number, recordDeltas = true): Engine[] {
  const buffers = BalanceTable.allocate(config.engine.max_users, config.assets.length);
  const ids = SharedIds.allocate(2);
  const engines: Engine[] = [];
  for (let s = 0; s < shards; s++) {
    engines.push(new Engine(config, {
      balances: new BalanceTable(buffers),
      markets: config.markets.map((_, i) => i).filter((i) => i % shards === s),
      orderIds: new SharedIds(ids, 0, 16),
      dealIds: new SharedIds(ids, 1, 16),
      recordDeltas,
    }));
  }
  return engines;
}

/** The engine of `engines` holding `market`. */
export function ownerOf(engines: readonly Engine[], market: number): number {
  return engines.findIndex((e) => (e.books[market] ?? null) !== null);
}

export const LABELS = ['', 'web', 'api', 'bot', 'ios-app', 'αβγ-δ'] as const;

export type Command =
  | { readonly kind: 'update'; readonly user: number; readonly asset: number; readonly business: string; readonly businessId: number; readonly change: bigint; readonly detail: string }
  | { readonly kind: 'limit'; readonly user: number; readonly market: number; readonly side: number; readonly amount: number; readonly price: number; readonly takerFee: number; readonly makerFee: number; readonly source: number }
  | { readonly kind: 'market'; readonly user: number; readonly market: number; readonly side: number; readonly amount: number; readonly takerFee: number; readonly source: number }
  | { readonly kind: 'cancel'; readonly user: number; readonly market: number; readonly orderId: number };

const TRADERS = [1, 2, 3, 4, 5, 6, 0x9000_0001];

/** Draws random commands sized from the engines' state; tracks resting orders from the events. */
export class RandomTrader {
  /** Resting orders: id → market and owner. */
  readonly live = new Map<number, { market: number; user: number }>();
  /** Applied balance.update keys. */
  readonly applied: { user: number; asset: number; business: string; businessId: number }[] = [];
  private nextBusinessId = 1;

  constructor(private readonly rng: Rng, private readonly engines: readonly Engine[]) {}

  /** Commands drawn so far (the workload's clock: command i runs at T0 + i ms). */
  drawn = 0;

  /** A random command. */
  next(): Command {
    this.drawn++;
    const rng = this.rng;
    const specs = this.engines[0]!.specs;
    const roll = rng.int(0, 99);
    if (roll < 14) {
      const asset = rng.int(0, specs.assets.length - 1);
      const user = rng.chance(0.05) ? 0 : rng.pick(TRADERS);
      const unit = 10n ** BigInt(specs.assets[asset]!.precSave);
      return { kind: 'update', user, asset, business: rng.pick(['deposit', 'bonus', 'üb']), businessId: this.nextBusinessId++, change: BigInt(rng.int(1, 500)) * unit + BigInt(rng.int(0, 999)), detail: `{"n":${rng.int(0, 9)}}` };
    }
    if (roll < 18) {
      const asset = rng.int(0, specs.assets.length - 1);
      const user = rng.pick(TRADERS);
      const available = this.available(user, asset);
      const take = available === 0n ? 1n : (available * BigInt(rng.int(1, 1100))) / 1000n;
      return { kind: 'update', user, asset, business: 'withdraw', businessId: this.nextBusinessId++, change: -take, detail: '' };
    }
    if (roll < 20 && this.applied.length > 0) {
      const k = rng.pick(this.applied);
      return { ...k, kind: 'update', change: 1n, detail: 'repeat' };
    }
    if (roll < 30 && this.live.size > 0) {
      const ids = [...this.live.keys()];
      const id = rng.pick(ids);
      const order = this.live.get(id)!;
      return { kind: 'cancel', user: rng.chance(0.9) ? order.user : rng.pick(TRADERS), market: order.market, orderId: id };
    }
    const market = specs.markets[rng.int(0, specs.markets.length - 1)]!;
    const user = rng.pick(TRADERS);
    const side = rng.chance(0.5) ? SIDE_ASK : SIDE_BID;
    const lots = market.minAmountLots * rng.int(1, 30) + (rng.chance(0.2) ? rng.int(0, market.minAmountLots) : 0);
    const source = rng.int(0, LABELS.length - 1);
    const takerFee = rng.chance(0.3) ? 0 : rng.int(1, 30);
    if (roll < 92) {
      const mid = 10 ** market.moneyPrec * 50;
      const step = Math.max(1, 10 ** Math.max(0, market.moneyPrec - 2));
      const away = rng.int(-4, 24) * step; // mostly away from the touch, so books grow deep; sometimes crossing
      const price = side === SIDE_ASK ? mid + away : mid - away;
      return { kind: 'limit', user, market: market.index, side, amount: lots, price, takerFee, makerFee: rng.int(0, 20), source };
    }
    const amount = side === SIDE_ASK ? lots : rng.int(1, 400) * 10 ** Math.max(0, market.stockPrec - 3);
    return { kind: 'market', user, market: market.index, side, amount, takerFee, source };
  }

  /** Index of the engine that runs `cmd`: the market's owner; balance.update by user mod shards (the router's rule). */
  engineFor(cmd: Command): number {
    if (cmd.kind === 'update') return (cmd.user >>> 0) % this.engines.length;
    return ownerOf(this.engines, cmd.market);
  }

  /** Runs `cmd` on engine `e`, then learns from the events it wrote (left in the buffer for the caller). */
  run(e: number, cmd: Command, time: number): CodeValue {
    const engine = this.engines[e]!;
    const before = engine.events.length;
    let code: CodeValue;
    switch (cmd.kind) {
      case 'update':
        code = engine.updateBalance(cmd.user, cmd.asset, cmd.business, cmd.businessId, cmd.change, cmd.detail, time);
        if (code === Code.OK) this.applied.push({ user: cmd.user, asset: cmd.asset, business: cmd.business, businessId: cmd.businessId });
        break;
      case 'limit':
        code = engine.placeLimit(cmd.user, cmd.market, cmd.side, cmd.amount, cmd.price, cmd.takerFee, cmd.makerFee, cmd.source, time);
        break;
      case 'market':
        code = engine.placeMarket(cmd.user, cmd.market, cmd.side, cmd.amount, cmd.takerFee, cmd.source, time);
        break;
      case 'cancel':
        code = engine.cancel(cmd.user, cmd.market, cmd.orderId, time);
        break;
    }
    for (const record of decodeEvents(engine.events.data().subarray(before), engine.events.strings)) {
      if (record.kind !== EventKind.ORDER) continue;
      if (record.event === OrderEvent.FINISH) this.live.delete(record.order.id);
      else this.live.set(record.order.id, { market: record.order.market, user: record.order.user });
    }
    return code;
  }

  private available(user: number, asset: number): bigint {
    const table = this.engines[0]!.balances;
    const row = table.users.find(user);
    return row < 0 ? 0n : table.available(row, asset);
  }
}

export interface JournaledRunOptions {
  /** Seed of a new run (ignored when continuing one). */
  readonly seed: number;
  readonly commands: number;
  readonly commandsPerEpoch: number;
  /** First epoch used (default 1). */
  readonly firstEpoch?: number;
  readonly writer?: SegmentWriterOptions;
  /** Called after each frame is appended to shard `shard`'s log. */
  readonly onFrame?: (shard: number) => void;
  /** Called after each command with its index and engine. */
  readonly onCommand?: (index: number, engine: number, code: CodeValue) => void;
  /** Seal every log at the end of each epoch (default true). */
  readonly seal?: boolean;
}

export interface JournaledRun {
  readonly trader: RandomTrader;
  readonly writers: SegmentWriter[];
  /** The last epoch used. */
  readonly lastEpoch: number;
  readonly codes: Map<CodeValue, number>;
}

/**
 * Runs random commands through `engines`, journaling each shard's events into its own log in
 * `dir` (shard i = engines[i]). Writers are left open (flushed and synced) for more appends;
 * pass the result back as `existing` to continue the same run in later epochs.
 */
export function runJournaled(dir: string, engines: readonly Engine[], options: JournaledRunOptions, existing?: JournaledRun): JournaledRun {
  const trader = existing?.trader ?? new RandomTrader(new Rng(options.seed), engines);
  const firstEpoch = options.firstEpoch ?? 1;
  const writers = existing?.writers ?? engines.map((_, shard) => SegmentWriter.open(dir, shard, firstEpoch, options.writer ?? {}));
  const codes = existing?.codes ?? new Map<CodeValue, number>();
  const seal = options.seal ?? true;
  let epoch = firstEpoch;
  const endEpoch = (): void => {
    writers.forEach((w, shard) => {
      if (seal) {
        w.seal(epoch);
        options.onFrame?.(shard);
      }
      w.flush();
      w.sync();
    });
  };
  for (let i = 0; i < options.commands; i++) {
    if (i > 0 && i % options.commandsPerEpoch === 0) {
      endEpoch();
      epoch++;
    }
    const cmd = trader.next();
    const e = trader.engineFor(cmd);
    const engine = engines[e]!;
    const writer = writers[e]!;
    if (cmd.kind === 'limit' || cmd.kind === 'market') {
      const label = LABELS[cmd.source]!;
      if (engine.sourceName(cmd.source) !== label) {
        engine.registerSource(cmd.source, label);
        writer.appendSources(epoch, [{ id: cmd.source, label }]);
        options.onFrame?.(e);
      }
    }
    const code = trader.run(e, cmd, T0 + trader.drawn * 1000);
    codes.set(code, (codes.get(code) ?? 0) + 1);
    if (engine.events.count > 0) {
      writer.appendEvents(epoch, engine.events.data(), engine.events.strings);
      engine.events.reset();
      options.onFrame?.(e);
    }
    options.onCommand?.(i, e, code);
  }
  endEpoch();
  return { trader, writers, lastEpoch: epoch, codes };
}
