/**
 * Suite `load`: the whole exchange end to end, as clients see it.
 *
 * For each workload the suite starts the exchange as the operator does (`node dist/main.js
 * --config <tmp>`: bench/load/server.ts), funds the workload's users with balance.update over HTTP,
 * then forks the load generator (bench/load/generator.ts) as a process of its own, so that client
 * and server never share an event loop, and reads its report over IPC. It then checks the server's
 * books: conservation of every asset (asset.summary totals = the deposits) and the error codes.
 *
 * Workloads:
 *  - `http`: the standard workload (bench/gen/workload.ts: limit, market and cancel orders) as
 *    order.put_limit / order.put_market / order.cancel over N keep-alive connections, one request
 *    in flight each (never pipelined); a saturation phase (closed loop: requests/s) and an open
 *    loop at half that rate (latency from the intended send time, HDR, no coordinated omission);
 *  - `http-limit`: the same with order.put_limit alone — the stream's limit orders, passive and
 *    crossing; its cancels and market orders are passed over (the books grow through the run);
 *  - `ws`: the WebSocket API has no order placement methods (as in ViaBTC), so this measures what
 *    it offers: pipelined queries (order.query, asset.query, depth.query) in the same two phases,
 *    and the push fan-out (order.update, asset.update, depth.update to every user's session) while
 *    HTTP places the standard workload's orders at a fixed rate, with the order-to-push latency.
 */
import { fork } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../conf/load.js';
import type { Config } from '../../conf/schema.js';
import { formatUnits } from '../../engine/money/decimal.js';
import { generateWorkload, type Workload } from '../gen/workload.js';
import type { ServerCpu } from '../load/cpu.js';
import type { GeneratorMessage, LoadJob, LoadReport, PhaseCpu } from '../load/generator.js';
import type { HttpPhase } from '../load/http-load.js';
import { openConnections, postOnce, type HttpConnection } from '../load/http-client.js';
import { checkEnvelope } from '../load/protocol.js';
import { HOST, startServer, type RunningServer } from '../load/server.js';
import type { WsPhase } from '../load/ws-load.js';
import type { WsOrderPhase } from '../load/ws-orders.js';
import type { Suite, SuiteOptions, WorkloadResult } from './types.js';

const HTTP = 'http';
const HTTP_LIMIT = 'http-limit';
const WS = 'ws';
const WS_BINARY = 'ws-binary';
type LoadWorkload = typeof HTTP | typeof HTTP_LIMIT | typeof WS | typeof WS_BINARY;
/** Workloads of HTTP order entry alone (no WebSocket). */
const isHttp = (name: LoadWorkload): name is typeof HTTP | typeof HTTP_LIMIT => name === HTTP || name === HTTP_LIMIT;
const DEFAULT_COMMANDS = 3_000_000;
/**
 * Workloads ws, ws-binary: stream commands per second of order entry the default stream is sized
 * for (ws-binary reached ~495 k orders/s here: a smaller stream ran out before the open loop).
 */
const ORDER_STREAM_PER_SECOND = 500_000;
const DEFAULT_SECONDS = 10;
const MAX_WARMUP_SECONDS = 3;
const DEFAULT_HTTP_CONNECTIONS = 128;
/** Workloads ws, ws-binary: order-entry sessions, orders in flight per session, most orders per frame (batch, binary). */
const DEFAULT_WS_ORDER_SESSIONS = 8;
const WS_ORDER_PIPELINE = 512;
const WS_FRAME_ORDERS = 64;
const WS_QUERY_SESSIONS = 32;
/** WebSocket requests in flight per querying session. */
const WS_PIPELINE = 16;
/** Workload ws: the HTTP order flow behind the pushes (orders/s, open loop) and its connections. */
const WS_ORDER_RATE = 2_000;
const WS_ORDER_CONNECTIONS = 32;
/** Protocol errors a correct exchange gives under this workload (see bench/load/protocol.ts). */
const EXPECTED_ERRORS = new Set(['order.cancel 10', 'order.put_market 11', 'order.put_market 12']);
const GENERATOR = fileURLToPath(new URL('../load/generator.js', import.meta.url));

