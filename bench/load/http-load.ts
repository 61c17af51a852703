/**
 * The HTTP side of the load generator: the standard workload's commands as JSON-RPC requests over
 * N keep-alive connections, ONE request in flight per connection (no pipelining), in phases that
 * share one cursor over the command stream (the books carry over from phase to phase):
 *
 *  - closed loop (rate null): every connection sends its next request as soon as the reply to the
 *    previous one is in; throughput = replies received before the deadline / phase seconds;
 *    latency = reply time − send time (service time: a closed loop has no schedule);
 *  - open loop (rate r): request k is INTENDED at start + k / r and sent on the first idle
 *    connection as soon as possible after that, never earlier; latency = reply time − intended
 *    time, so time spent queued behind a slow reply (all connections busy) counts, and a stall
 *    cannot hide the requests it delayed (no coordinated omission). Requests due but not yet sent
 *    when the phase ends are reported as the backlog.
 *
 * Every reply is checked (HTTP 200, envelope, id, order object: see protocol.ts); a transport
 * failure or malformed reply ends the run with an error. Protocol errors are counted by method and
 * code for the suite to judge.
 */
import type { Histogram } from 'hdr-histogram-js';
import { nanosHistogram, summarize, type LatencySummary } from '../lib/latency.js';
import { HttpConnection } from './http-client.js';
import { checkOrderReply, type RequestFormatter } from './protocol.js';
import { PhaseClock } from './phase-clock.js';
import { count, type Progress } from './progress.js';

/** The order source every request carries (one label: the engine interns sources). */
export const SOURCE = 'bench-load';
/** A reply slower than this fails the run (the server hung). */
const REPLY_TIMEOUT_MS = 15_000;

export interface HttpPhase {
  readonly name: string;
  /** Null for a closed loop. */
  readonly rate: number | null;
  readonly seconds: number;
  /** Requests sent and replies received during the phase (before its deadline). */
  readonly sent: number;
  readonly replies: number;
  /** Replies by method. */
  readonly byMethod: Record<string, number>;
  /** Protocol errors by "method code". */
  readonly errors: Record<string, number>;
  /** Cancels not sent because their target's id was not known (its place in flight or failed). */
  readonly skippedCancels: number;
  /** Commands of the stream passed over by the formatter's filter (workload http-limit: all but limit orders). */
  readonly filtered: number;
  /** Place replies whose order traded at once (deal_stock ≠ 0). */
  readonly traded: number;
  /** Closed loop: send → reply; open loop: intended → reply, every request sent in the phase. */
  readonly latency: LatencySummary;
  /**
   * Open loop, the two parts of `latency`: how late the generator wrote each request after its
   * intended time (its own delay: the pacer, a busy event loop, no idle connection), and the
   * round trip from that write to the reply read (the server, the kernel, and how late the
   * generator read the reply). Closed loop: the lag is 0 and the round trip is `latency`.
   */
  readonly sendLag: LatencySummary;
  readonly roundTrip: LatencySummary;
  /** Open loop: requests due but not sent when the phase ended (the rate was not sustained). */
  readonly backlog: number;
  /** The command stream ran out before the deadline. */
  readonly exhausted: boolean;
}

/** Told about every successful place reply (the WebSocket workload matches pushes to orders). */
export type PlacedListener = (orderId: number, intendedMs: number, replyMs: number) => void;

interface Slot {
  readonly connection: HttpConnection;
  readonly callback: (err: Error | null, status: number, body: string) => void;
  command: number;
  requestId: number;
  intended: number;
  /** When the request was written (performance.now()). */
  sent: number;
}

export class HttpLoad {
  private readonly slots: Slot[];
  private requestId = 0;
  private run: PhaseRun | null = null;
  onPlaced: PlacedListener | null = null;

  constructor(connections: readonly HttpConnection[], readonly fmt: RequestFormatter, private readonly progress: Progress | null) {
    this.slots = connections.map((connection) => {
      const slot: Slot = {
        connection,
        callback: (err, status, body) => this.run?.reply(slot, err, status, body),
        command: -1,
        requestId: 0,
        intended: 0,
        sent: 0,
      };
      return slot;
    });
  }

