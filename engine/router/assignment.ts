/**
 * Which shard holds which market: an explicit `engine.assignment` entry, else FNV-1a(name) mod
 * shards. Depends only on the market's name and the shard count, so it is stable across restarts
 * and does not move markets when others are added or removed.
 */
import type { Config } from '../../conf/schema.js';

export function assignShards(config: Readonly<Config>): number[] {
  return config.markets.map((m) => config.engine.assignment[m.name] ?? fnv1a(m.name) % config.engine.shards);
}

/** The markets `shard` holds (by index), given assignShards()' answer. */
export function marketsOfShard(shardOfMarket: readonly number[], shard: number): number[] {
  return shardOfMarket.flatMap((s, market) => (s === shard ? [market] : []));
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
