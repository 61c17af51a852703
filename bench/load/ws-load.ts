/**
 * The WebSocket side of the load generator. The WebSocket API has no order placement methods (as
 * in ViaBTC's accessws: gateway/ws/methods.ts), so this measures what it does offer:
 *
 *  - pipelined requests: each of the first `queryConnections` sessions keeps up to `pipeline`
 *    requests in flight, cycling order.query [market, 0, 10], asset.query [] and depth.query
 *    [market, 10, "0"] over the markets; the same closed-loop / open-loop phases as over HTTP
 *    (open loop: request k intended at start + k / rate, sent on the first session with room in
 *    its pipeline, latency from the intended time);
 *  - the push fan-out: every session is authenticated (server.auth) as one user and follows
 *    order.update and asset.update for all the workload's markets and assets, and depth.update of
 *    one market, while the HTTP side places the standard workload's orders at a fixed rate. Every
 *    push is checked and counted; the order-to-push latency is the time from an order's intended
 *    HTTP send time to the arrival of its own order.update (PUT when it rests, FINISH when it
 *    filled at once), matched by order id. Every order placed must get that push.
 */
import WebSocket from 'ws';
import type { Histogram } from 'hdr-histogram-js';
import { nanosHistogram, summarize, type LatencySummary } from '../lib/latency.js';
import { checkEnvelope, MalformedReply } from './protocol.js';
import { PhaseClock } from './phase-clock.js';
import { count, type Progress } from './progress.js';

const REPLY_TIMEOUT_MS = 15_000;
/** Pushes and replies of an order older than this that found no partner are dropped from the matching tables. */
const MATCH_WINDOW_MS = 10_000;

export interface WsSetup {
  readonly host: string;
  readonly port: number;
  /** One session per entry: the server.auth token and its user. */
  readonly users: readonly { readonly token: string; readonly user: number }[];
  readonly markets: readonly string[];
  readonly assets: readonly string[];
  /** Sessions (the first ones) that send the pipelined requests. */
  readonly queryConnections: number;
  readonly pipeline: number;
}

export interface WsPhase {
  readonly name: string;
  readonly rate: number | null;
  readonly seconds: number;
  readonly sent: number;
  readonly replies: number;
  readonly byMethod: Record<string, number>;
  readonly errors: Record<string, number>;
  /** Closed loop: send → reply; open loop: intended → reply. */
  readonly latency: LatencySummary;
  readonly backlog: number;
  /** Pushes received during the phase, by method. */
  readonly pushes: Record<string, number>;
}

type Pending = { method: string; intended: number; sentAt: number };

class WsSession {
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private waiters = new Map<number, (body: unknown) => void>();
  /** Round-robin position over the query kinds and markets. */
  turn = 0;
  closed = false;

  constructor(readonly socket: WebSocket, readonly user: number, private readonly load: WsLoad) {
    socket.on('message', (data: Buffer) => this.onMessage(data.toString('utf8')));
    socket.on('close', () => {
      this.closed = true;
      load.fail(new Error(`the server closed the WebSocket of user ${user}`));
    });
    socket.on('error', (err) => load.fail(new Error(`WebSocket of user ${user}: ${err.message}`)));
  }

  static open(url: string, user: number, load: WsLoad): Promise<WsSession> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.once('open', () => {
        socket.off('error', onError);
        resolve(new WsSession(socket, user, load));
      });
    });
  }

  /** One request, waiting for its reply (set-up). */
  call(method: string, params: readonly unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiters.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** A measured request. */
  send(method: string, paramsJson: string, intended: number, now: number): void {
    const id = this.nextId++;
    this.pending.set(id, { method, intended, sentAt: now });
    this.socket.send(`{"id":${id},"method":"${method}","params":${paramsJson}}`);
  }

  close(): void {
    this.closed = true;
    this.socket.removeAllListeners('close');
    this.socket.terminate();
  }

  private onMessage(text: string): void {
    try {
      const head = text.startsWith('{"method":');
      if (head) {
        this.load.onPush(text);
        return;
      }
      const idAt = text.lastIndexOf('"id":');
      const id = idAt < 0 ? NaN : Number(text.slice(idAt + 5, text.length - 1));
      const waiter = this.waiters.get(id);
      if (waiter !== undefined) {
        this.waiters.delete(id);
        waiter(checkEnvelope(text, id));
        return;
      }
      const pending = this.pending.get(id);
      if (pending === undefined) throw new MalformedReply(`a reply to no request: ${text.slice(0, 200)}`);
      this.pending.delete(id);
      this.load.onReply(this, pending, text, id);
    } catch (err) {
      this.load.fail(err as Error);
    }
  }
}

