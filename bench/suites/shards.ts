/**
 * Suite `shards`: the engine behind its rings, in-process — what the hop between the router's
 * thread and the shard workers costs, and what a second shard buys on this machine.
 *
 * Workloads:
 *  - `ring-32B`, `ring-128B`: the SPSC ring alone (bench/micro/ring.ts), records/s from this thread
 *    to a worker with 32- and 128-byte records (publishing every 64 records; publishing every
 *    record, as the router does, in the extras);
 *  - `1-shard`, `2-shard`: the `mixed` stream of the `engine` suite (bench/gen/workload.ts) through
 *    Router with engine.shards = 1 and 2 (the markets spread round-robin over the shards with
 *    engine.assignment), driven by bench/drivers/shards.ts.
 *
 * Each shard workload runs three times, each on a fresh router (new workers) whose shards are
 * first warmed up, driven the same way, on copies of the markets: a closed loop with up to WINDOW
 * commands in flight through Router.submit… (commands/s, deals, the shards' average batch), an
 * open loop at half that rate (latency from the intended send time), and the closed loop again
 * through the promise API (placeLimit/…; an extra). Every run is checked against the generator's
 * expected outcome and for conservation of every asset.
 */
import type { Histogram } from 'hdr-histogram-js';
import { loadConfig } from '../../conf/load.js';
import type { Config } from '../../conf/schema.js';
import { Router } from '../../engine/router/router.js';
import type { ShardStats } from '../../engine/shard/loop.js';
import {
  checkRouterConservation, dealCounter, driveRouter, duplicateIds, fundThroughRouter, planWorkload, restingOnRouter, shardedConfig,
  WARM_PREFIX, type Plan, type RouterApi, type RouterRun,
} from '../drivers/shards.js';
import { generateWorkload } from '../gen/workload.js';
import { nanosHistogram, summarize, type LatencySummary } from '../lib/latency.js';
import { runRingBench, type RingBenchResult } from '../micro/ring.js';
import type { Suite, SuiteOptions, WorkloadResult } from './types.js';

const DEFAULT_COMMANDS = 2_000_000;
const DEFAULT_RING_RECORDS = 5_000_000;
/** Most commands in flight in the closed-loop run. */
const WINDOW = 4096;
/** Most commands in flight in the open-loop run: far above what half the peak rate needs, so it only bounds a stall. */
const OPEN_WINDOW = 16_384;
/** The open-loop rate, as a share of the closed-loop rate. */
const OPEN_SHARE = 0.5;
const RING_32 = 'ring-32B';
const RING_128 = 'ring-128B';
const SHARDS_1 = '1-shard';
const SHARDS_2 = '2-shard';

export const shardsSuite: Suite = {
  name: 'shards',
  description: 'the mixed stream through the router and 1 or 2 shard workers over the rings; the ring alone',
  workloads: [RING_32, RING_128, SHARDS_1, SHARDS_2],
  run: runShardsSuite,
};

async function runShardsSuite(options: SuiteOptions): Promise<WorkloadResult[]> {
  const only = options.only ?? shardsSuite.workloads;
  const unknown = only.filter((name) => !shardsSuite.workloads.includes(name));
  if (unknown.length > 0) throw new Error(`suite shards has no workload ${unknown.join(', ')}`);
  const results: WorkloadResult[] = [];
  if (only.includes(RING_32) || only.includes(RING_128)) results.push(...(await measureRings(options, only)));
  const shardCounts = [[SHARDS_1, 1], [SHARDS_2, 2]] as const;
  if (shardCounts.some(([name]) => only.includes(name))) {
    const config = loadConfig();
    const commands = options.commands ?? DEFAULT_COMMANDS;
    const warmup = Math.min(commands, Math.max(100_000, Math.floor(commands / 4)));
    options.log(`shards: generating ${count(commands)} commands (seed ${options.seed})`);
    const genStart = performance.now();
    const w = generateWorkload(config, { commands, seed: options.seed });
    const generateSeconds = (performance.now() - genStart) / 1000;
    const plan = planWorkload(w);
    for (const [name, shards] of shardCounts) {
      if (!only.includes(name)) continue;
      results.push(await measureShards(name, shards, config, plan, warmup, generateSeconds, options.log));
    }
  }
  return results;
}