export const loadSuite: Suite = {
  name: 'load',
  description: 'the exchange end to end (node dist/main.js) driven by a load generator process over HTTP keep-alive and WebSocket',
  workloads: [HTTP, HTTP_LIMIT, WS, WS_BINARY],
  run: runLoadSuite,
};

type Extra = Record<string, number | string | boolean>;

/** How a workload was run (for the notes and extras). */
interface RunInfo {
  readonly connections: number;
  readonly shards: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly durability: 'fsync' | 'none';
  /** Size of the server's data directory after the run. */
  readonly journalBytes: number;
  /** Median fdatasync of a 4 KiB append in the server's data directory, µs. */
  readonly fsyncUs: number;
}

/** Workload ws's order-entry framing: LOAD_WS_ENCODING=batch for JSON arrays of requests (default json: one request per frame). */
function wsEncoding(): 'json' | 'batch' {
  const value = process.env.LOAD_WS_ENCODING ?? 'json';
  if (value !== 'json' && value !== 'batch') throw new Error(`LOAD_WS_ENCODING must be json or batch, got "${value}"`);
  return value;
}

/** journal.durability of the server: LOAD_DURABILITY=none to measure without fsync (default fsync). */
function journalDurability(): 'fsync' | 'none' {
  const value = process.env.LOAD_DURABILITY ?? 'fsync';
  if (value !== 'fsync' && value !== 'none') throw new Error(`LOAD_DURABILITY must be fsync or none, got "${value}"`);
  return value;
}

