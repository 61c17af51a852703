/**
 * The load generator: its own process (forked by bench/suites/load.ts with an IPC channel), so that
 * client and server never share an event loop. It receives one LoadJob, regenerates the seeded
 * standard workload from the same config file the server runs on, drives the phases, writes a
 * progress line to stderr, and answers with one LoadReport (or an error) over IPC, then exits.
 *
 * Phases (each bounded by its seconds): warm-up (closed loop, `warmupSeconds`), saturation (closed
 * loop: the peak), open loop at `rate` or half the peak (latency from the intended send time).
 * Around every phase it reads the server's CPU time by thread (/proc) and its own.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { loadConfig } from '../../conf/load.js';
import { generateWorkload, type Workload } from '../gen/workload.js';
import type { LatencySummary } from '../lib/latency.js';
import { ownCpuSeconds, readThreadTimes, serverCpuBetween, type ServerCpu } from './cpu.js';
import { openConnections } from './http-client.js';
import { HttpLoad, type HttpPhase } from './http-load.js';
import { Progress, count } from './progress.js';
import { RequestFormatter } from './protocol.js';
import { WsLoad, type WsPhase } from './ws-load.js';
import { WsOrderLoad, type OrderEncoding, type WsOrderPhase } from './ws-orders.js';

// Scavenges without V8's parallel helper threads: on a 2-core machine shared with the server they
// wait for a core, and every scavenge pause of this thread delays sends and reply reads, which the
// open loop measures as the server's latency (here: scavenges of ~1.4-2.3 ms with helpers).
setFlagsFromString('--no-parallel-scavenge');

export type LoadWorkload = 'http' | 'http-limit' | 'ws' | 'ws-binary';

export interface LoadJob {
  readonly workload: LoadWorkload;
  readonly configPath: string;
  readonly host: string;
  readonly httpPort: number;
  readonly wsPort: number;
  readonly serverPid: number;
  readonly shards: number;
  readonly seed: number;
  readonly commands: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** HTTP keep-alive connections (workload http), or WebSocket order-entry sessions (workloads ws, ws-binary). */
  readonly connections: number;
  /** Open-loop rate; null = half the saturation phase's rate. */
  readonly rate: number | null;
  /** Workloads ws, ws-binary: order entry's encoding, orders in flight per session, most orders per frame (batch, binary). */
  readonly orderEncoding: OrderEncoding;
  readonly orderPipeline: number;
  readonly frameOrders: number;
  /** Workload ws, after order entry: querying sessions and their requests in flight, the HTTP order rate and connections behind the pushes, the server.auth tokens by user. */
  readonly querySessions: number;
  readonly pipeline: number;
  readonly orderRate: number;
  readonly orderConnections: number;
  readonly tokens: readonly { readonly token: string; readonly user: number }[];
}

export interface PhaseCpu {
  /** CPU seconds of the generator process during the phase. */
  readonly client: number;
  readonly server: ServerCpu | null;
  /**
   * The generator's own event-loop delay during the phase (perf_hooks, 1 ms timer resolution: a
   * loop that is never blocked reads ~1 ms), in µs: how late it may have read replies and pushes.
   */
  readonly clientLoopDelay: { readonly p99_us: number; readonly max_us: number };
}

export interface LoadReport {
  readonly workload: LoadWorkload;
  readonly generateSeconds: number;
  /** Workloads ws, ws-binary: the order-entry phases. */
  readonly orders: readonly (WsOrderPhase & { cpu: PhaseCpu })[];
  readonly orderSessions: number;
  /** Commands of the stream used (sent or skipped) over all phases. */
  readonly position: number;
  readonly http: readonly (HttpPhase & { cpu: PhaseCpu })[];
  readonly ws: readonly (WsPhase & { cpu: PhaseCpu; pushLatency: LatencySummary })[];
  readonly wsSessions: number;
  readonly missingPushes: number;
  /** Workload ws: order.update pushes received over the whole run (every order event of every user). */
  readonly orderPushes: number;
}

export type GeneratorMessage = { readonly kind: 'report'; readonly report: LoadReport } | { readonly kind: 'error'; readonly message: string };

async function measured<T>(job: LoadJob, f: () => Promise<T>): Promise<T & { cpu: PhaseCpu }> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const server0 = readThreadTimes(job.serverPid);
  const client0 = ownCpuSeconds();
  const result = await f();
  const client = Math.round((ownCpuSeconds() - client0) * 100) / 100;
  const server = serverCpuBetween(job.serverPid, job.shards, server0, readThreadTimes(job.serverPid));
  loop.disable();
  const clientLoopDelay = { p99_us: Math.round(loop.percentile(99) / 1000), max_us: Math.round(loop.max / 1000) };
  return { ...result, cpu: { client, server, clientLoopDelay } };
}

function summaryLine(kind: string, p: { name: string; replies: number; seconds: number; latency: { p50_us: number | null; p99_us: number | null } }, unit = 'req/s'): string {
  const us = (x: number | null): string => (x === null ? '—' : x.toFixed(0));
  return `load ${kind} ${p.name}: ${count(p.replies / p.seconds)} ${unit} over ${p.seconds.toFixed(1)} s, p50 ${us(p.latency.p50_us)} µs, p99 ${us(p.latency.p99_us)} µs`;
}