/** `ring-32B`, `ring-128B`: bench/micro/ring.ts, whose runs check every record. */
async function measureRings(options: SuiteOptions, only: readonly string[]): Promise<WorkloadResult[]> {
  const records = options.commands ?? DEFAULT_RING_RECORDS;
  options.log(`shards: ring micro-benchmark, ${count(records)} records per case`);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const runs = await runRingBench({ records, log: options.log });
  const used = process.cpuUsage(cpu);
  // runRingBench reports no CPU time per case: use the CPU/wall ratio of the whole call (all cases, warm-ups included).
  const cpuPerWall = (used.user + used.system) / 1e6 / ((performance.now() - started) / 1000);
  const find = (name: string): RingBenchResult => {
    const run = runs.find((r) => r.name === name);
    if (run === undefined) throw new Error(`ring micro-benchmark has no case ${name}`);
    return run;
  };
  const results: WorkloadResult[] = [];
  for (const [name, bytes] of [[RING_32, 32], [RING_128, 128]] as const) {
    if (!only.includes(name)) continue;
    const batched = find(`${bytes}B/batch64`);
    const each = find(`${bytes}B/batch1`);
    results.push({
      name,
      commands: batched.commands,
      seconds: round(batched.seconds, 4),
      ops_per_sec: Math.round(batched.ops_per_sec),
      deals: 0,
      deals_per_sec: 0,
      cpu_seconds: round(batched.seconds * cpuPerWall, 3),
      p50_us: null,
      p99_us: null,
      p999_us: null,
      extra: {
        record_bytes: bytes,
        producer_batch: batched.producer_batch,
        avg_batch: round(batched.avg_batch, 1),
        mb_per_sec: Math.round((batched.ops_per_sec * bytes) / 1e6),
        publish_each_ops_per_sec: Math.round(each.ops_per_sec),
        publish_each_avg_batch: round(each.avg_batch, 1),
        ring_capacity_bytes: 256 * 1024,
      },
      notes: [
        `${name} figures: avg consumer batch ${round(batched.avg_batch, 1)}; publishing every record: ` +
          `${count(Math.round(each.ops_per_sec))} records/s, avg consumer batch ${round(each.avg_batch, 1)}`,
        `${name}: bench/micro/ring.ts — ${bytes}-byte payloads (+ the ring's 8-byte record header) from this thread to a worker ` +
          'over a 256 KiB ring; the producer publishes every 64 records (ops/s) or every record (publish_each_*, as the router does); ' +
          'the consumer reads and checks every word; avg_batch = records per consumer batch; cpu s estimated from the CPU/wall ratio of the whole micro-benchmark',
      ],
    });
  }
  return results;
}

interface RouterOutcome {
  readonly run: RouterRun;
  readonly stats: (ShardStats | null)[];
}

/**
 * One measured run on a fresh router: fund the users, warm the shard workers up on the copies of
 * the markets (`warm`, driven the same way), then drive `plan` on the real markets, check the
 * result against the generator, stop. Throws when a check fails.
 */
