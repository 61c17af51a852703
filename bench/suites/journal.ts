/**
 * Suite `journal`: what durability costs, and how fast the journal and snapshots bring a state back.
 *
 * Workloads:
 *  - `fsync`, `nosync`, `off`: the `mixed` stream of the engine suite (bench/gen/workload.ts)
 *    through Router (shard workers, rings) with journal.durability 'fsync' (an acknowledgement
 *    waits until its epoch is fdatasync'd: epoch group commit), 'none' (written, not synced) and
 *    no journal at all, driven by bench/drivers/shards.ts: a closed loop with up to WINDOW commands
 *    in flight (commands/s, average shard batch, commands per epoch = per group commit), then on
 *    another fresh router an open loop at half that rate (acknowledgement latency from the
 *    intended send time, HDR histogram, every command; `--rate` overrides the rate), and a light
 *    open loop at LIGHT_RATE on a third (extras `light_*`): every mode sustains it, so its latency
 *    is what one acknowledgement costs (for `fsync`: group commit, one fdatasync of the batch's shard);
 *  - `replay`: the journal the `fsync` closed loop wrote, replayed (engine/journal/replay.ts) into
 *    fresh engines laid out as the router's shards, as start-up recovery does: events/s;
 *  - `snapshot`: an engine holding 1,000,000 resting orders of 1,000,000 funded users (so as many
 *    balance rows and balance.update keys), built directly; the pause (raw copies of the books and
 *    the balance table), then after 30,000 more commands the background part (book order, encode,
 *    temp file, fdatasync, rename), read + decode and restore into a fresh engine, each timed; bytes
 *    on disk. Then that state through a Router (`--shards`): router.snapshot() three times under a
 *    one-in-flight place/cancel trader: the pause, the background time, the trader's slowest reply.
 *
 * Journals live in a temporary directory under os.tmpdir() (removed afterwards); the `fsync`
 * workload also probes one small append + fdatasync there, and one small write + fdatasync over a
 * preallocated file (what the journal's segments get; the floor of its latency).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
import { loadConfig, validateConfig } from '../../conf/load.js';
import type { Config } from '../../conf/schema.js';
import { Router } from '../../engine/router/router.js';
import type { ShardStats } from '../../engine/shard/loop.js';
import {
  fdatasyncProbe, journalShape, measureRouterSnapshots, measureSnapshot, replayDirectory, buildRestingState, type JournalShape, type ReplayRun,
} from '../drivers/journal.js';
import {
  checkRouterConservation, dealCounter, driveRouter, duplicateIds, fundThroughRouter, planWorkload, restingOnRouter, shardedConfig,
  WARM_PREFIX, type Plan, type RouterRun,
} from '../drivers/shards.js';
import { checkConservation } from '../drivers/engine.js';
import { generateWorkload } from '../gen/workload.js';
import { nanosHistogram, summarize, type LatencySummary } from '../lib/latency.js';
import type { Suite, SuiteOptions, WorkloadResult } from './types.js';

const FSYNC = 'fsync';
const NOSYNC = 'nosync';
const OFF = 'off';
const REPLAY = 'replay';
const SNAPSHOT = 'snapshot';
const DEFAULT_COMMANDS = 1_000_000;
const WINDOW = 4096;
const OPEN_WINDOW = 16_384;
const OPEN_SHARE = 0.5;
const REPLAY_RUNS = 3;
const SNAPSHOT_ORDERS = 1_000_000;
/** Commands × 3 that change the engine between the snapshot's copies and its background part. */
const SNAPSHOT_CHURN = 10_000;
/** router.snapshot() calls in the router part of `snapshot`. */
const SNAPSHOT_ROUNDS = 3;
const PROBE_ROUNDS = 500;
const PROBE_BYTES = 4096;
/** The light open loop: a rate every mode sustains, so that its latency is one acknowledgement's, not queueing. */
const LIGHT_RATE = 10_000;
const LIGHT_COMMANDS = 30_000;

type Mode = typeof FSYNC | typeof NOSYNC | typeof OFF;
const DURABILITY: Record<Mode, 'fsync' | 'none' | null> = { fsync: 'fsync', nosync: 'none', off: null };