/** Median time of appending 4 KiB and fdatasync-ing it, in the directory the journal lives in (the disk's commit cost). */
function fdatasyncMicros(dir: string): number {
  const path = join(dir, 'fsync-probe');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push((performance.now() - t0) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  times.sort((a, b) => a - b);
  return Math.round(times[times.length >> 1]!);
}

async function runLoadSuite(options: SuiteOptions): Promise<WorkloadResult[]> {
  const only = options.only ?? loadSuite.workloads;
  const results: WorkloadResult[] = [];
  for (const name of loadSuite.workloads) {
    if (!only.includes(name)) continue;
    results.push(await runWorkload(name as LoadWorkload, options));
  }
  return results;
}

interface Funding {
  readonly userIds: readonly number[];
  /** Per funded asset: its name, the decimal each user gets (at prec_show) and the total in units (prec_save). */
  readonly assets: readonly { readonly name: string; readonly shown: string; readonly totalUnits: bigint; readonly precSave: number }[];
}

/** The workload's users and what balance.update must credit each (its funding, rounded down to prec_show). */
function funding(config: Readonly<Config>, seed: number): Funding {
  const w: Workload = generateWorkload(config, { commands: 0, seed });
  const assets = config.assets;
  const userIds = [...w.userIds];
  return {
    userIds,
    assets: w.funding.map(({ asset, unitsPerUser }) => {
      const a = assets[asset]!;
      const show = a.prec_show ?? a.prec_save;
      const step = 10n ** BigInt(a.prec_save - show);
      const units = (unitsPerUser / step) * step;
      return { name: a.name, shown: formatUnits(units / step, show), totalUnits: units * BigInt(userIds.length), precSave: a.prec_save };
    }),
  };
}

function tokenOf(user: number): string {
  return `bench-load-user-${String(user).padStart(10, '0')}`;
}

async function rpc(connection: HttpConnection, id: number, method: string, params: readonly unknown[]): Promise<unknown> {
  const reply = await postOnce(connection, JSON.stringify({ id, method, params }));
  if (reply.status !== 200) throw new Error(`${method}: HTTP ${reply.status}`);
  const { error, result } = checkEnvelope(reply.body, id);
  if (error !== null) throw new Error(`${method} ${JSON.stringify(params)}: error ${error.code} ${error.message}`);
  return result;
}

/** Deposits every user's funding with balance.update over a few connections. */
async function fund(server: RunningServer, f: Funding, log: (line: string) => void): Promise<void> {
  const jobs: [number, string, string][] = [];
  for (const user of f.userIds) for (const a of f.assets) jobs.push([user, a.name, a.shown]);
  log(`load: funding ${f.userIds.length} users with ${f.assets.map((a) => `${a.shown} ${a.name}`).join(', ')} each (${jobs.length} balance.update over HTTP)`);
  const connections = await openConnections(HOST, server.httpPort, 16);
  let next = 0;
  try {
    await Promise.all(connections.map(async (c) => {
      while (next < jobs.length) {
        const k = next++;
        const [user, asset, amount] = jobs[k]!;
        const result = (await rpc(c, k + 1, 'balance.update', [user, asset, 'deposit', k + 1, amount, {}])) as { status?: unknown };
        if (result.status !== 'success') throw new Error(`balance.update for user ${user}: ${JSON.stringify(result)}`);
      }
    }));
  } finally {
    for (const c of connections) c.close();
  }
}

interface BookState {
  /** Problems with conservation: empty when every asset's total equals the deposits. */
  readonly conservation: string[];
  readonly resting: number;
}

async function inspect(server: RunningServer, f: Funding): Promise<BookState> {
  const [c] = await openConnections(HOST, server.httpPort, 1);
  try {
    const summary = (await rpc(c!, 1, 'asset.summary', f.assets.map((a) => a.name))) as { name: string; total_balance: string; available_balance: string; freeze_balance: string }[];
    const problems: string[] = [];
    for (const a of f.assets) {
      const s = summary.find((x) => x.name === a.name);
      const expected = formatUnits(a.totalUnits, a.precSave);
      if (s === undefined) problems.push(`asset.summary has no ${a.name}`);
      else if (s.total_balance !== expected) problems.push(`${a.name}: total_balance ${s.total_balance}, deposited ${expected}`);
    }
    const markets = (await rpc(c!, 2, 'market.summary', [])) as { ask_count: number; bid_count: number }[];
    return { conservation: problems, resting: markets.reduce((n, m) => n + m.ask_count + m.bid_count, 0) };
  } finally {
    c!.close();
  }
}

/**
 * Runs the generator process on one job; resolves with its report. Kills it if it overruns.
 * LOAD_GENERATOR_NODE_ARGS (environment) adds node options, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
function runGenerator(job: LoadJob, timeoutMs: number): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const execArgv = (process.env.LOAD_GENERATOR_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = fork(GENERATOR, [], { execArgv, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(chunk)); // stdout is for the suite's results only
    let answer: GeneratorMessage | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the load generator did not finish within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    child.on('message', (message: GeneratorMessage) => {
      answer = message;
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const a = answer;
      if (a?.kind === 'report') resolve(a.report);
      else if (a?.kind === 'error') reject(new Error(`the load generator failed: ${a.message}`));
      else reject(new Error(`the load generator exited (code ${code}, signal ${signal}) without a report`));
    });
    child.send(job);
  });
}

async function runWorkload(name: LoadWorkload, options: SuiteOptions): Promise<WorkloadResult> {
  const { log, seed } = options;
  const shards = options.shards ?? 1;
  const seconds = options.seconds ?? DEFAULT_SECONDS;
  const warmupSeconds = Math.min(MAX_WARMUP_SECONDS, seconds);
  const phaseSeconds = warmupSeconds + 2 * seconds;
  // Workload ws also needs the fixed-rate HTTP order flow behind its pushes.
  const commands = options.commands ?? (isHttp(name) ? DEFAULT_COMMANDS
    : ORDER_STREAM_PER_SECOND * phaseSeconds + (name === WS ? Math.ceil(WS_ORDER_RATE * phaseSeconds * 1.5) + 10_000 : 0));
  const connections = options.connections ?? (isHttp(name) ? DEFAULT_HTTP_CONNECTIONS : DEFAULT_WS_ORDER_SESSIONS);
  const f = funding(loadConfig(), seed);
  const tokens = isHttp(name) ? [] : f.userIds.map((user) => ({ token: tokenOf(user), user }));
  if (!isHttp(name) && connections > tokens.length) throw new Error(`load/${name}: at most ${tokens.length} order-entry sessions (one per user)`);
  const encoding = name === WS_BINARY ? 'binary' : wsEncoding();

  log(`load: ${name} — starting the exchange (node dist/main.js, ${shards} shard${shards === 1 ? '' : 's'})`);
  const durability = journalDurability();
  const server = await startServer({ shards, durability, tokens: Object.fromEntries(tokens.map((t) => [t.token, t.user])), log });
  let report: LoadReport;
  let book: BookState;
  let journalBytes = 0;
  let fsyncUs = 0;
  try {
    fsyncUs = fdatasyncMicros(join(server.dataDir, '..')); // the same file system as the journal
    await fund(server, f, log);
    const before = await inspect(server, f);
    if (before.conservation.length > 0) throw new Error(`load/${name}: funding check failed:\n  ${before.conservation.join('\n  ')}`);
    log(`load: ${name} — generator process: ${count(commands)} commands (seed ${seed}), warm-up ${warmupSeconds} s, ` +
      `saturation ${seconds} s, open loop ${seconds} s${options.rate === undefined ? ' at half the peak' : ` at ${count(options.rate)}/s`}`);
    const job: LoadJob = {
      workload: name, configPath: server.configPath, host: HOST, httpPort: server.httpPort, wsPort: server.wsPort,
      serverPid: server.pid, shards, seed, commands, seconds, warmupSeconds, connections, rate: options.rate ?? null,
      orderEncoding: encoding, orderPipeline: WS_ORDER_PIPELINE, frameOrders: WS_FRAME_ORDERS,
      querySessions: WS_QUERY_SESSIONS, pipeline: WS_PIPELINE, orderRate: WS_ORDER_RATE, orderConnections: WS_ORDER_CONNECTIONS, tokens,
    };
    const timeoutMs = (name === WS ? 2 * phaseSeconds : phaseSeconds) * 1000 + 180_000;
    report = await runGenerator(job, timeoutMs);
    if (server.exitCode() !== undefined) throw new Error(`the exchange exited during the run:\n${server.recentOutput()}`);
    book = await inspect(server, f);
    journalBytes = server.dataBytes();
  } finally {
    const code = await server.stop();
    if (code !== 0 && code !== null) log(`load: the exchange exited with code ${code}`);
  }
  const run: RunInfo = { connections, shards, seconds, warmupSeconds, durability, journalBytes, fsyncUs };
  return isHttp(name) ? httpResult(name, report, book, run) : wsResult(name, report, book, run);
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** The protocol errors of some phases, summed by "method code". */
function errorsOf(phases: readonly { errors: Record<string, number> }[]): Map<string, number> {
  const all = new Map<string, number>();
  for (const p of phases) for (const [key, n] of Object.entries(p.errors)) all.set(key, (all.get(key) ?? 0) + n);
  return all;
}

function errorExtras(prefix: string, errors: Map<string, number>): Extra {
  const extra: Extra = {};
  for (const [key, n] of errors) extra[`${prefix}errors_${key.replace(/[. ]/g, '_')}`] = n;
  return extra;
}

function cpuExtras(prefix: string, cpu: PhaseCpu): Extra {
  const s: ServerCpu | null = cpu.server;
  return {
    [`${prefix}client_cpu_s`]: cpu.client,
    [`${prefix}client_loop_delay_p99_us`]: cpu.clientLoopDelay.p99_us,
    [`${prefix}client_loop_delay_max_us`]: cpu.clientLoopDelay.max_us,
    ...(s === null ? {} : {
      [`${prefix}server_cpu_s`]: s.total, [`${prefix}server_main_cpu_s`]: s.main,
      [`${prefix}server_shards_cpu_s`]: s.shards, [`${prefix}server_other_cpu_s`]: s.other,
    }),
  };
}

function cpuNote(label: string, p: { seconds: number; cpu: PhaseCpu }): string {
  const s = p.cpu.server;
  const pct = (x: number): string => `${Math.round((100 * x) / p.seconds)}%`;
  const server = s === null ? 'server CPU not readable (/proc)' :
    `server ${pct(s.total)} of one core (main thread: HTTP/WS gateways + router ${pct(s.main)}, shard worker${s.shards === 1 ? '' : 's'} ${pct(s.shards)}, GC/other threads ${pct(s.other)})`;
  const delay = p.cpu.clientLoopDelay;
  return `${label} CPU: ${server}; load generator ${pct(p.cpu.client)} (2 cores = 200%), ` +
    `its event-loop delay p99 ${(delay.p99_us / 1000).toFixed(1)} ms, max ${(delay.max_us / 1000).toFixed(1)} ms (1 ms timer: ~1 ms = never blocked)`;
}

/** An open loop that ended more than 1 % (and 100 requests) behind its schedule did not sustain its rate. */
function behind(p: { backlog: number; sent: number }): boolean {
  return p.backlog > Math.max(100, 0.01 * p.sent);
}

function checkCommon(name: string, report: LoadReport, book: BookState, errors: Map<string, number>, allowed: ReadonlySet<string>): void {
  const problems = [...book.conservation];
  for (const [key, n] of errors) if (!allowed.has(key)) problems.push(`${n} unexpected protocol errors "${key}"`);
  if (report.missingPushes > 0) problems.push(`${report.missingPushes} orders placed got no order.update push`);
  if (problems.length > 0) throw new Error(`load/${name}: result check failed:\n  ${problems.join('\n  ')}`);
}

function latencyExtras(prefix: string, l: { p50_us: number | null; p99_us: number | null; p999_us: number | null; max_us: number | null }): Extra {
  return { [`${prefix}p50_us`]: l.p50_us ?? 0, [`${prefix}p99_us`]: l.p99_us ?? 0, [`${prefix}p999_us`]: l.p999_us ?? 0, [`${prefix}max_us`]: l.max_us ?? 0 };
}

function phase<T extends { name: string }>(phases: readonly T[], name: string): T {
  const p = phases.find((x) => x.name === name);
  if (p === undefined) throw new Error(`the generator reported no ${name} phase`);
  return p;
}

const WORKLOAD_NOTE =
  'workload: the standard mixed stream (bench/gen/workload.ts: 1,000 users, BTCBCH/LTCBCH/ETHBCH, ~60% passive limit, ~25% cancel, ~10% crossing limit, ~5% market), ' +
  'lots/ticks sent as decimal strings at each market\'s precisions; the books carry over from phase to phase';

function commonNotes(report: LoadReport, { shards, seconds, warmupSeconds, durability, journalBytes, fsyncUs }: RunInfo): string[] {
  return [
    `server: node dist/main.js --config <tmp> --data-dir <tmp> (${shards} shard${shards === 1 ? '' : 's'}): embedded defaults, HTTP and WS on 127.0.0.1 at free ports, ` +
      'balance.update from loopback only (the default), ws.max_requests_per_second 1,000,000, ws.max_backpressure_bytes 64 MiB; ' +
      `journal on, durability ${durability}${durability === 'fsync' ? ' (a reply leaves once its epoch is fdatasync\'d: epoch group commit)' : ' (no fsync)'}, ` +
      `in ${tmpdir()} (median 4 KiB append + fdatasync there: ${fsyncUs} µs); ${(journalBytes / 2 ** 20).toFixed(1)} MiB journaled`,
    `method: generator in its own process (node bench/load/generator.js); per workload a fresh server; phases: warm-up ${warmupSeconds} s (closed loop), saturation ${seconds} s (closed loop), open loop ${seconds} s; ` +
      'open loop = request k intended at t0 + k/rate, latency = reply − intended (HDR, 3 digits, no coordinated omission); ' +
      `${count(report.position)} commands of the stream used; checked: every reply and push well-formed, error codes, conservation of every asset (asset.summary = deposits)`,
    'cpu s = server + generator CPU during the saturation phase (both processes share the 2 cores); ' +
      'server threads from /proc: main thread, the busiest other thread(s) = shard worker(s), the rest = GC/compiler/libuv',
  ];
}

function httpResult(name: typeof HTTP | typeof HTTP_LIMIT, report: LoadReport, book: BookState, run: RunInfo): WorkloadResult {
  const { connections, shards } = run;
  const sat = phase(report.http, 'saturation');
  const open = phase(report.http, 'open-loop');
  const errors = errorsOf(report.http);
  checkCommon(name, report, book, errors, EXPECTED_ERRORS);
  const opsPerSec = sat.replies / sat.seconds;
  const putLimitShare = (sat.byMethod['order.put_limit'] ?? 0) / Math.max(1, Object.values(sat.byMethod).reduce((a, b) => a + b, 0));
  const filtered = report.http.reduce((n, p) => n + p.filtered, 0);
  const notes = [
    WORKLOAD_NOTE,
    ...(name === HTTP_LIMIT ? [
      `http-limit: order.put_limit alone — the stream's limit orders in stream order, passive and crossing (${count(sat.traded)} of ${count(sat.replies)} saturation replies traded at once); ` +
        `its cancels and market orders are passed over (${count(filtered)} commands), so the books grow through the run (${count(book.resting)} orders resting at the end)`,
    ] : []),
    `${name}: ${connections} keep-alive connections, one request in flight each (never pipelined: uWS closes a connection that sends while an async answer is pending); ` +
      'client: a minimal HTTP/1.1 client over node:net (bench/load/http-client.ts; node:http or undici would cost the shared cores more per request); ' +
      `ops/s = replies/s of the saturation phase (${Math.round(100 * putLimitShare)}% order.put_limit${putLimitShare < 1 ? ', the rest cancel and put_market' : ''}); ` +
      `latency = the open loop at ${count(open.rate ?? 0)} requests/s`,
    ...commonNotes(report, run),
    'deals: not counted (0) — the API has no deal counter until market.deals/order.deals are served; see traded_orders (place replies with deal_stock > 0)',
    cpuNote('saturation', sat),
    cpuNote('open loop', open),
  ];
  if (behind(open)) notes.push(`warning: the open loop fell ${count(open.backlog)} requests behind its schedule: the rate was not sustained`);
  if (sat.exhausted || open.exhausted) notes.push('warning: the command stream ran out before a phase ended; use a larger --commands');
  return {
    name,
    commands: sat.replies,
    seconds: round(sat.seconds, 3),
    ops_per_sec: Math.round(opsPerSec),
    deals: 0,
    deals_per_sec: 0,
    cpu_seconds: round(sat.cpu.client + (sat.cpu.server?.total ?? 0), 2),
    p50_us: open.latency.p50_us,
    p99_us: open.latency.p99_us,
    p999_us: open.latency.p999_us,
    extra: {
      shards,
      connections,
      journal: run.durability,
      journal_mib: round(run.journalBytes / 2 ** 20, 1),
      fdatasync_us: run.fsyncUs,
      ...orderPhaseExtras(sat, open, errors),
      ...(name === HTTP_LIMIT ? { filtered_commands: filtered } : {}),
      resting_orders: book.resting,
      commands_used: report.position,
      generate_seconds: report.generateSeconds,
      ...cpuExtras('', sat.cpu),
      ...cpuExtras('open_', open.cpu),
      client: 'node:net HTTP/1.1 keep-alive, 1 in flight per connection',
    },
    notes,
  };
}

/** The order phases' figures both order-entry workloads report (HTTP and WebSocket): saturation, then the open loop. */
function orderPhaseExtras(sat: HttpPhase | WsOrderPhase, open: HttpPhase | WsOrderPhase, errors: Map<string, number>): Extra {
  return {
    phase_seconds: round(sat.seconds, 3),
    put_limit_per_sec: Math.round((sat.byMethod['order.put_limit'] ?? 0) / sat.seconds),
    ...latencyExtras('saturation_', sat.latency),
    ...latencyExtras('open_send_lag_', open.sendLag),
    ...latencyExtras('open_round_trip_', open.roundTrip),
    open_rate: open.rate ?? 0,
    open_achieved_per_sec: Math.round(open.replies / open.seconds),
    open_backlog: open.backlog,
    max_us: open.latency.max_us ?? 0,
    latency_samples: open.latency.samples,
    errors: [...errors.values()].reduce((a, b) => a + b, 0),
    ...errorExtras('', errors),
    skipped_cancels: sat.skippedCancels + open.skippedCancels,
    traded_orders: sat.traded + open.traded,
  };
}

function pushRates(p: WsPhase): Extra {
  const extra: Extra = {};
  for (const [method, n] of Object.entries(p.pushes)) extra[`${method.replace('.', '_')}_per_sec`] = Math.round(n / p.seconds);
  return extra;
}

/** Place and cancel replies that succeeded, over some phases. */
function succeeded(phases: readonly HttpPhase[]): { places: number; cancels: number } {
  let places = 0;
  let cancels = 0;
  for (const p of phases) {
    for (const [method, n] of Object.entries(p.byMethod)) {
      const failed = Object.entries(p.errors).filter(([key]) => key.startsWith(`${method} `)).reduce((a, [, k]) => a + k, 0);
      if (method === 'order.cancel') cancels += n - failed;
      else places += n - failed;
    }
  }
  return { places, cancels };
}

/** Order entry over WebSocket (workloads ws, ws-binary): the headline figures, notes and extras. */
function orderEntryResult(name: LoadWorkload, report: LoadReport, run: RunInfo): { result: Omit<WorkloadResult, 'notes' | 'extra'>; notes: string[]; extra: Extra; errors: Map<string, number> } {
  const sat = phase(report.orders, 'saturation');
  const open = phase(report.orders, 'open-loop');
  const errors = errorsOf(report.orders);
  const encoding = name === WS_BINARY ? 'binary' : wsEncoding();
  const framing = encoding === 'json' ? 'one JSON request per WebSocket frame (many frames per TCP write)'
    : encoding === 'batch' ? `JSON batches (an array of up to ${WS_FRAME_ORDERS} requests per frame, answered by one array)`
      : `binary frames of up to ${WS_FRAME_ORDERS} 72-byte records (gateway/ws/binary.ts), answered by 104-byte reply records`;
  const perFrame = (p: WsOrderPhase): number => round(p.sent / Math.max(1, p.frames), 1);
  const notes = [
    `${name}: order entry over WebSocket (our extension: order.put_limit / order.put_market / order.cancel on an authenticated session) — ` +
      `${run.connections} sessions, each server.auth'd as one user (command i goes to session user mod ${run.connections}, placed as that session's user, so an order and its cancels share a session), ` +
      `${WS_ORDER_PIPELINE} orders in flight per session, ${framing}; ops/s = orders answered per second in the saturation phase (closed loop: every session keeps its pipeline full; ` +
      `${perFrame(sat)} orders per frame on average); latency = the open loop at ${count(open.rate ?? 0)} orders/s (order k intended at t0 + k/rate, sent at the next flush of its session, ${perFrame(open)} orders per frame), from the intended time`,
  ];
  const extra: Extra = {
    encoding,
    order_sessions: report.orderSessions,
    order_pipeline: WS_ORDER_PIPELINE,
    frame_orders: WS_FRAME_ORDERS,
    orders_per_frame: perFrame(sat),
    open_orders_per_frame: perFrame(open),
    ...orderPhaseExtras(sat, open, errors),
    ...cpuExtras('', sat.cpu),
    ...cpuExtras('open_', open.cpu),
  };
  notes.push(cpuNote('saturation', sat), cpuNote('open loop', open));
  if (behind(open)) notes.push(`warning: the open loop fell ${count(open.backlog)} orders behind its schedule: the rate was not sustained`);
  if (sat.exhausted || open.exhausted) notes.push('warning: the command stream ran out before a phase ended; use a larger --commands');
  return {
    result: {
      name,
      commands: sat.replies,
      seconds: round(sat.seconds, 3),
      ops_per_sec: Math.round(sat.replies / sat.seconds),
      deals: 0,
      deals_per_sec: 0,
      cpu_seconds: round(sat.cpu.client + (sat.cpu.server?.total ?? 0), 2),
      p50_us: open.latency.p50_us,
      p99_us: open.latency.p99_us,
      p999_us: open.latency.p999_us,
    },
    notes,
    extra,
    errors,
  };
}

function wsResult(name: LoadWorkload, report: LoadReport, book: BookState, run: RunInfo): WorkloadResult {
  const entry = orderEntryResult(name, report, run);
  const common = {
    shards: run.shards,
    connections: run.connections,
    journal: run.durability,
    journal_mib: round(run.journalBytes / 2 ** 20, 1),
    fdatasync_us: run.fsyncUs,
    resting_orders: book.resting,
    commands_used: report.position,
    generate_seconds: report.generateSeconds,
  };
  const dealsNote = 'deals: not counted (0) — the API has no deal counter until market.deals/order.deals are served; see traded_orders (place replies with deal_stock > 0)';
  if (name === WS_BINARY) {
    checkCommon(name, report, book, entry.errors, EXPECTED_ERRORS);
    return { ...entry.result, extra: { ...common, ...entry.extra }, notes: [WORKLOAD_NOTE, ...entry.notes, ...commonNotes(report, run), dealsNote] };
  }
  const sat = phase(report.ws, 'saturation');
  const open = phase(report.ws, 'open-loop');
  const orders = [phase(report.http, 'saturation'), phase(report.http, 'open-loop')] as const;
  // Every order event of every user reaches exactly one session: one per place, one per cancel, one per deal (the maker's).
  const ok = succeeded(report.http);
  const deals = report.orderPushes - ok.places - ok.cancels;
  const orderSeconds = report.http.reduce((a, p) => a + p.seconds, 0);
  if (deals < 0) throw new Error(`load/ws: result check failed: ${report.orderPushes} order.update pushes for ${ok.places} orders placed and ${ok.cancels} cancelled`);
  const wsErrors = errorsOf(report.ws);
  const orderErrors = errorsOf(orders);
  checkCommon(WS, report, book, entry.errors, EXPECTED_ERRORS);
  checkCommon(WS, report, book, new Map([...wsErrors].map(([k, n]) => [`ws ${k}`, n])), new Set());
  checkCommon(WS, report, book, orderErrors, EXPECTED_ERRORS);
  const pushesPerSec = (p: WsPhase): number => Object.values(p.pushes).reduce((a, b) => a + b, 0) / p.seconds;
  const notes = [
    WORKLOAD_NOTE,
    ...entry.notes,
    `then, with the order-entry sessions closed, what ViaBTC's accessws offers (extras query_* and push_*): pipelined queries from ${WS_QUERY_SESSIONS} sessions, ${WS_PIPELINE} in flight each, cycling order.query [market,0,10], asset.query [], depth.query [market,10,"0"] ` +
      `(query_ops_per_sec = WS replies/s of a saturation phase; query latency = an open loop at ${count(open.rate ?? 0)} requests/s), ` +
      `and the push fan-out: ${count(report.wsSessions)} sessions, one per user (server.auth), each following order.update + asset.update for every market/asset and depth.update [market,20,"0"] of one market, ` +
      `while HTTP places the standard workload at ${count(WS_ORDER_RATE)} orders/s (open loop, ${WS_ORDER_CONNECTIONS} connections); ` +
      'order-to-push latency = arrival of an order\'s own order.update (PUT or FINISH) − its intended HTTP send time',
    ...commonNotes(report, run),
    dealsNote + `; push_deals = the deals of the HTTP order flow behind the pushes (${orderSeconds.toFixed(1)} s, warm-up included): ` +
      'order.update pushes − successful places − successful cancels (every user follows every market, and each deal sends exactly one maker event)',
    cpuNote('query saturation', sat),
    cpuNote('query open loop', open),
  ];
  if (behind(open)) notes.push(`warning: the query open loop fell ${count(open.backlog)} requests behind its schedule: the rate was not sustained`);
  for (const o of orders) if (behind(o)) notes.push(`warning: the HTTP order flow fell ${count(o.backlog)} orders behind in the ${o.name} phase`);
  return {
    ...entry.result,
    extra: {
      ...common,
      ...entry.extra,
      query_sessions: WS_QUERY_SESSIONS,
      query_pipeline: WS_PIPELINE,
      ws_sessions: report.wsSessions,
      query_ops_per_sec: Math.round(sat.replies / sat.seconds),
      ...latencyExtras('query_', open.latency),
      ...latencyExtras('query_saturation_', sat.latency),
      query_open_rate: open.rate ?? 0,
      query_open_achieved_per_sec: Math.round(open.replies / open.seconds),
      query_open_backlog: open.backlog,
      query_errors: [...wsErrors.values()].reduce((a, b) => a + b, 0),
      ...errorExtras('query_', wsErrors),
      pushes_per_sec: Math.round(pushesPerSec(sat)),
      ...pushRates(sat),
      open_pushes_per_sec: Math.round(pushesPerSec(open)),
      ...latencyExtras('push_', open.pushLatency),
      ...latencyExtras('saturation_push_', sat.pushLatency),
      missing_pushes: report.missingPushes,
      push_deals: deals,
      push_deals_per_sec: Math.round(deals / orderSeconds),
      order_rate: WS_ORDER_RATE,
      order_update_pushes: report.orderPushes,
      orders_placed: ok.places,
      orders_cancelled: ok.cancels,
      orders_per_sec: Math.round((orders[0].replies + orders[1].replies) / (orders[0].seconds + orders[1].seconds)),
      ...errorExtras('order_', orderErrors),
      push_flow_traded_orders: orders[0].traded + orders[1].traded,
      ...cpuExtras('query_', sat.cpu),
      ...cpuExtras('query_open_', open.cpu),
    },
    notes,
  };
}