async function runOnRouter(
  config: Readonly<Config>, warm: Plan, plan: Plan, api: RouterApi, window: number, rate: number, latency: Histogram | null, what: string,
): Promise<RouterOutcome> {
  const router = await Router.start(config);
  let stats: (ShardStats | null)[] | null = null;
  try {
    const deposits = await fundThroughRouter(router, plan.w);
    const deals = dealCounter(router);
    await driveRouter(router, warm, deals, { window, rate, latency: null, api });
    const run = await driveRouter(router, plan, deals, { window, rate, latency, api });
    const e = plan.w.expected;
    const resting = await restingOnRouter(router, plan.w);
    const problems = [
      ...expect('deals', run.deals, e.deals),
      ...expect('cancels of filled orders (ORDER_NOT_FOUND)', run.notFound, e.staleCancels),
      ...expect('order ids handed out', run.realIds.length - 1 - countZeros(run.realIds), e.placed),
      ...expect('duplicate order ids across shards', duplicateIds(run.realIds), 0),
      ...expect('resting orders', resting.reduce((x, y) => x + y, 0), e.resting),
      ...resting.flatMap((n, k) => expect(`resting orders in ${plan.w.markets[k]?.name}`, n, e.restingByMarket[k] ?? -1)),
    ];
    if (e.deals === 0 && plan.w.commands >= 10_000) problems.push('the run made no deal');
    stats = await router.stop();
    problems.push(...checkRouterConservation(router, deposits));
    problems.push(...stats.flatMap((s, shard) => (s === null ? [`shard ${shard} reported no stats`] : [])));
    if (problems.length > 0) throw new Error(`shards/${what}: result check failed:\n  ${problems.join('\n  ')}`);
    return { run, stats };
  } finally {
    if (stats === null) await router.stop();
  }
}