export class WsLoad {
  private sessions: WsSession[] = [];
  private queriers: WsSession[] = [];
  private run: WsPhaseRun | null = null;
  private failure: Error | null = null;
  /**
   * Order-to-push matching: orders whose reply came first (id → intended ms and the phase they were
   * sent in), pushes that came first (id → arrival ms). Latencies go to the histogram of the phase the
   * order was sent in, wherever its push lands.
   */
  private readonly placedAt = new Map<number, { readonly intended: number; readonly phase: string }>();
  private readonly pushedAt = new Map<number, number>();
  private readonly pushHistograms = new Map<string, Histogram>();
  private phaseName = 'set-up';
  private pushCounts = new Map<string, number>();
  private readonly pruneTimer: NodeJS.Timeout;
  /** Orders whose push never came (dropped from the matching table after MATCH_WINDOW_MS). */
  missingPushes = 0;
  /** order.update pushes since connect(): one per order event of every user (the deal count follows from it). */
  orderPushes = 0;
  readonly marketParams: string[];
  readonly depthParams: string[];

  constructor(readonly setup: WsSetup, private readonly progress: Progress | null) {
    this.marketParams = setup.markets.map((m) => JSON.stringify([m, 0, 10]));
    this.depthParams = setup.markets.map((m) => JSON.stringify([m, 10, '0']));
    this.pruneTimer = setInterval(() => this.prune(performance.now() - MATCH_WINDOW_MS), 1000);
  }

  /** Opens, authenticates and subscribes every session. */
  async connect(): Promise<void> {
    const { host, port, users, markets, assets } = this.setup;
    const url = `ws://${host}:${port}/`;
    for (let at = 0; at < users.length; at += 50) {
      const batch = users.slice(at, at + 50);
      const opened = await Promise.all(batch.map((u) => WsSession.open(url, u.user, this)));
      await Promise.all(opened.map(async (s, k) => {
        const { token } = batch[k]!;
        const market = markets[(at + k) % markets.length]!;
        for (const [method, params] of [
          ['server.auth', [token, 'bench-load']],
          ['order.subscribe', markets],
          ['asset.subscribe', assets],
          ['depth.subscribe', [market, 20, '0']],
        ] as const) {
          const reply = (await s.call(method, params)) as { error: unknown };
          if (reply.error !== null) throw new Error(`${method} for user ${s.user} failed: ${JSON.stringify(reply.error)}`);
        }
      }));
      this.sessions.push(...opened);
      this.throwIfFailed();
    }
    this.queriers = this.sessions.slice(0, this.setup.queryConnections);
    this.pushCounts.clear();
    this.orderPushes = 0;
  }

  get sessionCount(): number {
    return this.sessions.length;
  }

  close(): void {
    clearInterval(this.pruneTimer);
    for (const s of this.sessions) s.close();
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.run?.abort(err);
  }

  throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** From the HTTP side: an order was accepted. */
  onPlaced(orderId: number, intendedMs: number): void {
    const pushed = this.pushedAt.get(orderId);
    if (pushed === undefined) {
      this.placedAt.set(orderId, { intended: intendedMs, phase: this.phaseName });
      return;
    }
    this.pushedAt.delete(orderId);
    this.recordPush(this.phaseName, pushed - intendedMs);
  }

  private recordPush(phase: string, ms: number): void {
    let h = this.pushHistograms.get(phase);
    if (h === undefined) {
      h = nanosHistogram();
      this.pushHistograms.set(phase, h);
    }
    h.recordValue(Math.max(1, Math.round(ms * 1e6)));
  }

  /** Order-to-push latency of the orders sent during a phase (call after settle()). */
  pushLatency(phase: string): LatencySummary {
    const h = this.pushHistograms.get(phase);
    if (h === undefined) return summarize(nanosHistogram());
    const summary = summarize(h);
    h.destroy();
    this.pushHistograms.delete(phase);
    return summary;
  }