  /** Commands used so far (the position in the stream, shared with the WebSocket order entry). */
  get position(): number {
    return this.fmt.cursor;
  }

  get connections(): number {
    return this.slots.length;
  }

  close(): void {
    for (const s of this.slots) s.connection.close();
  }

  /** Runs one phase: a closed loop when `rate` is null, else an open loop at `rate` requests/s. */
  async phase(name: string, seconds: number, rate: number | null): Promise<HttpPhase> {
    if (this.run !== null) throw new Error('one phase at a time');
    const clock = await PhaseClock.forRate(rate); // an open loop's pacer ticks before the phase starts
    return new Promise<HttpPhase>((resolve, reject) => {
      this.run = new PhaseRun(this, clock, this.slots, name, seconds, rate, (result) => {
        this.run = null;
        if (result instanceof Error) reject(result);
        else resolve(result);
      });
      this.run.start();
    });
  }

  /**
   * Sends the next command of the stream on `slot` (skipping cancels whose target is unknown), with
   * `intended` as its intended time. False when the stream is exhausted.
   */
  send(slot: Slot, intended: number, run: PhaseRun): boolean {
    const fmt = this.fmt;
    const n = fmt.w.commands;
    while (fmt.cursor < n) {
      const i = fmt.cursor++;
      if (!fmt.sends(i)) {
        run.filtered++;
        continue;
      }
      const id = ++this.requestId;
      const body = fmt.body(i, id, SOURCE);
      if (body === null) {
        run.skippedCancels++;
        continue;
      }
      slot.command = i;
      slot.requestId = id;
      slot.intended = intended;
      slot.sent = performance.now();
      slot.connection.post(body, slot.callback, slot.sent);
      return true;
    }
    return false;
  }

  line(text: string): void {
    this.progress?.update(text);
  }
}

class PhaseRun {
  sent = 0;
  replies = 0;
  inFlight = 0;
  skippedCancels = 0;
  filtered = 0;
  traded = 0;
  private readonly byMethod = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly histogram: Histogram = nanosHistogram();
  private readonly sendLag: Histogram = nanosHistogram();
  private readonly roundTrip: Histogram = nanosHistogram();
  private readonly idle: Slot[] = [];
  private startMs = 0;
  private endMs = 0;
  private readonly intervalMs: number;
  /** Open loop: index of the next intended send. */
  private k = 0;
  private nextDue = 0;
  private sending = true;
  private exhausted = false;
  private backlog = 0;
  private done = false;
  private lastReplies = 0;
  private lastAt = 0;

  constructor(
    private readonly load: HttpLoad,
    private readonly clock: PhaseClock,
    private readonly slots: readonly Slot[],
    readonly name: string,
    readonly seconds: number,
    readonly rate: number | null,
    private readonly finish: (result: HttpPhase | Error) => void,
  ) {
    this.intervalMs = rate === null ? 0 : 1000 / rate;
  }

  start(): void {
    const slots = this.slots;
    this.startMs = performance.now();
    this.lastAt = this.startMs;
    this.endMs = this.startMs + this.seconds * 1000;
    this.nextDue = this.startMs;
    this.clock.start(this.seconds, () => this.stopSending(), () => this.tick(), () => this.pump());
    if (this.rate === null) {
      for (const slot of slots) if (!this.sendOn(slot, performance.now())) break;
    } else {
      this.idle.push(...slots);
      this.pump();
    }
    if (this.inFlight === 0 && !this.sending) this.complete();
  }

  private sendOn(slot: Slot, intended: number): boolean {
    if (!this.load.send(slot, intended, this)) {
      this.exhausted = true;
      this.stopSending();
      return false;
    }
    this.sent++;
    this.inFlight++;
    return true;
  }

