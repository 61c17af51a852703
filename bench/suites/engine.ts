/**
 * Suite `engine`: the matching engine alone, one shard, in-process, integer API.
 *
 * Workloads, on the same seeded command stream (bench/gen/workload.ts):
 *  - `mixed`: our Engine, events handed on and reset every BATCH commands;
 *  - `peer-nodejs-order-book`: the same stream through nodejs-order-book (book-only peer).
 *
 * Each is warmed up on a prefix of the stream on a fresh engine/book, then measured on another
 * fresh one over the whole stream. The result is checked against what the generator's shadow book
 * expects (deals, stale cancels, ids, resting orders) and, for ours, conservation of every asset.
 */
import type { Histogram } from 'hdr-histogram-js';
import { createRequire } from 'node:module';
import { loadConfig } from '../../conf/load.js';
import { Engine } from '../../engine/engine.js';
import { generateWorkload, fundUsers, type Workload } from '../gen/workload.js';
import { BATCH, SAMPLE_EVERY, TIME0, checkConservation, restingOrders, runEngine, type DriverRun } from '../drivers/engine.js';
import { peerIds, runPeer } from '../drivers/nodejs-order-book.js';
import { clockOverheadNs, nanosHistogram, summarize } from '../lib/latency.js';
import type { Suite, SuiteOptions, WorkloadResult } from './types.js';

const DEFAULT_COMMANDS = 2_000_000;
const MIXED = 'mixed';
const PEER = 'peer-nodejs-order-book';

export const engineSuite: Suite = {
  name: 'engine',
  description: 'matching engine alone, one shard, in-process; the same stream through nodejs-order-book as the peer',
  workloads: [MIXED, PEER],
  run: (options) => Promise.resolve(runEngineSuite(options)),
};

type Config = ReturnType<typeof loadConfig>;

function runEngineSuite(options: SuiteOptions): WorkloadResult[] {
  const config = loadConfig();
  const commands = options.commands ?? DEFAULT_COMMANDS;
  const only = options.only ?? engineSuite.workloads;
  const unknown = only.filter((name) => !engineSuite.workloads.includes(name));
  if (unknown.length > 0) throw new Error(`suite engine has no workload ${unknown.join(', ')}`);
  const warmup = Math.min(commands, Math.max(100_000, Math.floor(commands / 4)));
  const log = options.log;

  log(`engine: generating ${count(commands)} commands (seed ${options.seed})`);
  const genStart = process.hrtime.bigint();
  const w = generateWorkload(config, { commands, seed: options.seed });
  const generateSeconds = Number(process.hrtime.bigint() - genStart) / 1e9;
  const e = w.expected;
  const pct = (n: number): string => `${((100 * n) / Math.max(1, commands)).toFixed(1)}%`;
  const common = [
    `workload: seed ${w.seed}, ${w.userIds.length} users, markets ${w.markets.map((m) => m.name).join(' ')}; ` +
      `mix ${pct(e.passive)} passive limit, ${pct(e.cancels + e.staleCancels)} cancel (${count(e.staleCancels)} of them of filled orders), ` +
      `${pct(e.crossing)} crossing limit, ${pct(e.market)} market; ${count(e.resting)} orders resting at the end (at most ${count(e.maxResting)} in one market)`,
    `method: warm-up over the first ${count(warmup)} commands on a fresh book, then the whole stream on another; ` +
      `latency = one command in ${SAMPLE_EVERY} timed alone with process.hrtime.bigint (includes ~${clockOverheadNs()} ns of clock reads)`,
  ];
  const extra = { seed: w.seed, users: w.userIds.length, markets: w.markets.length, generate_seconds: round(generateSeconds, 3) };

  const results: WorkloadResult[] = [];
  for (const name of engineSuite.workloads) {
    if (!only.includes(name)) continue;
    log(`engine: ${name} — warm-up (${count(warmup)} commands), then measuring`);
    results.push(name === MIXED ? measureOurs(config, w, warmup, extra, common) : measurePeer(w, warmup, extra, common));
  }
  return results;
}