  onPush(text: string): void {
    const now = performance.now();
    let push: unknown;
    try {
      push = JSON.parse(text);
    } catch {
      throw new MalformedReply(`push is not JSON: ${text.slice(0, 200)}`);
    }
    const p = push as { method?: unknown; params?: unknown; id?: unknown };
    if (typeof p.method !== 'string' || !Array.isArray(p.params) || p.id !== null) throw new MalformedReply(`malformed push: ${text.slice(0, 200)}`);
    const params = p.params as unknown[];
    this.pushCounts.set(p.method, (this.pushCounts.get(p.method) ?? 0) + 1);
    if (p.method === 'order.update') {
      this.orderPushes++;
      const event = params[0];
      const order = params[1] as { id?: unknown; user?: unknown } | null;
      if ((event !== 1 && event !== 2 && event !== 3) || typeof order !== 'object' || order === null || typeof order.id !== 'number' || typeof order.user !== 'number') {
        throw new MalformedReply(`malformed order.update: ${text.slice(0, 200)}`);
      }
      if (event === 2) return; // only makers get UPDATE events; an order's own first push is PUT or FINISH
      const placed = this.placedAt.get(order.id);
      if (placed === undefined) {
        this.pushedAt.set(order.id, now);
      } else {
        this.placedAt.delete(order.id);
        this.recordPush(placed.phase, now - placed.intended);
      }
    } else if (p.method === 'asset.update') {
      if (params.length !== 1 || typeof params[0] !== 'object' || params[0] === null) throw new MalformedReply(`malformed asset.update: ${text.slice(0, 200)}`);
    } else if (p.method === 'depth.update') {
      if (typeof params[0] !== 'boolean' || typeof params[1] !== 'object' || params[1] === null || typeof params[2] !== 'string') {
        throw new MalformedReply(`malformed depth.update: ${text.slice(0, 200)}`);
      }
    } else {
      throw new MalformedReply(`unexpected push ${p.method}`);
    }
  }

  onReply(session: WsSession, pending: Pending, text: string, id: number): void {
    const { error, result } = checkEnvelope(text, id);
    if (error === null) checkResult(pending.method, result, text);
    this.run?.reply(session, pending, error === null ? null : error.code);
  }

  /** Starts a phase: orders placed from now on belong to it; push counts start afresh. */
  beginPhase(name: string): void {
    this.phaseName = name;
    this.pushCounts = new Map();
  }

  /** Pushes received since beginPhase, by method. */
  pushCountsSoFar(): Record<string, number> {
    return Object.fromEntries(this.pushCounts);
  }

  /**
   * Waits for the pushes of the last orders, then counts the orders that never got theirs (every
   * order's user is followed, so there must be none).
   */
  async settle(waitMs: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    this.prune(Infinity);
  }

  private prune(olderThan: number): void {
    for (const [id, { intended }] of this.placedAt) {
      if (intended < olderThan) {
        this.placedAt.delete(id);
        this.missingPushes++;
      }
    }
    // Maker FINISH pushes of orders matched long ago land here too: no partner will come.
    for (const [id, at] of this.pushedAt) if (at < olderThan) this.pushedAt.delete(id);
  }

  async phase(name: string, seconds: number, rate: number | null): Promise<WsPhase> {
    this.throwIfFailed();
    if (this.run !== null) throw new Error('one phase at a time');
    const clock = await PhaseClock.forRate(rate); // an open loop's pacer ticks before the phase starts
    return new Promise<WsPhase>((resolve, reject) => {
      this.run = new WsPhaseRun(this, clock, this.queriers, name, seconds, rate, (result) => {
        this.run = null;
        if (result instanceof Error) reject(result);
        else resolve(result);
      });
      this.run.start();
    });
  }

  /** Sends the next query on `session`. */
  query(session: WsSession, intended: number, now: number): void {
    const t = session.turn++;
    const markets = this.marketParams.length;
    const m = Math.floor(t / 3) % markets;
    switch (t % 3) {
      case 0:
        session.send('order.query', this.marketParams[m]!, intended, now);
        break;
      case 1:
        session.send('asset.query', '[]', intended, now);
        break;
      default:
        session.send('depth.query', this.depthParams[m]!, intended, now);
        break;
    }
  }

  line(text: string): void {
    this.progress?.update(text);
  }
}

/** The result shapes of the three queries. */
function checkResult(method: string, result: unknown, text: string): void {
  const r = result as Record<string, unknown> | null;
  const ok = typeof r === 'object' && r !== null && (
    method === 'order.query' ? Array.isArray(r.records) && typeof r.total === 'number'
      : method === 'depth.query' ? Array.isArray(r.asks) && Array.isArray(r.bids)
        : Object.values(r).every((b) => typeof b === 'object' && b !== null && typeof (b as { available?: unknown }).available === 'string'));
  if (!ok) throw new MalformedReply(`malformed ${method} result: ${text.slice(0, 200)}`);
}

class WsPhaseRun {
  sent = 0;
  replies = 0;
  inFlight = 0;
  private readonly byMethod = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly histogram: Histogram = nanosHistogram();
  private startMs = 0;
  private endMs = 0;
  private readonly intervalMs: number;
  private k = 0;
  private nextDue = 0;
  private sending = true;
  private backlog = 0;
  private done = false;
  private lastReplies = 0;
  private lastAt = 0;
  /** Open loop: round-robin position over the sessions. */
  private rr = 0;