/** Workloads ws, ws-binary: order entry over WebSocket — warm-up, saturation, open loop — then the sessions are closed. */
async function orderEntry(job: LoadJob, fmt: RequestFormatter, progress: Progress): Promise<{ phases: (WsOrderPhase & { cpu: PhaseCpu })[]; sessions: number }> {
  const load = new WsOrderLoad({
    host: job.host, port: job.wsPort, users: job.tokens.slice(0, job.connections),
    encoding: job.orderEncoding, pipeline: job.orderPipeline, frameOrders: job.frameOrders,
  }, fmt, progress);
  const kind = `ws orders (${job.orderEncoding})`;
  progress.log(`load ${kind}: ${job.connections} sessions (server.auth), ${job.orderPipeline} orders in flight each` +
    `${job.orderEncoding === 'json' ? ', one request per frame' : `, at most ${job.frameOrders} per frame`}`);
  try {
    await load.connect();
    const phases: (WsOrderPhase & { cpu: PhaseCpu })[] = [];
    phases.push(await measured(job, () => load.phase('warm-up', job.warmupSeconds, null)));
    progress.clear();
    const saturation = await measured(job, () => load.phase('saturation', job.seconds, null));
    phases.push(saturation);
    progress.log(summaryLine(kind, saturation, 'orders/s'));
    const rate = job.rate ?? Math.max(1, Math.round(saturation.replies / saturation.seconds / 2));
    const open = await measured(job, () => load.phase('open-loop', job.seconds, rate));
    phases.push(open);
    progress.log(summaryLine(kind, open, 'orders/s'));
    return { phases, sessions: load.sessionCount };
  } finally {
    progress.clear();
    load.close();
  }
}

async function run(job: LoadJob): Promise<LoadReport> {
  const progress = new Progress();
  const config = loadConfig(job.configPath);
  const t0 = performance.now();
  const w: Workload = generateWorkload(config, { commands: job.commands, seed: job.seed });
  const generateSeconds = (performance.now() - t0) / 1000;
  // Workload http-limit: order.put_limit alone (the stream's limit orders; cancels and market orders passed over).
  const httpOnly = job.workload === 'http' || job.workload === 'http-limit';
  const fmt = new RequestFormatter(w, job.workload === 'http-limit' ? 'limit' : 'all');
  const orders = httpOnly ? { phases: [], sessions: 0 } : await orderEntry(job, fmt, progress);
  const httpConnections = httpOnly ? job.connections : job.orderConnections;
  const http = new HttpLoad(await openConnections(job.host, job.httpPort, job.workload === 'ws-binary' ? 0 : httpConnections), fmt, httpOnly ? progress : null);
  const httpPhases: (HttpPhase & { cpu: PhaseCpu })[] = [];
  const wsPhases: (WsPhase & { cpu: PhaseCpu; pushLatency: LatencySummary })[] = [];
  let ws: WsLoad | null = null;
  try {
    if (job.workload === 'ws-binary') {
      // order entry only
    } else if (httpOnly) {
      httpPhases.push(await measured(job, () => http.phase('warm-up', job.warmupSeconds, null)));
      progress.clear();
      const saturation = await measured(job, () => http.phase('saturation', job.seconds, null));
      httpPhases.push(saturation);
      progress.log(summaryLine(job.workload, saturation));
      const rate = job.rate ?? Math.max(1, Math.round(saturation.replies / saturation.seconds / 2));
      const open = await measured(job, () => http.phase('open-loop', job.seconds, rate));
      httpPhases.push(open);
      progress.log(summaryLine(job.workload, open));
    } else {
      ws = new WsLoad({
        host: job.host,
        port: job.wsPort,
        users: job.tokens,
        markets: w.markets.map((m) => m.name),
        assets: [...new Set(w.markets.flatMap((m) => [m.stock.name, m.money.name]))],
        queryConnections: job.querySessions,
        pipeline: job.pipeline,
      }, progress);
      progress.log(`load ws: opening ${count(job.tokens.length)} WebSocket sessions (server.auth, order/asset/depth.subscribe)`);
      await ws.connect();
      http.onPlaced = (orderId, intended) => ws!.onPlaced(orderId, intended);
      const both = async (name: string, seconds: number, rate: number | null): Promise<{ ws: WsPhase; http: HttpPhase }> => {
        const [wsPhase, httpPhase] = await Promise.all([ws!.phase(name, seconds, rate), http.phase(name, seconds, job.orderRate)]);
        return { ws: wsPhase, http: httpPhase };
      };
      const warmup = await measured(job, () => both('warm-up', job.warmupSeconds, null));
      progress.clear();
      const saturation = await measured(job, () => both('saturation', job.seconds, null));
      progress.log(summaryLine('ws', saturation.ws));
      const rate = job.rate ?? Math.max(1, Math.round(saturation.ws.replies / saturation.ws.seconds / 2));
      const open = await measured(job, () => both('open-loop', job.seconds, rate));
      progress.log(summaryLine('ws', open.ws));
      await ws.settle(1000);
      ws.throwIfFailed();
      for (const p of [warmup, saturation, open]) {
        wsPhases.push({ ...p.ws, cpu: p.cpu, pushLatency: ws.pushLatency(p.ws.name) });
        httpPhases.push({ ...p.http, cpu: p.cpu });
      }
    }
  } finally {
    progress.clear();
    http.close();
    ws?.close();
  }
  return {
    workload: job.workload,
    generateSeconds: Math.round(generateSeconds * 1000) / 1000,
    orders: orders.phases,
    orderSessions: orders.sessions,
    position: http.position,
    http: httpPhases,
    ws: wsPhases,
    wsSessions: ws?.sessionCount ?? 0,
    missingPushes: ws?.missingPushes ?? 0,
    orderPushes: ws?.orderPushes ?? 0,
  };
}

function send(message: GeneratorMessage): void {
  process.send!(message, () => process.exit(message.kind === 'report' ? 0 : 1));
}

if (process.send === undefined) {
  process.stderr.write('bench/load/generator: run by the load suite (forked with an IPC channel), not by hand\n');
  process.exit(2);
}
process.once('message', (job: LoadJob) => {
  run(job).then(
    (report) => send({ kind: 'report', report }),
    (err: unknown) => send({ kind: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