  /**
   * Open loop: sends every request that is due on idle connections. Called on every reply and,
   * for the gaps, by the pacer (lib/pacer.ts, due mode: on its first tick, ~200 µs apart, after
   * the next request's intended time, unless a reply sent it first; not at all while every
   * connection is busy: a reply comes first). It never spins: a spinning client would take a
   * core from the server.
   */
  private pump(): void {
    if (!this.sending) return;
    const now = performance.now();
    while (this.idle.length > 0 && this.nextDue <= now) {
      if (!this.sendOn(this.idle.pop()!, this.nextDue)) return;
      this.k++;
      this.nextDue = this.startMs + this.k * this.intervalMs;
    }
    this.clock.due(this.idle.length > 0 ? this.nextDue : null);
  }

  reply(slot: Slot, err: Error | null, status: number, body: string): void {
    if (this.done) return;
    const now = performance.now();
    this.inFlight--;
    try {
      if (err !== null) throw new Error(`HTTP request ${slot.requestId} failed: ${err.message}`);
      if (status !== 200) throw new Error(`HTTP ${status} for request ${slot.requestId}: ${body.slice(0, 200)}`);
      const fmt = this.load.fmt;
      const i = slot.command;
      const method = fmt.method(i);
      const market = fmt.market(i);
      const checked = checkOrderReply(body, slot.requestId, fmt.userOf(i), market.name);
      this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
      if (checked.code !== null) {
        const key = `${method} ${checked.code}`;
        this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
      } else if (method !== 'order.cancel') {
        fmt.placed(i, checked.orderId);
        if (checked.traded) this.traded++;
        this.load.onPlaced?.(checked.orderId, slot.intended, now);
      }
      if (now <= this.endMs) this.replies++;
      this.histogram.recordValue(Math.max(1, Math.round((now - slot.intended) * 1e6)));
      this.sendLag.recordValue(Math.max(1, Math.round((slot.sent - slot.intended) * 1e6)));
      this.roundTrip.recordValue(Math.max(1, Math.round((now - slot.sent) * 1e6)));
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    if (!this.sending) {
      if (this.inFlight === 0) this.complete();
      return;
    }
    if (this.rate === null) {
      this.sendOn(slot, now);
      if (!this.sending && this.inFlight === 0) this.complete();
    } else {
      this.idle.push(slot);
      this.pump();
    }
  }

  private stopSending(): void {
    if (!this.sending) return;
    this.sending = false;
    this.clock.stopTicks();
    if (this.rate !== null) {
      const due = Math.floor((Math.min(performance.now(), this.endMs) - this.startMs) / this.intervalMs) + 1;
      this.backlog = this.exhausted ? 0 : Math.max(0, due - this.k);
    }
    if (this.inFlight === 0) this.complete();
  }

  private tick(): void {
    const now = performance.now();
    for (const slot of this.slots) {
      if (slot.connection.busy && now - slot.connection.sentAt > REPLY_TIMEOUT_MS) {
        slot.connection.abort(`no reply within ${REPLY_TIMEOUT_MS / 1000} s`);
      }
    }
    const rate = ((this.replies - this.lastReplies) * 1000) / (now - this.lastAt);
    this.lastReplies = this.replies;
    this.lastAt = now;
    const elapsed = Math.min(this.seconds, (now - this.startMs) / 1000);
    const errors = [...this.errors.values()].reduce((a, b) => a + b, 0);
    this.load.line(
      `load http ${this.name} ${elapsed.toFixed(0)}/${this.seconds} s: ${count(rate)} req/s` +
        `${this.rate === null ? '' : ` (target ${count(this.rate)})`}, ${count(this.replies)} replies, ` +
        `${count(errors)} protocol errors, ${this.inFlight} in flight`,
    );
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.cleanup();
    this.finish(err);
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
    const sendLag = summarize(this.sendLag);
    const roundTrip = summarize(this.roundTrip);
    for (const h of [this.histogram, this.sendLag, this.roundTrip]) h.destroy();
    this.finish({
      name: this.name,
      rate: this.rate,
      seconds: seconds / 1000,
      sent: this.sent,
      replies: this.replies,
      byMethod: Object.fromEntries(this.byMethod),
      errors: Object.fromEntries(this.errors),
      skippedCancels: this.skippedCancels,
      filtered: this.filtered,
      traded: this.traded,
      latency,
      sendLag,
      roundTrip,
      backlog: this.backlog,
      exhausted: this.exhausted,
    });
  }
}