/** `mixed`: our Engine. Checks deals, ids, stale cancels, resting orders and conservation against the generator. */
function measureOurs(config: Config, w: Workload, warmup: number, extra: Extra, common: string[]): WorkloadResult {
  const e = w.expected;
  runEngine(freshEngine(config, w).engine, w, warmup, nanosHistogram());
  const fresh = freshEngine(config, w);
  const latency = nanosHistogram();
  const run = runEngine(fresh.engine, w, w.commands, latency);
  const problems = [
    ...expect('deals', run.deals, e.deals),
    ...expect('deal ids handed out', fresh.engine.nextDealId - 1, e.deals),
    ...expect('cancels of filled orders (ORDER_NOT_FOUND)', run.notFound, e.staleCancels),
    ...expect('order ids handed out', fresh.engine.nextOrderId - 1, e.placed),
    ...expect('resting orders', restingOrders(fresh.engine, w), e.resting),
    ...checkConservation(fresh.engine, fresh.deposits),
  ];
  if (e.deals === 0 && w.commands >= 10_000) problems.push('the run made no deal');
  if (problems.length > 0) throw new Error(`engine/${MIXED}: result check failed:\n  ${problems.join('\n  ')}`);
  return result(MIXED, run, latency, { ...extra, batch: BATCH, stale_cancels: run.notFound, resting_orders: e.resting }, [
    ...common,
    `${MIXED}: our Engine, integer API; balances reserved, settled and fee-charged per deal in the shared balance table; ` +
      `event records written per command, handed on (scanned) and reset every ${BATCH} commands; ` +
      'checked: deals, order and deal ids, stale cancels, resting orders, conservation of every asset',
  ]);
}

/** `peer-nodejs-order-book`: the same stream through the peer. Checks deals and stale cancels against the generator. */
function measurePeer(w: Workload, warmup: number, extra: Extra, common: string[]): WorkloadResult {
  const e = w.expected;
  const ids = peerIds(w, w.commands);
  runPeer(w, warmup, ids, nanosHistogram());
  const latency = nanosHistogram();
  const run = runPeer(w, w.commands, ids, latency);
  const problems = [
    ...expect('deals', run.deals, e.deals),
    ...expect('cancels of filled orders (not found)', run.notFound, e.staleCancels),
  ];
  if (problems.length > 0) throw new Error(`engine/${PEER}: result check failed:\n  ${problems.join('\n  ')}`);
  return result(PEER, run, latency, { ...extra, stale_cancels: run.notFound, peer_version: peerVersion() }, [
    ...common,
    `${PEER}: nodejs-order-book ${peerVersion()}, one OrderBook per market; book work only — no balances (no reserve, ` +
      'settlement or fees) and no event records; market bids are sent as the lots ours filled (it cannot spend money); ' +
      'string ids built before the timed run; checked: deals, stale cancels',
  ]);
}

type Extra = Record<string, number | string | boolean>;

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function freshEngine(config: Config, w: Workload): { engine: Engine; deposits: bigint[] } {
  const engine = new Engine(config, { markets: w.markets.map((m) => m.index) });
  const deposits = fundUsers(engine, w, engine.specs.assets.length, TIME0 - 1);
  engine.events.reset();
  return { engine, deposits };
}

function peerVersion(): string {
  const pkg = createRequire(import.meta.url)('nodejs-order-book/package.json') as { version: string };
  return pkg.version;
}

function expect(what: string, got: number, expected: number): string[] {
  return got === expected ? [] : [`${what}: ${got}, expected ${expected}`];
}

function result(
  name: string, run: DriverRun, latency: Histogram, extra: Extra, notes: string[],
): WorkloadResult {
  const l = summarize(latency);
  latency.destroy();
  return {
    name,
    commands: run.commands,
    seconds: round(run.seconds, 4),
    ops_per_sec: Math.round(run.commands / run.seconds),
    deals: run.deals,
    deals_per_sec: Math.round(run.deals / run.seconds),
    cpu_seconds: round(run.cpuSeconds, 3),
    p50_us: l.p50_us,
    p99_us: l.p99_us,
    p999_us: l.p999_us,
    extra: { ...extra, max_us: l.max_us ?? 0, latency_samples: l.samples },
    notes,
  };
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}