export const journalSuite: Suite = {
  name: 'journal',
  description: 'the mixed stream through the router with the journal fsync / nosync / off; journal replay; snapshot of 1 M orders',
  workloads: [FSYNC, NOSYNC, OFF, REPLAY, SNAPSHOT],
  run: runJournalSuite,
};

interface ModeOutcome {
  readonly result: WorkloadResult;
  /** The closed loop's journal (fsync only), for `replay`; the caller removes it. */
  readonly journal: string | null;
  readonly config: Readonly<Config>;
  readonly deposits: readonly bigint[];
}

async function runJournalSuite(options: SuiteOptions): Promise<WorkloadResult[]> {
  const only = options.only ?? journalSuite.workloads;
  const results: WorkloadResult[] = [];
  const root = mkdtempSync(join(tmpdir(), 'bench-journal-'));
  try {
    const modes = ([FSYNC, NOSYNC, OFF] as const).filter((m) => only.includes(m) || (m === FSYNC && only.includes(REPLAY)));
    if (modes.length > 0) {
      const base = loadConfig();
      const commands = options.commands ?? DEFAULT_COMMANDS;
      const shards = options.shards ?? 1;
      const warmup = Math.min(commands, Math.max(100_000, Math.floor(commands / 4)));
      options.log(`journal: generating ${count(commands)} commands (seed ${options.seed})`);
      const w = generateWorkload(base, { commands, seed: options.seed });
      const plan = planWorkload(w);
      const layout = shardedConfig(base, w, shards);
      const warm = planWorkload(generateWorkload(layout, { commands: warmup, seed: w.seed, markets: w.markets.map((m) => WARM_PREFIX + m.name) }));
      const light = planWorkload(generateWorkload(base, { commands: Math.min(commands, LIGHT_COMMANDS), seed: options.seed }));
      for (const mode of modes) {
        const outcome = await measureMode(mode, layout, plan, warm, light, root, options);
        if (only.includes(mode)) results.push(outcome.result);
        if (outcome.journal !== null && only.includes(REPLAY)) results.push(measureReplay(outcome, plan, options.log));
        if (outcome.journal !== null) rmSync(outcome.journal, { recursive: true, force: true });
      }
    }
    if (only.includes(SNAPSHOT)) results.push(await measureSnapshotWorkload(root, options));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return results;
}

/** The layout config with the journal of `mode` in `dir`. */
function withJournal(layout: Readonly<Config>, mode: Mode, dir: string): Readonly<Config> {
  const durability = DURABILITY[mode];
  return validateConfig({ ...layout, journal: { ...layout.journal, dir: durability === null ? null : dir, durability: durability ?? 'fsync' } });
}

interface RouterOutcome {
  readonly run: RouterRun;
  readonly stats: (ShardStats | null)[];
  readonly deposits: bigint[];
}

/**
 * One run on a fresh router over a fresh journal directory: fund the users, warm the shards up on
 * the copies of the markets, drive `plan`, check the result against the generator, stop.
 */
async function runOnRouter(config: Readonly<Config>, warm: Plan, plan: Plan, window: number, rate: number, latency: Histogram | null, what: string): Promise<RouterOutcome> {
  const router = await Router.start(config);
  let stats: (ShardStats | null)[] | null = null;
  try {
    if ((router.recovery?.replay.events ?? 0) > 0) throw new Error(`journal/${what}: the journal directory was not empty`);
    const deposits = await fundThroughRouter(router, plan.w);
    const deals = dealCounter(router);
    await driveRouter(router, warm, deals, { window, rate, latency: null, api: 'submit' });
    const run = await driveRouter(router, plan, deals, { window, rate, latency, api: 'submit' });
    const e = plan.w.expected;
    const resting = await restingOnRouter(router, plan.w);
    const problems = [
      ...expect('deals', run.deals, e.deals),
      ...expect('cancels of filled orders (ORDER_NOT_FOUND)', run.notFound, e.staleCancels),
      ...expect('duplicate order ids', duplicateIds(run.realIds), 0),
      ...expect('resting orders', resting.reduce((x, y) => x + y, 0), e.resting),
    ];
    stats = await router.stop();
    problems.push(...checkRouterConservation(router, deposits));
    if (problems.length > 0) throw new Error(`journal/${what}: result check failed:\n  ${problems.join('\n  ')}`);
    return { run, stats, deposits };
  } finally {
    if (stats === null) await router.stop();
  }
}

async function measureMode(
  mode: Mode, layout: Readonly<Config>, plan: Plan, warm: Plan, light: Plan, root: string, options: SuiteOptions,
): Promise<ModeOutcome> {
  const log = options.log;
  const w = plan.w;
  const closedDir = join(root, `${mode}-closed`);
  const openDir = join(root, `${mode}-open`);
  const journaled = DURABILITY[mode] !== null;
  const extra: Record<string, number | string | boolean> = {};
  let probe: LatencySummary | null = null;
  if (mode === FSYNC) {
    const probeOnce = (preallocated: boolean): LatencySummary => {
      const h = nanosHistogram();
      fdatasyncProbe(root, PROBE_ROUNDS, PROBE_BYTES, h, preallocated);
      const summary = summarize(h);
      h.destroy();
      return summary;
    };
    probe = probeOnce(false);
    log(`journal: fdatasync of a ${PROBE_BYTES}-byte append in ${root}: p50 ${probe.p50_us} µs, p99 ${probe.p99_us} µs`);
    extra.fdatasync_p50_us = probe.p50_us ?? 0;
    extra.fdatasync_p99_us = probe.p99_us ?? 0;
    const prealloc = probeOnce(true);
    log(`journal: fdatasync of a ${PROBE_BYTES}-byte write into a preallocated file: p50 ${prealloc.p50_us} µs, p99 ${prealloc.p99_us} µs`);
    extra.fdatasync_prealloc_p50_us = prealloc.p50_us ?? 0;
    extra.fdatasync_prealloc_p99_us = prealloc.p99_us ?? 0;
  }

  log(`journal: ${mode} — closed loop, up to ${count(WINDOW)} commands in flight (after a warm-up of ${count(warm.w.commands)})`);
  const closedConfig = withJournal(layout, mode, closedDir);
  const closed = await runOnRouter(closedConfig, warm, plan, WINDOW, 0, null, `${mode} closed loop`);
  const peak = closed.run.commands / closed.run.seconds;
  let shape: JournalShape | null = null;
  if (journaled) {
    shape = journalShape(closedDir);
    const commandsJournaled = w.commands + warm.w.commands + w.userIds.length * w.funding.length;
    extra.journal_bytes = shape.bytes;
    extra.journal_bytes_per_command = round(shape.bytes / commandsJournaled, 1);
    extra.epochs = shape.epochs;
    extra.commands_per_epoch = round(commandsJournaled / Math.max(1, shape.epochs), 1);
  }
  const keepForReplay = mode === FSYNC && (options.only ?? journalSuite.workloads).includes(REPLAY);
  if (!keepForReplay) rmSync(closedDir, { recursive: true, force: true });

  const rate = options.rate ?? Math.max(1, Math.round(peak * OPEN_SHARE));
  log(`journal: ${mode} — ${count(Math.round(peak))} commands/s; open loop at ${count(rate)} commands/s`);
  const open = await openLoop(withJournal(layout, mode, openDir), warm, plan, rate, `${mode} open loop`);
  rmSync(openDir, { recursive: true, force: true });
  log(`journal: ${mode} — open loop p50 / p99 / p99.9 ${open.latency.p50_us} / ${open.latency.p99_us} / ${open.latency.p999_us} µs`);

  const lightDir = join(root, `${mode}-light`);
  log(`journal: ${mode} — open loop at a light ${count(LIGHT_RATE)} commands/s (${count(light.w.commands)} commands)`);
  const lit = await openLoop(withJournal(layout, mode, lightDir), warm, light, LIGHT_RATE, `${mode} light open loop`);
  rmSync(lightDir, { recursive: true, force: true });
  log(`journal: ${mode} — light open loop p50 / p99 / p99.9 ${lit.latency.p50_us} / ${lit.latency.p99_us} / ${lit.latency.p999_us} µs`);
  extra.light_rate = LIGHT_RATE;
  extra.light_achieved_rate = Math.round(lit.run.commands / lit.run.seconds);
  extra.light_p50_us = lit.latency.p50_us ?? 0;
  extra.light_p99_us = lit.latency.p99_us ?? 0;
  extra.light_p999_us = lit.latency.p999_us ?? 0;
  extra.light_avg_batch = round(batchFigures(lit.stats).avg, 2);

  const batch = batchFigures(closed.stats);
  const run = closed.run;
  const durability = DURABILITY[mode];
  const result: WorkloadResult = {
    name: mode,
    commands: run.commands,
    seconds: round(run.seconds, 4),
    ops_per_sec: Math.round(peak),
    deals: run.deals,
    deals_per_sec: Math.round(run.deals / run.seconds),
    cpu_seconds: round(run.cpuSeconds, 3),
    p50_us: open.latency.p50_us,
    p99_us: open.latency.p99_us,
    p999_us: open.latency.p999_us,
    extra: {
      durability: durability ?? 'no journal',
      shards: layout.engine.shards,
      window: WINDOW,
      avg_batch: round(batch.avg, 1),
      ...extra,
      max_in_flight: run.maxInFlight,
      open_loop_rate: rate,
      open_loop_achieved_rate: Math.round(open.run.commands / open.run.seconds),
      open_loop_avg_batch: round(batchFigures(open.stats).avg, 1),
      max_us: open.latency.max_us ?? 0,
      latency_samples: open.latency.samples,
      warmup_commands: warm.w.commands,
    },
    notes: [
      `${mode} figures: ${durability === null ? 'no journal' : `journal.durability '${durability}'`}, avg shard batch ${round(batch.avg, 1)}` +
        (shape === null ? '' : `, ${extra.commands_per_epoch} commands per epoch (group commit), journal ${count(shape.bytes)} bytes (${extra.journal_bytes_per_command} per command)`) +
        (probe === null ? '' : `; one ${PROBE_BYTES}-byte append + fdatasync in the journal's directory: p50 ${probe.p50_us} µs, p99 ${probe.p99_us} µs` +
          ` (into a preallocated file, as the journal writes its segments: p50 ${extra.fdatasync_prealloc_p50_us} µs, p99 ${extra.fdatasync_prealloc_p99_us} µs)`) +
        `; open loop at half the peak (${count(rate)}/s): achieved ${count(Math.round(open.run.commands / open.run.seconds))}/s` +
        `; light load (${count(LIGHT_RATE)}/s): p50 / p99 / p99.9 ${extra.light_p50_us} / ${extra.light_p99_us} / ${extra.light_p999_us} µs, avg batch ${extra.light_avg_batch}`,
      `method (journal ${FSYNC}/${NOSYNC}/${OFF}): the engine suite's mixed stream (seed ${w.seed}, ${count(w.commands)} commands, ${w.userIds.length} users) ` +
        `through Router with ${layout.engine.shards} shard(s) via bench/drivers/shards.ts (submit API), each run on a fresh router and a fresh journal directory ` +
        `under ${tmpdir()}, users funded and shards warmed up (W-… markets) first; ops/s from a closed loop with up to ${count(WINDOW)} in flight; ` +
        'latency = acknowledgement time − intended send time in an open loop at half that rate (HDR, every command; when the achieved rate is below the ' +
        `intended one, the run could not sustain it and the figures are queueing), and in a light open loop at ${count(LIGHT_RATE)}/s ` +
        `(${count(LIGHT_COMMANDS)} commands of another stream with the same seed: extras light_*), where it is the cost of one acknowledgement; ` +
        'an acknowledgement is released only once its epoch is durable (fsync: written and fdatasync\'d by every shard that took part in it; nosync: written to the OS); ' +
        'checked: deals, stale cancels, unique order ids, resting orders, conservation of every asset',
    ],
  };
  return { result, journal: keepForReplay ? closedDir : null, config: closedConfig, deposits: closed.deposits };
}

async function openLoop(config: Readonly<Config>, warm: Plan, plan: Plan, rate: number, what: string): Promise<{ run: RouterRun; stats: (ShardStats | null)[]; latency: LatencySummary }> {
  const h = nanosHistogram();
  try {
    const outcome = await runOnRouter(config, warm, plan, OPEN_WINDOW, rate, h, what);
    return { run: outcome.run, stats: outcome.stats, latency: summarize(h) };
  } finally {
    h.destroy();
  }
}

/** `replay`: the fsync closed loop's journal into fresh engines, REPLAY_RUNS times; the median run is reported. */
function measureReplay(fsync: ModeOutcome, plan: Plan, log: (line: string) => void): WorkloadResult {
  const dir = fsync.journal!;
  const shape = journalShape(dir);
  log(`journal: replay — ${count(shape.bytes)} bytes, ${count(shape.frames)} frames, ${REPLAY_RUNS} runs into fresh engines`);
  const runs: ReplayRun[] = [];
  for (let i = 0; i < REPLAY_RUNS; i++) {
    const run = replayDirectory(dir, fsync.config);
    const problems = checkConservation(run.engines[0]!, fsync.deposits);
    let resting = 0;
    for (const m of plan.w.markets) for (const e of run.engines) resting += e.books[m.index]?.orders.size ?? 0;
    if (resting !== plan.w.expected.resting) problems.push(`resting orders ${resting}, expected ${plan.w.expected.resting}`);
    if (problems.length > 0) throw new Error(`journal/replay: result check failed:\n  ${problems.join('\n  ')}`);
    runs.push({ ...run, engines: [] });
    log(`journal: replay — run ${i + 1}: ${count(run.stats.events)} events in ${run.seconds.toFixed(3)} s = ${count(Math.round(run.stats.events / run.seconds))} events/s`);
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  const median = runs[Math.floor(runs.length / 2)]!;
  const s = median.stats;
  return {
    name: REPLAY,
    commands: s.events,
    seconds: round(median.seconds, 4),
    ops_per_sec: Math.round(s.events / median.seconds),
    deals: 0,
    deals_per_sec: 0,
    cpu_seconds: round(median.cpuSeconds, 3),
    p50_us: null,
    p99_us: null,
    p999_us: null,
    extra: {
      events: s.events,
      frames: s.frames,
      epochs: s.epochs,
      journal_bytes: shape.bytes,
      mb_per_sec: round(shape.bytes / 1e6 / median.seconds, 1),
      journaled_commands_per_sec: Math.round((plan.w.commands + plan.w.userIds.length * plan.w.funding.length) / median.seconds),
      engines: fsync.config.engine.shards,
      runs: REPLAY_RUNS,
      fastest_seconds: round(runs[0]!.seconds, 4),
      slowest_seconds: round(runs[runs.length - 1]!.seconds, 4),
    },
    notes: [
      `replay figures: ${count(s.events)} events (${count(s.frames)} frames, ${count(s.epochs)} epochs, ${count(shape.bytes)} bytes) in ${median.seconds.toFixed(3)} s, median of ${REPLAY_RUNS}`,
      'method (journal replay): the journal of the fsync closed loop (funding, warm-up and the run), read, checked (CRC-32C of every frame) and ' +
        'applied by engine/journal/replay.ts (replayJournal up to the durable epoch, readDurableEpoch as at start-up) into fresh engines laid out as the router\'s shards ' +
        'over one fresh balance table, as start-up recovery does (engine construction not timed); ops/s = event records applied per second ' +
        '(ORDER, DEAL, BALANCE, DELTA); checked: conservation of every asset and the resting orders the generator expects',
    ],
  };
}

/** `snapshot`: 1 M resting orders and 1 M funded users, built directly in an engine, then through a Router. */
async function measureSnapshotWorkload(root: string, options: SuiteOptions): Promise<WorkloadResult> {
  const log = options.log;
  const config = loadConfig();
  log(`journal: snapshot — building ${count(SNAPSHOT_ORDERS)} resting orders of ${count(SNAPSHOT_ORDERS)} users`);
  const state = buildRestingState(config, SNAPSHOT_ORDERS);
  log(`journal: snapshot — built in ${state.seconds.toFixed(1)} s; copying, changing, writing in the background, reading back`);
  const dir = join(root, 'snapshot');
  mkdirSync(dir);
  const f = measureSnapshot(state.engine, config, dir, state.orders, SNAPSHOT_CHURN);
  const pauseMs = f.pauseBooksMs + f.pauseBalancesMs;
  const backgroundMs = f.finishMs + f.deriveMs + f.encodeMs + f.writeMs;
  log(`journal: snapshot — ${count(f.bytes)} bytes; pause ${pauseMs.toFixed(2)} ms (books ${f.pauseBooksMs.toFixed(2)}, balances ${f.pauseBalancesMs.toFixed(2)}; ` +
    `copying everything at once instead: ${f.eagerCopyMs.toFixed(1)}), churn with the copy armed ${f.churnMs.toFixed(0)} ms (${count(f.guardChunks)} of ${count(f.chunks)} chunks copied by guards), ` +
    `background ${backgroundMs.toFixed(0)} ms (copy ${f.finishMs.toFixed(0)}, derive ${f.deriveMs.toFixed(0)}, encode ${f.encodeMs.toFixed(0)}, write ${f.writeMs.toFixed(0)}), read ${f.readMs.toFixed(0)} ms, restore ${f.restoreMs.toFixed(0)} ms`);
  const shards = options.shards ?? 1;
  log(`journal: snapshot — the same state through a Router (${shards} shard${shards === 1 ? '' : 's'}, journal fsync): ${SNAPSHOT_ROUNDS} router.snapshot() under a place/cancel trader`);
  const routerDir = join(root, 'snapshot-router');
  mkdirSync(routerDir);
  const r = await measureRouterSnapshots(state.engine, config, routerDir, SNAPSHOT_ROUNDS, shards);
  const rounds = r.rounds;
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const routerPause = median(rounds.map((x) => x.pauseMs));
  const routerWrite = median(rounds.map((x) => x.writeMs));
  const stall = Math.max(...rounds.map((x) => x.maxLatencyMs));
  log(`journal: snapshot — router: started in ${r.startSeconds.toFixed(1)} s; pause ${rounds.map((x) => x.pauseMs.toFixed(1)).join(' / ')} ms, ` +
    `background ${rounds.map((x) => x.writeMs.toFixed(0)).join(' / ')} ms; trader: ${rounds.map((x) => x.commandsDuring).join(' / ')} commands during the snapshots, ` +
    `slowest ${rounds.map((x) => x.maxLatencyMs.toFixed(1)).join(' / ')} ms (outside: ${count(r.commandsOutside)}, slowest ${r.maxLatencyOutsideMs.toFixed(1)} ms)`);
  const seconds = (pauseMs + backgroundMs) / 1000;
  return {
    name: SNAPSHOT,
    commands: state.orders,
    seconds: round(seconds, 4),
    ops_per_sec: Math.round(state.orders / seconds),
    deals: 0,
    deals_per_sec: 0,
    cpu_seconds: round(f.cpuSeconds, 3),
    p50_us: null,
    p99_us: null,
    p999_us: null,
    extra: {
      resting_orders: state.orders,
      users: state.users,
      balance_rows: f.balanceRows,
      update_keys: f.updateKeys,
      bytes: f.bytes,
      bytes_per_order: round(f.bytes / state.orders, 1),
      pause_ms: round(pauseMs, 2),
      pause_books_ms: round(f.pauseBooksMs, 2),
      pause_balances_ms: round(f.pauseBalancesMs, 2),
      eager_copy_ms: round(f.eagerCopyMs, 2),
      guard_chunks: f.guardChunks,
      chunks: f.chunks,
      churn_ms: round(f.churnMs, 1),
      background_ms: round(backgroundMs, 1),
      finish_copy_ms: round(f.finishMs, 1),
      derive_ms: round(f.deriveMs, 1),
      encode_ms: round(f.encodeMs, 1),
      write_ms: round(f.writeMs, 1),
      read_ms: round(f.readMs, 1),
      restore_ms: round(f.restoreMs, 1),
      changed_after_copy: f.changedAfter,
      router_shards: shards,
      router_start_seconds: round(r.startSeconds, 2),
      router_pause_ms: round(routerPause, 2),
      router_pause_max_ms: round(Math.max(...rounds.map((x) => x.pauseMs)), 2),
      router_background_ms: round(routerWrite, 1),
      router_commands_during: rounds.reduce((n, x) => n + x.commandsDuring, 0),
      router_slowest_during_ms: round(stall, 2),
      router_slowest_outside_ms: round(r.maxLatencyOutsideMs, 2),
      build_seconds: round(state.seconds, 2),
    },
    notes: [
      `snapshot figures: ${count(state.orders)} resting orders, ${count(f.balanceRows)} balance rows, ${count(f.updateKeys)} balance.update keys → ` +
        `${count(f.bytes)} bytes; pause ${pauseMs.toFixed(2)} ms (lazy copies armed: books ${f.pauseBooksMs.toFixed(2)} ms in the shard, balances ` +
        `${f.pauseBalancesMs.toFixed(2)} ms in the router; copying everything in the pause took ${f.eagerCopyMs.toFixed(1)} ms), ${count(f.changedAfter)} commands after the pause ` +
        `(${count(f.guardChunks)} of ${count(f.chunks)} chunks copied by their guards), background ${backgroundMs.toFixed(0)} ms (the rest of the copy ${f.finishMs.toFixed(0)}, book order ${f.deriveMs.toFixed(0)}, encode ` +
        `${f.encodeMs.toFixed(0)}, write + fdatasync + rename ${f.writeMs.toFixed(0)}), read + decode ${f.readMs.toFixed(0)} ms, restore ${f.restoreMs.toFixed(0)} ms`,
      `snapshot through the router (${shards} shard${shards === 1 ? '' : 's'}): pause ${rounds.map((x) => x.pauseMs.toFixed(1)).join(' / ')} ms (request → resume), ` +
        `background ${rounds.map((x) => x.writeMs.toFixed(0)).join(' / ')} ms on the writer thread; a one-in-flight place/cancel trader got ` +
        `${rounds.map((x) => x.commandsDuring).join(' / ')} acknowledgements during the snapshots, the slowest ${rounds.map((x) => x.maxLatencyMs.toFixed(1)).join(' / ')} ms ` +
        `(${r.maxLatencyOutsideMs.toFixed(1)} ms outside them)`,
      'method (journal snapshot): one engine with every default market, each of 1,000,000 users funded by one balance.update and owning one resting ' +
        'limit order (≈1,000 price levels per side per market), built directly through Engine; the pause = armEngineCopy + armBalancesCopy ' +
        '(engine/journal/snapshot-copy.ts, lazy-copy.ts: copies armed, chunks copied later), then ' + count(SNAPSHOT_CHURN * 3) + ' commands change the engine (cancels, deposits of new ' +
        'users, orders in the freed slots; the guards copy the chunks they change first), then the background part timed step by step as the writer thread runs it (finishCopies, engineImageOf + composeSnapshot, ' +
        'encodeSnapshot, writeSnapshotFile); checked: the state hash of the file restored into a fresh engine equals the engine\'s at the copy. ' +
        'Router: that state as a journal\'s snapshot, Router.start on it (recovery), then router.snapshot() ' + SNAPSHOT_ROUNDS + ' times, 0.3 s apart',
    ],
  };
}

/** Commands per batch over all shards. */
function batchFigures(stats: readonly (ShardStats | null)[]): { avg: number } {
  let commands = 0;
  let batches = 0;
  for (const s of stats) {
    if (s === null) continue;
    commands += s.commands;
    batches += s.batches;
  }
  return { avg: commands / Math.max(1, batches) };
}

function expect(what: string, got: number, expected: number): string[] {
  return got === expected ? [] : [`${what}: ${got}, expected ${expected}`];
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}
