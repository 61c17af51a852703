/**
 * What the journal suite measures besides the router runs (those reuse drivers/shards.ts):
 *  - fdatasyncProbe: the cost of one small append + fdatasync in the journal's directory, and of
 *    one small write + fdatasync over a zero-filled, synced file (as the journal writes its
 *    preallocated segments): the floor under the acknowledgement latency with journal.durability 'fsync';
 *  - journalShape: bytes, frames and epochs of a journal directory (commands per group commit);
 *  - replayDirectory: the journal replayed (engine/journal/replay.ts) into fresh engines laid out
 *    as the router's shards, as start-up recovery does, timed;
 *  - buildRestingState / measureSnapshot: an engine holding N resting orders of N users built
 *    directly; the raw copies a snapshot takes while the shards are paused, then (after more
 *    commands changed the engine) the image derived from them, encoded and written (temp file,
 *    fdatasync, rename), read back and restored into a fresh engine, each step timed, the result
 *    checked by state hash against the engine's at the copy.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
import { validateConfig } from '../../conf/load.js';
import type { Config } from '../../conf/schema.js';
import { SIDE_ASK, SIDE_BID } from '../../engine/book/order-columns.js';
import { Code } from '../../engine/codes.js';
import { Engine } from '../../engine/engine.js';
import { readDurableEpoch } from '../../engine/journal/commit-log.js';
import { byUserModulo, replayJournal, type ReplayStats } from '../../engine/journal/replay.js';
import { listSegments } from '../../engine/journal/segment-files.js';
import { readShardLog } from '../../engine/journal/segment-reader.js';
import { keyCount } from '../../engine/balance/update-keys.js';
import { LazyCopy } from '../../engine/journal/lazy-copy.js';
import { encodeSnapshot } from '../../engine/journal/snapshot-codec.js';
import { armBalancesCopy, armEngineCopy, balanceCopySpec } from '../../engine/journal/snapshot-copy.js';
import { finishCopies } from '../../engine/journal/snapshot-writer.js';
import {
  captureSnapshot, composeSnapshot, CopyBuffers, copyBalances, copyEngine, engineImageOf, namesOf, readSnapshot, restoreSnapshot, writeSnapshot,
  writeSnapshotFile,
} from '../../engine/journal/snapshot.js';
import { Router } from '../../engine/router/router.js';
import { stateHash } from '../../engine/journal/state-hash.js';
import { dealMoney, stockUnits } from '../../engine/money/specs.js';
import { freshShardEngines } from '../../engine/router/recovery.js';
import { cpuSecondsSince, TIME0 } from './engine.js';

/**
 * `rounds` writes of `bytes` bytes to a file in `dir`, each followed by fdatasync; latencies (ns)
 * go to `h`. Appends, or with `preallocated` positional writes over the file zero-filled and
 * synced beforehand (no size change: what SegmentWriter does in a prepared segment).
 */
