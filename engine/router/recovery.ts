/**
 * Start-up with a journal: rebuild the state of the last run before the shards start.
 * Balances (and id counters) are recovered straight into the shared balance table; each shard's
 * books, source labels and balance.update keys are recovered into a temporary engine per shard
 * and handed to that shard's worker as an image. Everything past the last durable epoch (never
 * acknowledged) is removed from the journal, so new epochs can be appended after it.
 */
import { mkdirSync } from 'node:fs';
import type { Config } from '../../conf/schema.js';
import { BalanceTable } from '../balance/table.js';
import { Engine } from '../engine.js';
import { SharedIds } from '../ids.js';
import { readDurableEpoch } from '../journal/commit-log.js';
import { recover, type RecoveryReport } from '../journal/recover.js';
import { byUserModulo } from '../journal/replay.js';
import { captureEngine, type EngineImage } from '../journal/snapshot-image.js';
import type { JournalLog } from '../journal/segment-reader.js';
import { assignShards, marketsOfShard } from './assignment.js';

export interface ShardRecovery {
  /** Per shard: its part of the recovered state. */
  readonly images: EngineImage[];
  /** The first epoch of this run. */
  readonly firstEpoch: number;
  readonly report: RecoveryReport;
}

export function recoverShards(
  config: Readonly<Config>, dir: string, balances: BalanceTable, ids: SharedArrayBuffer,
  shardOfMarket: readonly number[], log?: JournalLog,
): ShardRecovery {
  mkdirSync(dir, { recursive: true });
  const shards = config.engine.shards;
  const engines = shardEngines(config, balances, ids, shardOfMarket);
  const report = recover(dir, engines, {
    durableEpoch: readDurableEpoch(dir),
    repair: true,
    updateOwner: byUserModulo(shards),
    ...(log === undefined ? {} : { log }),
  });
  return { images: engines.map((engine) => captureEngine(engine)), firstEpoch: Math.max(1, report.nextEpoch), report };
}

/**
 * One engine per shard over `balances`, each holding its shard's markets and drawing order and
 * deal ids from the shared counters in `ids`: the layout recovery replays into.
 */
export function shardEngines(config: Readonly<Config>, balances: BalanceTable, ids: SharedArrayBuffer, shardOfMarket: readonly number[]): Engine[] {
  return Array.from({ length: config.engine.shards }, (_, shard) => new Engine(config, {
    balances,
    markets: marketsOfShard(shardOfMarket, shard),
    orderIds: new SharedIds(ids, 0),
    dealIds: new SharedIds(ids, 1),
  }));
}

/** shardEngines() over a fresh balance table and fresh id counters, markets assigned as the router does (tests, benchmarks). */
export function freshShardEngines(config: Readonly<Config>): Engine[] {
  const table = new BalanceTable(BalanceTable.allocate(config.engine.max_users, config.assets.length));
  return shardEngines(config, table, SharedIds.allocate(2), assignShards(config));
}