  constructor(
    private readonly load: WsLoad,
    private readonly clock: PhaseClock,
    private readonly sessions: readonly WsSession[],
    readonly name: string,
    readonly seconds: number,
    readonly rate: number | null,
    private readonly finish: (result: WsPhase | Error) => void,
  ) {
    this.intervalMs = rate === null ? 0 : 1000 / rate;
  }

  start(): void {
    this.startMs = performance.now();
    this.lastAt = this.startMs;
    this.endMs = this.startMs + this.seconds * 1000;
    this.nextDue = this.startMs;
    this.load.beginPhase(this.name);
    this.clock.start(this.seconds, () => this.stopSending(), () => this.tick(), () => this.pump());
    if (this.rate === null) {
      const pipeline = this.load.setup.pipeline;
      for (const s of this.sessions) for (let d = 0; d < pipeline; d++) this.sendOn(s, performance.now());
    } else {
      this.pump();
    }
  }

  private sendOn(session: WsSession, intended: number): void {
    this.load.query(session, intended, performance.now());
    this.sent++;
    this.inFlight++;
  }

  /** A session with room in its pipeline, round robin; null when all are full. */
  private free(): WsSession | null {
    const n = this.sessions.length;
    const pipeline = this.load.setup.pipeline;
    for (let tries = 0; tries < n; tries++) {
      const s = this.sessions[this.rr]!;
      this.rr = (this.rr + 1) % n;
      if (s.pending.size < pipeline) return s;
    }
    return null;
  }

  /** Open loop: sends every request that is due, as over HTTP (bench/load/http-load.ts: on replies and pacer ticks, never spinning). */
  private pump(): void {
    if (!this.sending) return;
    const now = performance.now();
    while (this.nextDue <= now) {
      const session = this.free();
      if (session === null) return; // every pipeline is full: a reply will pump
      this.sendOn(session, this.nextDue);
      this.k++;
      this.nextDue = this.startMs + this.k * this.intervalMs;
    }
  }

  reply(session: WsSession, pending: Pending, code: number | null): void {
    if (this.done) return;
    const now = performance.now();
    this.inFlight--;
    this.byMethod.set(pending.method, (this.byMethod.get(pending.method) ?? 0) + 1);
    if (code !== null) {
      const key = `${pending.method} ${code}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    }
    if (now <= this.endMs) this.replies++;
    this.histogram.recordValue(Math.max(1, Math.round((now - pending.intended) * 1e6)));
    if (!this.sending) {
      if (this.inFlight === 0) this.complete();
      return;
    }
    if (this.rate === null) this.sendOn(session, now);
    else this.pump();
  }

  abort(err: Error): void {
    if (this.done) return;
    this.cleanup();
    this.finish(err);
  }

  private stopSending(): void {
    if (!this.sending) return;
    this.sending = false;
    this.clock.stopTicks();
    if (this.rate !== null) {
      const due = Math.floor((this.endMs - this.startMs) / this.intervalMs) + 1;
      this.backlog = Math.max(0, due - this.k);
    }
    if (this.inFlight === 0) this.complete();
  }

  private tick(): void {
    const now = performance.now();
    for (const s of this.sessions) {
      for (const p of s.pending.values()) {
        if (now - p.sentAt > REPLY_TIMEOUT_MS) {
          this.abort(new Error(`no WebSocket reply within ${REPLY_TIMEOUT_MS / 1000} s (${p.method})`));
          return;
        }
        break; // the oldest request of the session is the first in the map
      }
    }
    const rate = ((this.replies - this.lastReplies) * 1000) / (now - this.lastAt);
    this.lastReplies = this.replies;
    this.lastAt = now;
    const elapsed = Math.min(this.seconds, (now - this.startMs) / 1000);
    this.load.line(
      `load ws ${this.name} ${elapsed.toFixed(0)}/${this.seconds} s: ${count(rate)} WS req/s` +
        `${this.rate === null ? '' : ` (target ${count(this.rate)})`}, ${count(this.replies)} replies, ${this.inFlight} in flight`,
    );
  }

  private cleanup(): void {
    this.done = true;
    this.sending = false;
    this.clock.stop();
  }

  private complete(): void {
    if (this.done) return;
    const seconds = Math.min(performance.now(), this.endMs) - this.startMs;
    this.cleanup();
    const latency = summarize(this.histogram);
    this.histogram.destroy();
    const pushes = this.load.pushCountsSoFar();
    this.finish({
      name: this.name,
      rate: this.rate,
      seconds: seconds / 1000,
      sent: this.sent,
      replies: this.replies,
      byMethod: Object.fromEntries(this.byMethod),
      errors: Object.fromEntries(this.errors),
      latency,
      backlog: this.backlog,
      pushes,
    });
  }
}