export function fdatasyncProbe(dir: string, rounds: number, bytes: number, h: Histogram, preallocated = false): void {
  const path = join(dir, 'fdatasync-probe.tmp');
  const fd = openSync(path, 'w');
  const block = new Uint8Array(bytes).fill(0x5a);
  try {
    if (preallocated) {
      const zeros = new Uint8Array(1 << 20);
      for (let at = 0; at < rounds * bytes; at += zeros.byteLength) writeSync(fd, zeros, 0, Math.min(zeros.byteLength, rounds * bytes - at), at);
      fdatasyncSync(fd);
    }
    for (let i = 0; i < rounds; i++) {
      const t0 = process.hrtime.bigint();
      writeSync(fd, block, 0, bytes, i * bytes);
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
  /** The pause, a shard's part: armEngineCopy (every book's lazy copy armed, level heads, key-log mark, labels, ids). */
  readonly pauseBooksMs: number;
  /** The pause, the router's part: armBalancesCopy (the balance table's lazy copy armed). */
  readonly pauseBalancesMs: number;
  /** For comparison, what the pause took when it copied everything at once (copyEngine + copyBalances, into paged-in buffers). */
  readonly eagerCopyMs: number;
  /** Chunks the engine copied itself (guards: slots and rows it changed before the writer copied them), and all chunks. */
  readonly guardChunks: number;
  readonly chunks: number;
  /** The churn after the copy was armed, with the guards on (wall time). */
  readonly churnMs: number;
  /** Background: the rest of the lazy copies (finishCopies), as the writer thread does first. */
  readonly finishMs: number;
  /** Background: the book-ordered image from the copies (one walk per book, columns gathered). */
  readonly deriveMs: number;
  /** Background: the file's bytes (encodeSnapshot). */
  readonly encodeMs: number;
  /** Background: temp file, fdatasync, rename, directory sync. */
  readonly writeMs: number;
  readonly bytes: number;
  /** Read the file and decode it (checksums included). */
  readonly readMs: number;
  /** Load the decoded image into a fresh engine. */
  readonly restoreMs: number;
  /** CPU of the pause and the background part. */
  readonly cpuSeconds: number;
  readonly balanceRows: number;
  readonly updateKeys: number;
  /** Commands the engine ran between the copies and the background part (none of them may reach the file). */
  readonly changedAfter: number;
}

/**
 * Takes a snapshot of `engine` (as built by buildRestingState, `orders` orders) into `dir` the way
 * router.snapshot() does, each step timed: the pause (the lazy copies armed: armEngineCopy,
 * armBalancesCopy), then `churn` cancels, deposits for new users and new orders in the freed
 * slots while the copies are armed (the guards copy what the churn changes), then the background
 * part: the rest of the copies, the image derived from them, encoded and written. Reads the file
 * back into a fresh engine and checks its state hash against the engine's at the pause. The copy
 * buffers are paged in first (an eager copy into them, also timed: the pause before lazy copies).
 */
export function measureSnapshot(engine: Engine, config: Readonly<Config>, dir: string, orders: number, churn = 10_000): SnapshotFigures {
  const ms = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e6;
  const atCopy = stateHash([engine]);
  const engineBuffers = new CopyBuffers();
  const tableBuffers = new CopyBuffers();
  copyEngine(engine, engineBuffers); // pages the buffers in, as a shard and the router do ahead of a snapshot
  copyBalances(engine.balances, tableBuffers);
  let t = process.hrtime.bigint();
  copyEngine(engine, engineBuffers);
  copyBalances(engine.balances, tableBuffers);
  const eagerCopyMs = ms(t);
  const balanceCopy = new LazyCopy(balanceCopySpec(engine.balances, tableBuffers));
  engine.balances.lazyCopy = balanceCopy;

  const cpu = process.cpuUsage();
  t = process.hrtime.bigint();
  const copy = armEngineCopy(engine, engineBuffers);
  const pauseBooksMs = ms(t);
  t = process.hrtime.bigint();
  const balances = armBalancesCopy(engine.balances, balanceCopy, tableBuffers);
  const pauseBalancesMs = ms(t);
  let cpuSeconds = cpuSecondsSince(cpu);

  t = process.hrtime.bigint();
  const changedAfter = churnRestingState(engine, config, orders, churn);
  const churnMs = ms(t);
  const lazies = [balanceCopy, ...copy.pending.map((spec) => new LazyCopy(spec))];
  const guardChunks = lazies.reduce((n, lazy) => n + lazy.chunksCopied, 0);

  const background = process.cpuUsage();
  t = process.hrtime.bigint();
  const finished = finishCopies({ parts: [copy], pending: [balanceCopy.spec] });
  const finishMs = ms(t);
  t = process.hrtime.bigint();
  const image = composeSnapshot(1, namesOf(engine.specs), balances, [engineImageOf(copy)]);
  const deriveMs = ms(t);
  t = process.hrtime.bigint();
  const encoded = encodeSnapshot(image);
  const encodeMs = ms(t);
  t = process.hrtime.bigint();
  const path = writeSnapshotFile(dir, image.epoch, encoded);
  const writeMs = ms(t);
  cpuSeconds += cpuSecondsSince(background);
  const bytes = statSync(path).size;
  t = process.hrtime.bigint();
  const read = readSnapshot(path);
  const readMs = ms(t);
  const fresh = new Engine(config);
  t = process.hrtime.bigint();
  restoreSnapshot(read, [fresh]);
  const restoreMs = ms(t);
  if (stateHash([fresh]) !== atCopy) throw new Error('snapshot: the restored state differs from the state at the pause (state hash)');
  if (atCopy === stateHash([engine])) throw new Error('snapshot: the churn after the pause changed nothing');
  return {
    pauseBooksMs, pauseBalancesMs, eagerCopyMs, guardChunks, chunks: guardChunks + finished, churnMs, finishMs, deriveMs, encodeMs, writeMs, bytes, readMs, restoreMs, cpuSeconds,
    balanceRows: image.balances.users.length, updateKeys: keyCount(image.updateKeys), changedAfter,
  };
}

/**
 * Changes a state built by buildRestingState(config, orders): cancels `n` of its orders (spread over
 * the books), then funds `n` new users (new balance rows and keys) whose orders take the freed
 * slots. Returns the commands run.
 */
export function churnRestingState(engine: Engine, config: Readonly<Config>, orders: number, n: number): number {
  const markets = engine.specs.markets;
  const time = TIME0 + orders + 1;
  const stride = Math.max(1, Math.floor(orders / n));
  for (let k = 0; k < n; k++) {
    const i = (k * stride) % orders; // order i has id i + 1 and belongs to user i + 1 (the fee account is 0)
    const code = engine.cancel(i + 1, markets[i % markets.length]!.index, i + 1, time);
    if (code !== Code.OK) throw new Error(`snapshot churn: cancel of order ${i + 1} failed with code ${code}`);
    if ((k & 1023) === 1023) engine.events.reset();
  }
  for (let k = 0; k < n; k++) {
    let user = 0x4000_0000 + k; // above every user of the state
    if (user === config.engine.fee_account) user += n;
    const market = markets[k % markets.length]!;
    const lots = market.minAmountLots;
    const price = 1000 * Math.max(1, 10 ** Math.max(0, market.moneyPrec - 3)) * 2; // an ask far above every bid
    let code = engine.updateBalance(user, market.stock.index, 'deposit', orders + 1 + k, stockUnits(market, lots), '', time);
    if (code === Code.OK) code = engine.placeLimit(user, market.index, SIDE_ASK, lots, price, 0, 0, 0, time);
    if (code !== Code.OK) throw new Error(`snapshot churn: new order of user ${user} failed with code ${code}`);
    if ((k & 1023) === 1023) engine.events.reset();
  }
  engine.events.reset();
  return 3 * n;
}

export interface RouterSnapshotRound {
  /** router.snapshot()'s figures: shards paused (request → resume), background part (resume → file durable). */
  readonly pauseMs: number;
  readonly writeMs: number;
  readonly bytes: number;
  /** Commands of the trader acknowledged while the snapshot ran (request → file durable), and the slowest of them. */
  readonly commandsDuring: number;
  readonly maxLatencyMs: number;
}

export interface RouterSnapshotRun {
  readonly rounds: readonly RouterSnapshotRound[];
  /** Router.start on the state's snapshot: recovery (read, restore) and the shards' restore. */
  readonly startSeconds: number;
  /** The trader's commands outside snapshots, and the slowest of them. */
  readonly commandsOutside: number;
  readonly maxLatencyOutsideMs: number;
}

/**
 * The state of `engine` through the real thing: written as the snapshot of a journal directory,
 * a Router started on it (`shards` shard workers, journal fsync), then `rounds` router.snapshot()
 * while a trader places and cancels one order at a time all along (one command in flight: its
 * slowest acknowledgement during a snapshot bounds how long matching stopped).
 */
export async function measureRouterSnapshots(engine: Engine, config: Readonly<Config>, dir: string, rounds: number, shards: number): Promise<RouterSnapshotRun> {
  writeSnapshot(dir, captureSnapshot([engine], 1));
  const routerConfig = validateConfig({
    ...config,
    engine: { ...config.engine, shards, assignment: {} },
    journal: { ...config.journal, dir, durability: 'fsync', snapshot_interval_s: 0 },
  });
  const started = process.hrtime.bigint();
  const router = await Router.start(routerConfig);
  const startSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const market = router.specs.markets[0]!;
    const user = 0x7000_0000;
    let time = TIME0 + 1e12;
    const funded = await router.updateBalance(user, market.stock.index, 'deposit', 1, stockUnits(market, market.minAmountLots) * 1000n, '', time);
    if (funded.code !== Code.OK) throw new Error(`router snapshot: funding failed with code ${funded.code}`);
    const price = 1000 * Math.max(1, 10 ** Math.max(0, market.moneyPrec - 3)) * 3; // above every bid: rests
    let running = true;
    let during = false;
    const counts = { inside: 0, outside: 0 };
    const slowest = { inside: 0n, outside: 0n };
    const record = (t0: bigint): void => {
      const ns = process.hrtime.bigint() - t0;
      const key = during ? 'inside' : 'outside';
      counts[key]++;
      if (ns > slowest[key]) slowest[key] = ns;
    };
    const trader = (async () => {
      while (running) {
        let t0 = process.hrtime.bigint();
        const placed = await router.placeLimit(user, market.index, SIDE_ASK, market.minAmountLots, price, 0, 0, 'bench', ++time);
        record(t0);
        const id = placed.orders[0]?.id;
        if (placed.code !== Code.OK || id === undefined) throw new Error(`router snapshot: place failed with code ${placed.code}`);
        t0 = process.hrtime.bigint();
        const cancelled = await router.cancel(user, market.index, id, ++time);
        record(t0);
        if (cancelled.code !== Code.OK) throw new Error(`router snapshot: cancel failed with code ${cancelled.code}`);
      }
    })();
    const out: RouterSnapshotRound[] = [];
    try {
      for (let r = 0; r < rounds; r++) {
        // Between snapshots the shards page in their copy buffers a little per batch (the trader keeps them busy).
        await new Promise((resolve) => setTimeout(resolve, r === 0 ? 2_000 : 300));
        counts.inside = 0;
        slowest.inside = 0n;
        during = true;
        const s = await router.snapshot();
        during = false;
        out.push({ pauseMs: s.pauseMs, writeMs: s.writeMs, bytes: s.bytes, commandsDuring: counts.inside, maxLatencyMs: Number(slowest.inside) / 1e6 });
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      running = false;
      await trader;
    }
    return { rounds: out, startSeconds, commandsOutside: counts.outside, maxLatencyOutsideMs: Number(slowest.outside) / 1e6 };
  } finally {
    await router.stop();
  }
}