async function measureShards(
  name: string, shards: number, base: Readonly<Config>, plan: Plan, warmup: number, generateSeconds: number, log: (line: string) => void,
): Promise<WorkloadResult> {
  const w = plan.w;
  const config = shardedConfig(base, w, shards);
  const warm = planWorkload(generateWorkload(config, { commands: warmup, seed: w.seed, markets: w.markets.map((m) => WARM_PREFIX + m.name) }));
  const assignment = w.markets.map((m) => `${m.name}→${config.engine.assignment[m.name] ?? '?'}`).join(' ');

  log(`shards: ${name} — closed loop, up to ${count(WINDOW)} commands in flight (after a warm-up of ${count(warmup)})`);
  const closed = await runOnRouter(config, warm, plan, 'submit', WINDOW, 0, null, name);
  const peak = closed.run.commands / closed.run.seconds;
  const rate = Math.max(1, Math.round(peak * OPEN_SHARE));
  log(`shards: ${name} — ${count(Math.round(peak))} commands/s; open loop at ${count(rate)} commands/s`);

  const latency = nanosHistogram();
  const open = await runOnRouter(config, warm, plan, 'submit', OPEN_WINDOW, rate, latency, `${name} open loop`);
  const l: LatencySummary = summarize(latency);
  latency.destroy();
  log(`shards: ${name} — open loop p50 / p99 / p99.9 ${l.p50_us} / ${l.p99_us} / ${l.p999_us} µs; closed loop through the promise API`);

  const promised = await runOnRouter(config, warm, plan, 'promise', WINDOW, 0, null, `${name} promise API`);

  const batch = batchFigures(closed.stats);
  const openBatch = batchFigures(open.stats);
  const run = closed.run;
  const e = w.expected;
  const pct = (n: number): string => `${((100 * n) / Math.max(1, w.commands)).toFixed(1)}%`;
  return {
    name,
    commands: run.commands,
    seconds: round(run.seconds, 4),
    ops_per_sec: Math.round(peak),
    deals: run.deals,
    deals_per_sec: Math.round(run.deals / run.seconds),
    cpu_seconds: round(run.cpuSeconds, 3),
    p50_us: l.p50_us,
    p99_us: l.p99_us,
    p999_us: l.p999_us,
    extra: {
      shards,
      assignment,
      window: WINDOW,
      avg_batch: round(batch.avg, 1),
      avg_batch_by_shard: batch.byShard,
      max_in_flight: run.maxInFlight,
      cancel_waits: run.cancelWaits,
      stale_cancels: run.notFound,
      resting_orders: e.resting,
      open_loop_rate: rate,
      open_loop_achieved_rate: Math.round(open.run.commands / open.run.seconds),
      open_loop_seconds: round(open.run.seconds, 3),
      open_loop_cpu_seconds: round(open.run.cpuSeconds, 3),
      open_loop_avg_batch: round(openBatch.avg, 1),
      open_loop_max_in_flight: open.run.maxInFlight,
      open_loop_cancel_waits: open.run.cancelWaits,
      promise_api_ops_per_sec: Math.round(promised.run.commands / promised.run.seconds),
      promise_api_cpu_seconds: round(promised.run.cpuSeconds, 3),
      promise_api_avg_batch: round(batchFigures(promised.stats).avg, 1),
      max_us: l.max_us ?? 0,
      latency_samples: l.samples,
      warmup_commands: warmup,
      seed: w.seed,
      users: w.userIds.length,
      markets: w.markets.length,
      generate_seconds: round(generateSeconds, 3),
    },
    notes: [
      `${name} figures: avg batch ${round(batch.avg, 1)} commands per shard batch (by shard ${batch.byShard}), ` +
        `${count(run.maxInFlight)} most in flight, ${count(run.cancelWaits)} cancels waited for their target's reply; ` +
        `open loop at ${count(rate)}/s: achieved ${count(Math.round(open.run.commands / open.run.seconds))}/s, avg batch ${round(openBatch.avg, 1)}; ` +
        `promise API closed loop: ${count(Math.round(promised.run.commands / promised.run.seconds))} commands/s`,
      `workload: the engine suite's mixed stream — seed ${w.seed}, ${w.userIds.length} users, markets ${w.markets.map((m) => m.name).join(' ')}; ` +
        `mix ${pct(e.passive)} passive limit, ${pct(e.cancels + e.staleCancels)} cancel (${count(e.staleCancels)} of them of filled orders), ` +
        `${pct(e.crossing)} crossing limit, ${pct(e.market)} market`,
      `${name}: Router (engine/router) on this thread, ${shards} shard worker${shards > 1 ? 's' : ''} (${assignment}), commands and replies over the ` +
        'SPSC rings through Router.submitLimit/submitMarket/submitCancel (a callback per market, the order id read from the reply record); ' +
        'events decoded by the router for router.onEvents and scanned for DEAL records; users funded through balance.update before timing; ' +
        'promise_api_* = the same closed loop through placeLimit/placeMarket/cancel (a promise and a decoded reply per command)',
      'method (shards): each run on a fresh router, after a warm-up of the same kind on copies of the markets (W-…, same shards); ' +
        `ops/s from a closed loop with up to ${count(WINDOW)} commands in flight; ` +
        `latency from an open loop on another router at ${OPEN_SHARE * 100}% of that rate: command i intended at t0 + i/rate, ` +
        'latency = reply time − intended time (HDR histogram, every command), so queueing counts; ' +
        'avg_batch = commands per shard batch (ShardLoop.stats at stop: funding, warm-up and run); ' +
        "a cancel names the id from its target's reply and, if that reply is still out, holds back its market until it arrives (cancel_waits); " +
        'checked: every command answered, deals, stale cancels, unique order ids, resting orders per market, conservation of every asset',
    ],
  };
}

/** Commands per batch over all shards, and per shard ("a/b"). */
function batchFigures(stats: readonly (ShardStats | null)[]): { avg: number; byShard: string } {
  let commands = 0;
  let batches = 0;
  const byShard: string[] = [];
  for (const s of stats) {
    if (s === null) continue;
    commands += s.commands;
    batches += s.batches;
    byShard.push((s.commands / Math.max(1, s.batches)).toFixed(1));
  }
  return { avg: commands / Math.max(1, batches), byShard: byShard.join('/') };
}

function countZeros(a: Float64Array): number {
  let zeros = 0;
  for (let k = 1; k < a.length; k++) if (a[k] === 0) zeros++;
  return zeros;
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
