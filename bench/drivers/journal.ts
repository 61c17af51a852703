/**
 * What the journal suite measures besides the router runs (those reuse drivers/shards.ts):
 *  - fdatasyncProbe: the cost of one small append + fdatasync in the journal's directory, the
 *    floor under the acknowledgement latency with journal.durability 'fsync';
 *  - journalShape: bytes, frames and epochs of a journal directory (commands per group commit);
 *  - replayDirectory: the journal replayed (engine/journal/replay.ts) into fresh engines laid out
 *    as the router's shards, as start-up recovery does, timed;
 *  - buildRestingState / measureSnapshot: an engine holding N resting orders of N users built
 *    directly, then captured, written (encode, temp file, fdatasync, rename), read back and
 *    restored into a fresh engine, each step timed, the result checked by state hash.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
import type { Config } from '../../conf/schema.js';
import { BalanceTable } from '../../engine/balance/table.js';
import { SIDE_ASK, SIDE_BID } from '../../engine/book/order-columns.js';
import { Code } from '../../engine/codes.js';
import { Engine } from '../../engine/engine.js';
import { SharedIds } from '../../engine/ids.js';
import { readDurableEpoch } from '../../engine/journal/commit-log.js';
import { byUserModulo, replayJournal, type ReplayStats } from '../../engine/journal/replay.js';
import { listSegments } from '../../engine/journal/segment-files.js';
import { readShardLog } from '../../engine/journal/segment-reader.js';
import { captureSnapshot, readSnapshot, restoreSnapshot, writeSnapshot } from '../../engine/journal/snapshot.js';
import { stateHash } from '../../engine/journal/state-hash.js';
import { dealMoney, stockUnits } from '../../engine/money/specs.js';
import { assignShards } from '../../engine/router/assignment.js';
import { cpuSecondsSince, TIME0 } from './engine.js';

/** `rounds` appends of `bytes` bytes to a file in `dir`, each followed by fdatasync; latencies (ns) go to `h`. */
export function fdatasyncProbe(dir: string, rounds: number, bytes: number, h: Histogram): void {
  const path = join(dir, 'fdatasync-probe.tmp');
  const fd = openSync(path, 'w');
  const block = new Uint8Array(bytes).fill(0x5a);
  try {
    for (let i = 0; i < rounds; i++) {
      const t0 = process.hrtime.bigint();
      writeSync(fd, block);
      fdatasyncSync(fd);
      h.recordValue(Math.max(1, Number(process.hrtime.bigint() - t0)));
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

export interface JournalShape {
  readonly bytes: number;
  readonly segments: number;
  readonly frames: number;
  /** Distinct epochs with at least one frame (group commits that wrote something). */
  readonly epochs: number;
}

/** Reads every shard's log (checking every frame) and counts bytes, frames and distinct epochs. */
export function journalShape(dir: string): JournalShape {
  let bytes = 0;
  let segments = 0;
  let frames = 0;
  const epochs = new Set<number>();
  for (const [shard, list] of listSegments(dir)) {
    segments += list.length;
    for (const s of list) bytes += statSync(s.path).size;
    frames += readShardLog(dir, shard, (frame) => epochs.add(frame.epoch)).frames;
  }
  return { bytes, segments, frames, epochs: epochs.size };
}

/** Fresh engines laid out as the router's shards (markets by engine.assignment) over one fresh balance table, as recovery builds them. */
export function freshShardEngines(config: Readonly<Config>): Engine[] {
  const table = BalanceTable.allocate(config.engine.max_users, config.assets.length);
  const ids = SharedIds.allocate(2);
  const shardOf = assignShards(config);
  return Array.from({ length: config.engine.shards }, (_, shard) => new Engine(config, {
    balances: new BalanceTable(table),
    markets: shardOf.flatMap((s, market) => (s === shard ? [market] : [])),
    orderIds: new SharedIds(ids, 0),
    dealIds: new SharedIds(ids, 1),
  }));
}

export interface ReplayRun {
  readonly engines: Engine[];
  readonly stats: ReplayStats;
  readonly seconds: number;
  readonly cpuSeconds: number;
}

/** Replays the journal in `dir` up to its durable epoch (read-only) into fresh engines; timed (engine construction excluded). */
export function replayDirectory(dir: string, config: Readonly<Config>): ReplayRun {
  const engines = freshShardEngines(config);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const report = replayJournal(dir, engines, { durableEpoch: readDurableEpoch(dir), updateOwner: byUserModulo(engines.length) });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (report.cuts.length > 0) throw new Error(`replay: the journal has damaged tails (${report.cuts.length})`);
  return { engines, stats: report.stats, seconds, cpuSeconds: cpuSecondsSince(cpu) };
}

// ---------------------------------------------------------------------------------------------
// Snapshots of a large state.

export interface RestingState {
  readonly engine: Engine;
  readonly users: number;
  readonly orders: number;
  readonly seconds: number;
}

/**
 * One engine holding every market of `config`, with `orders` users (ids 1…orders, skipping the fee
 * account), each funded by one balance.update (so the state also holds that many idempotency keys)
 * and owning one resting limit order: asks above and bids below each market's mid price, spread
 * over 1,000 price levels per side, the markets taken in turn. Nothing crosses.
 */
export function buildRestingState(config: Readonly<Config>, orders: number): RestingState {
  const started = process.hrtime.bigint();
  const engine = new Engine(config);
  const markets = engine.specs.markets;
  let user = 0;
  for (let i = 0; i < orders; i++) {
    user++;
    if (user === config.engine.fee_account) user++;
    const market = markets[i % markets.length]!;
    const side = (i >> 2) % 2 === 0 ? SIDE_ASK : SIDE_BID;
    const lots = market.minAmountLots * (1 + (i % 10));
    const step = Math.max(1, 10 ** Math.max(0, market.moneyPrec - 3));
    const mid = 1000 * step;
    const price = side === SIDE_ASK ? mid + (1 + (i % 997)) * step : mid - (1 + (i % 997)) * step;
    const asset = side === SIDE_ASK ? market.stock.index : market.money.index;
    const need = side === SIDE_ASK ? stockUnits(market, lots) : dealMoney(market, price, lots);
    const time = TIME0 + i;
    let code = engine.updateBalance(user, asset, 'deposit', i + 1, need, '', time);
    if (code !== Code.OK) throw new Error(`snapshot state: deposit for user ${user} failed with code ${code}`);
    code = engine.placeLimit(user, market.index, side, lots, price, 0, 0, 0, time);
    if (code !== Code.OK) throw new Error(`snapshot state: order of user ${user} failed with code ${code}`);
    if ((i & 1023) === 1023) engine.events.reset();
  }
  engine.events.reset();
  let resting = 0;
  for (const book of engine.books) resting += book?.orders.size ?? 0;
  if (resting !== orders) throw new Error(`snapshot state: ${resting} resting orders, expected ${orders}`);
  return { engine, users: orders, orders, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export interface SnapshotFigures {
  readonly captureMs: number;
  /** Encode, write the temp file, fdatasync, rename, sync the directory. */
  readonly writeMs: number;
  readonly bytes: number;
  /** Read the file and decode it (checksums included). */
  readonly readMs: number;
  /** Load the decoded image into a fresh engine. */
  readonly restoreMs: number;
  readonly cpuSeconds: number;
  readonly balanceRows: number;
  readonly updateKeys: number;
}

/** Takes a snapshot of `engine` into `dir`, reads it back into a fresh engine and checks the state hash. */
export function measureSnapshot(engine: Engine, config: Readonly<Config>, dir: string): SnapshotFigures {
  const ms = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e6;
  const cpu = process.cpuUsage();
  let t = process.hrtime.bigint();
  const image = captureSnapshot([engine], 1);
  const captureMs = ms(t);
  t = process.hrtime.bigint();
  const path = writeSnapshot(dir, image);
  const writeMs = ms(t);
  const cpuSeconds = cpuSecondsSince(cpu);
  const bytes = statSync(path).size;
  t = process.hrtime.bigint();
  const read = readSnapshot(path);
  const readMs = ms(t);
  const fresh = new Engine(config);
  t = process.hrtime.bigint();
  restoreSnapshot(read, [fresh]);
  const restoreMs = ms(t);
  if (stateHash([fresh]) !== stateHash([engine])) throw new Error('snapshot: the restored state differs from the captured one (state hash)');
  return { captureMs, writeMs, bytes, readMs, restoreMs, cpuSeconds, balanceRows: image.balances.users.length, updateKeys: image.updateKeys.length };
}
