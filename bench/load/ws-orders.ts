/**
 * WebSocket order entry for the load generator (workloads `ws` and `ws-binary`): the standard
 * workload's commands placed and cancelled over N authenticated WebSocket sessions, pipelined.
 *
 * - Sessions: session s is authenticated (server.auth) as user `users[s]`; command i goes to
 *   session `user[i] mod N` and is placed as that session's user, so an order and the cancels
 *   of it always travel on one session (the server answers each session in request order).
 * - Encodings: `json` — one JSON request per frame (order.put_limit / put_market / cancel without
 *   the user id), many frames per TCP write; `batch` — a JSON array of requests per frame;
 *   `binary` — one binary frame of 72-byte records (gateway/ws/binary.ts). Batch and binary
 *   frames carry what is due for a session when it is flushed, at most its free pipeline.
 * - Phases as over HTTP (bench/load/http-load.ts), sharing the stream's cursor: closed loop
 *   (every session keeps `pipeline` orders in flight: orders/s at saturation; latency send →
 *   reply) and open loop at a rate (order k intended at t0 + k / rate, queued for its session and
 *   sent at the next flush — once per event-loop turn that read replies, and on a timer — with
 *   whatever else is due; latency from the intended time, no coordinated omission).
 * - Checks: every reply is its request's (ids in order), well-formed, an order of the session's
 *   user and the right market on success (JSON: the order object; binary: the reply record);
 *   protocol errors are counted by method and code for the suite to judge.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { Histogram } from 'hdr-histogram-js';
import { Op } from '../gen/workload.js';
import { OrderOp } from '../../gateway/rpc/order-entry.js';
import {
  REP_DEAL_STOCK, REP_ERROR, REP_ID, REP_MARKET, REP_OP, REP_ORDER_ID, REPLY_SIZE, REQUEST_SIZE, writeRequest,
} from '../../gateway/ws/binary.js';
import { nanosHistogram, summarize, type LatencySummary } from '../lib/latency.js';
import { SOURCE } from './http-load.js';
import { checkEnvelope, checkOrderItem, checkOrderReply, MalformedReply, type Checked, type Method, type RequestFormatter } from './protocol.js';
import { PhaseClock } from './phase-clock.js';
import { count, type Progress } from './progress.js';

export type OrderEncoding = 'json' | 'batch' | 'binary';
export const ORDER_ENCODINGS: readonly OrderEncoding[] = ['json', 'batch', 'binary'];

const REPLY_TIMEOUT_MS = 15_000;
/**
 * Closed loop: orders outstanding (in flight or queued) per session pipeline. Above 1 every session
 * keeps a queue, so that a flush fills a whole frame (orders map to sessions by user, unevenly).
 */
const QUEUED_PIPELINES = 2;
const SOURCE_BYTES = new TextEncoder().encode(SOURCE);
const OPS: Readonly<Record<number, number>> = { [Op.LIMIT]: OrderOp.PUT_LIMIT, [Op.MARKET]: OrderOp.PUT_MARKET, [Op.CANCEL]: OrderOp.CANCEL };

export interface WsOrderSetup {
  readonly host: string;
  readonly port: number;
  /** One session per entry: its server.auth token and user. */
  readonly users: readonly { readonly token: string; readonly user: number }[];
  readonly encoding: OrderEncoding;
  /** Orders in flight per session. */
  readonly pipeline: number;
  /** Most orders per frame (batch, binary): a session keeps several frames in flight. */
  readonly frameOrders: number;
}

export interface WsOrderPhase {
  readonly name: string;
  readonly rate: number | null;
  readonly seconds: number;
  /** Orders sent and replies received during the phase (before its deadline). */
  readonly sent: number;
  readonly replies: number;
  readonly byMethod: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly skippedCancels: number;
  readonly traded: number;
  /** Closed loop: send → reply; open loop: intended → reply. */
  readonly latency: LatencySummary;
  /** Open loop, the two parts of `latency` (as over HTTP, http-load.ts): intended → written, written → reply read. */
  readonly sendLag: LatencySummary;
  readonly roundTrip: LatencySummary;
  readonly backlog: number;
  readonly exhausted: boolean;
  /** WebSocket frames sent (orders per frame = sent / frames). */
  readonly frames: number;
}

/** One session: a ring of its orders — [head, sent) in flight, [sent, tail) due but not sent — and its frames in flight. */
class OrderSession {
  readonly cmd: Int32Array;
  readonly intended: Float64Array;
  readonly sentAt: Float64Array;
  readonly mask: number;
  head = 0;
  sent = 0;
  tail = 0;
  /** Orders per frame in flight (batch, binary), oldest first. */
  readonly frames: Int32Array;
  frameHead = 0;
  frameTail = 0;
  private readonly raw: Socket | null;
  private readonly waiters = new Map<number, (reply: unknown) => void>();
  private nextSetupId = -1;

  constructor(readonly socket: WebSocket, readonly user: number, capacity: number, private readonly load: WsOrderLoad) {
    this.cmd = new Int32Array(capacity);
    this.intended = new Float64Array(capacity);
    this.sentAt = new Float64Array(capacity);
    this.frames = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.raw = (socket as unknown as { _socket?: Socket })._socket ?? null;
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    socket.on('close', () => load.fail(new Error(`the server closed the order-entry WebSocket of user ${user}`)));
    socket.on('error', (err) => load.fail(new Error(`order-entry WebSocket of user ${user}: ${err.message}`)));
  }

  static open(url: string, user: number, capacity: number, load: WsOrderLoad): Promise<OrderSession> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.once('open', () => {
        socket.off('error', onError);
        resolve(new OrderSession(socket, user, capacity, load));
      });
    });
  }

  get inFlight(): number {
    return this.sent - this.head;
  }

  get queued(): number {
    return this.tail - this.sent;
  }

  /** One request waiting for its reply (set-up; negative ids, apart from the orders'). */
  call(method: string, params: readonly unknown[]): Promise<unknown> {
    const id = this.nextSetupId--;
    return new Promise((resolve) => {
      this.waiters.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Sends several frames in one write (the TCP socket is corked meanwhile). */
  corked(f: () => void): void {
    this.raw?.cork();
    try {
      f();
    } finally {
      this.raw?.uncork();
    }
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.terminate();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    try {
      if (!isBinary && this.waiters.size > 0) {
        const text = data.toString('utf8');
        const id = Number(/"id":(-?\d+)\}$/.exec(text)?.[1]);
        const waiter = this.waiters.get(id);
        if (waiter !== undefined) {
          this.waiters.delete(id);
          waiter(checkEnvelope(text, id));
          return;
        }
      }
      this.load.onFrame(this, data, isBinary);
    } catch (err) {
      this.load.fail(err as Error);
    }
  }
}

export class WsOrderLoad {
  private sessions: OrderSession[] = [];
  private run: OrderPhaseRun | null = null;
  private failure: Error | null = null;

  constructor(readonly setup: WsOrderSetup, readonly fmt: RequestFormatter, private readonly progress: Progress | null) {}

  /** Opens and authenticates every session. */
  async connect(): Promise<void> {
    const { host, port, users, pipeline } = this.setup;
    const url = `ws://${host}:${port}/`;
    // Each ring holds what a session may have outstanding: at most the closed loop's cap (QUEUED_PIPELINES × every session's pipeline).
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(16, QUEUED_PIPELINES * users.length * pipeline)));
    this.sessions = await Promise.all(users.map((u) => OrderSession.open(url, u.user, capacity, this)));
    await Promise.all(this.sessions.map(async (s, k) => {
      const reply = (await s.call('server.auth', [users[k]!.token, 'bench-load'])) as { error: unknown };
      if (reply.error !== null) throw new Error(`server.auth for user ${s.user} failed: ${JSON.stringify(reply.error)}`);
    }));
    this.throwIfFailed();
  }

  get sessionCount(): number {
    return this.sessions.length;
  }

  close(): void {
    for (const s of this.sessions) s.close();
    this.sessions = [];
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.run?.abort(err);
  }

  throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }

  async phase(name: string, seconds: number, rate: number | null): Promise<WsOrderPhase> {
    this.throwIfFailed();
    if (this.run !== null) throw new Error('one phase at a time');
    const clock = await PhaseClock.forRate(rate); // an open loop's pacer ticks before the phase starts
    return new Promise<WsOrderPhase>((resolve, reject) => {
      this.run = new OrderPhaseRun(this, clock, this.sessions, name, seconds, rate, (result) => {
        this.run = null;
        if (result instanceof Error) reject(result);
        else resolve(result);
      });
      this.run.start();
    });
  }

  onFrame(session: OrderSession, data: Buffer, isBinary: boolean): void {
    if (this.run === null) throw new MalformedReply(`a frame outside any phase: ${data.toString('utf8', 0, 200)}`);
    this.run.onFrame(session, data, isBinary);
  }

  line(text: string): void {
    this.progress?.update(text);
  }
}

class OrderPhaseRun {
  sent = 0;
  replies = 0;
  skippedCancels = 0;
  traded = 0;
  frames = 0;
  private outstanding = 0;
  private readonly byMethod = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly histogram: Histogram = nanosHistogram();
  private readonly sendLag: Histogram = nanosHistogram();
  private readonly roundTrip: Histogram = nanosHistogram();
  private readonly pipeline: number;
  private readonly frameOrders: number;
  private readonly encoding: OrderEncoding;
  private readonly fmt: RequestFormatter;
  private startMs = 0;
  private endMs = 0;
  private readonly intervalMs: number;
  /** Open loop: index of the next intended order, and its time. */
  private k = 0;
  private nextDue = 0;
  /** Open loop: a command taken from the stream whose session's ring was full (sent first next time), or -1. */
  private held = -1;
  private sending = true;
  private refillQueued = false;
  private readonly refillSoon = (): void => {
    this.refillQueued = false;
    if (!this.done) this.refill();
  };
  private exhausted = false;
  private backlog = 0;
  private done = false;
  private lastReplies = 0;
  private lastAt = 0;

  constructor(
    private readonly load: WsOrderLoad,
    private readonly clock: PhaseClock,
    private readonly sessions: readonly OrderSession[],
    readonly name: string,
    readonly seconds: number,
    readonly rate: number | null,
    private readonly finish: (result: WsOrderPhase | Error) => void,
  ) {
    this.intervalMs = rate === null ? 0 : 1000 / rate;
    this.pipeline = load.setup.pipeline;
    this.frameOrders = Math.max(1, load.setup.frameOrders);
    this.encoding = load.setup.encoding;
    this.fmt = load.fmt;
  }

  start(): void {
    this.startMs = performance.now();
    this.lastAt = this.startMs;
    this.endMs = this.startMs + this.seconds * 1000;
    this.nextDue = this.startMs;
    this.clock.start(this.seconds, () => this.stopSending(), () => this.tick(), () => this.refill());
    this.refill();
  }

  /** Takes the next sendable command from the stream (skipping cancels whose target is unknown), or -1 when it ran out. */
  private nextCommand(): number {
    const fmt = this.fmt;
    const n = fmt.w.commands;
    while (fmt.cursor < n) {
      const i = fmt.cursor++;
      if (fmt.w.op[i] === Op.CANCEL && fmt.cancelTarget(i) === 0) {
        this.skippedCancels++;
        continue;
      }
      return i;
    }
    return -1;
  }

  private sessionOf(i: number): OrderSession {
    return this.sessions[this.fmt.w.user[i]! % this.sessions.length]!;
  }

  /** Queues command i on its session; false when that session's ring is full. */
  private assign(i: number, intended: number): boolean {
    const s = this.sessionOf(i);
    if (s.tail - s.head > s.mask) return false;
    const at = s.tail & s.mask;
    s.cmd[at] = i;
    s.intended[at] = intended;
    s.tail++;
    this.outstanding++;
    return true;
  }

  /** Queues what is due (closed loop: up to every pipeline full; open loop: the schedule) and sends what fits. */
  private refill(): void {
    if (!this.sending) return;
    const now = performance.now();
    if (this.rate === null) {
      const cap = QUEUED_PIPELINES * this.sessions.length * this.pipeline;
      while (this.outstanding < cap) {
        const i = this.nextCommand();
        if (i < 0) {
          this.exhausted = true;
          break;
        }
        this.assign(i, now);
      }
    } else {
      while (this.nextDue <= now) {
        const i = this.held >= 0 ? this.held : this.nextCommand();
        this.held = -1;
        if (i < 0) {
          this.exhausted = true;
          break;
        }
        if (!this.assign(i, this.nextDue)) {
          this.held = i;
          break;
        }
        this.k++;
        this.nextDue = this.startMs + this.k * this.intervalMs;
      }
      // The pacer wakes this thread only once the next order is due and no reply frame sent it
      // first (lib/pacer.ts, due mode); a full session ring waits for its replies instead.
      this.clock.due(this.held >= 0 ? null : this.nextDue);
    }
    // Closed loop: a session waits until a full frame's worth of its pipeline is free (or nothing is in flight),
    // so that frames do not shrink to the few orders each reply frees; the open loop sends whatever is due.
    const least = this.rate === null ? this.frameOrders : 1;
    for (const s of this.sessions) {
      const room = this.pipeline - s.inFlight;
      if (s.queued > 0 && (room >= least || s.inFlight === 0)) this.flush(s, now);
    }
    if (this.exhausted) {
      this.stopSending();
      return;
    }
  }

  /** Sends what is queued on `s`, up to its free pipeline, in one TCP write. */
  private flush(s: OrderSession, now: number): void {
    let room = Math.min(s.queued, this.pipeline - s.inFlight);
    if (room <= 0) return;
    for (let j = s.sent; j < s.sent + room; j++) {
      const at = j & s.mask;
      s.sentAt[at] = now;
      if (this.rate === null) s.intended[at] = now;
    }
    this.sent += room;
    s.corked(() => {
      while (room > 0) {
        const k = this.encoding === 'json' ? 1 : Math.min(room, this.frameOrders);
        this.sendFrame(s, s.sent, k);
        s.sent += k;
        room -= k;
        this.frames++;
      }
    });
  }

  /** Sends the session's orders [from, from + k) as one frame (json: k = 1). */
  private sendFrame(s: OrderSession, from: number, k: number): void {
    const fmt = this.fmt;
    switch (this.encoding) {
      case 'json':
        s.socket.send(fmt.wsBody(s.cmd[from & s.mask]!, from, SOURCE)!);
        return;
      case 'batch': {
        const bodies: string[] = [];
        for (let j = from; j < from + k; j++) bodies.push(fmt.wsBody(s.cmd[j & s.mask]!, j, SOURCE)!);
        s.socket.send(`[${bodies.join(',')}]`);
        break;
      }
      case 'binary': {
        const bytes = Buffer.allocUnsafe(k * REQUEST_SIZE);
        const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let j = 0; j < k; j++) this.record(v, j * REQUEST_SIZE, s.cmd[(from + j) & s.mask]!, from + j);
        s.socket.send(bytes, { binary: true });
        break;
      }
    }
    s.frames[s.frameTail++ & s.mask] = k;
  }

  /** Writes command i as a binary request record with id `id` (its position on the session). */
  private record(v: DataView, at: number, i: number, id: number): void {
    const w = this.fmt.w;
    const op = w.op[i]!;
    const cancel = op === Op.CANCEL;
    writeRequest(v, at, {
      op: OPS[op]!,
      side: cancel ? 0 : w.side[i]!,
      market: w.market[i]!,
      id: id >>> 0,
      amount: cancel ? this.fmt.cancelTarget(i) : w.amount[i]!,
      price: op === Op.LIMIT ? w.price[i]! : 0,
      takerFee: cancel ? 0 : w.takerFee,
      makerFee: op === Op.LIMIT ? w.makerFee : 0,
      source: cancel ? EMPTY : SOURCE_BYTES,
    });
  }

  onFrame(s: OrderSession, data: Buffer, isBinary: boolean): void {
    if (this.done) return;
    const now = performance.now();
    if (this.encoding === 'binary') {
      if (!isBinary) throw new MalformedReply(`a text frame in answer to binary order entry: ${data.toString('utf8', 0, 200)}`);
      const k = s.frames[s.frameHead++ & s.mask]!;
      if (data.length !== k * REPLY_SIZE) throw new MalformedReply(`a binary answer of ${data.length} bytes to a frame of ${k} records`);
      const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let r = 0; r < k; r++) this.binaryReply(s, v, r * REPLY_SIZE, now);
    } else {
      if (isBinary) throw new MalformedReply('a binary frame in answer to JSON order entry');
      const text = data.toString('utf8');
      if (this.encoding === 'json') {
        const j = s.head;
        const i = s.cmd[j & s.mask]!;
        this.complete(s, checkOrderReply(text, j, s.user, this.fmt.market(i).name), now);
      } else {
        const k = s.frames[s.frameHead++ & s.mask]!;
        let items: unknown;
        try {
          items = JSON.parse(text);
        } catch {
          throw new MalformedReply(`batch reply is not JSON: ${text.slice(0, 200)}`);
        }
        if (!Array.isArray(items) || items.length !== k) throw new MalformedReply(`a batch of ${k} answered by ${text.slice(0, 200)}`);
        for (const item of items) {
          const j = s.head;
          this.complete(s, checkOrderItem(item, j, s.user, this.fmt.market(s.cmd[j & s.mask]!).name, text), now);
        }
      }
    }
    if (!this.sending) {
      if (this.outstanding === 0) this.end();
      return;
    }
    // Once per turn of the event loop, after every reply frame read in it: what is due then leaves
    // in as few frames and writes as possible (no timer, so no added delay).
    if (!this.refillQueued) {
      this.refillQueued = true;
      setImmediate(this.refillSoon);
    }
  }

  private binaryReply(s: OrderSession, v: DataView, at: number, now: number): void {
    const j = s.head;
    const i = s.cmd[j & s.mask]!;
    const w = this.fmt.w;
    const id = v.getUint32(at + REP_ID, true);
    if (id !== j >>> 0) throw new MalformedReply(`binary reply id ${id} for request ${j >>> 0}`);
    if (v.getUint8(at + REP_OP) !== OPS[w.op[i]!] || v.getUint16(at + REP_MARKET, true) !== w.market[i]) throw new MalformedReply(`binary reply ${id}: op or market not echoed`);
    const error = v.getInt32(at + REP_ERROR, true);
    const orderId = v.getUint32(at + REP_ORDER_ID + 4, true) * 2 ** 32 + v.getUint32(at + REP_ORDER_ID, true);
    if (error === 0 && orderId <= 0) throw new MalformedReply(`binary reply ${id}: success without an order id`);
    if (error !== 0 && orderId !== 0) throw new MalformedReply(`binary reply ${id}: error ${error} with an order id`);
    const traded = error === 0 && (v.getUint32(at + REP_DEAL_STOCK, true) !== 0 || v.getUint32(at + REP_DEAL_STOCK + 4, true) !== 0);
    this.complete(s, { code: error === 0 ? null : error, orderId, traded }, now);
  }

  /** The reply to the session's oldest order in flight. */
  private complete(s: OrderSession, checked: Checked, now: number): void {
    if (s.head === s.sent) throw new MalformedReply('a reply with no order in flight');
    const at = s.head & s.mask;
    const i = s.cmd[at]!;
    s.head++;
    this.outstanding--;
    const method: Method = this.fmt.method(i);
    this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
    if (checked.code !== null) {
      const key = `${method} ${checked.code}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    } else if (method !== 'order.cancel') {
      this.fmt.placed(i, checked.orderId, s.user);
      if (checked.traded) this.traded++;
    }
    if (now <= this.endMs) this.replies++;
    this.histogram.recordValue(Math.max(1, Math.round((now - s.intended[at]!) * 1e6)));
    this.sendLag.recordValue(Math.max(1, Math.round((s.sentAt[at]! - s.intended[at]!) * 1e6)));
    this.roundTrip.recordValue(Math.max(1, Math.round((now - s.sentAt[at]!) * 1e6)));
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
    // Orders due but not sent are dropped (their commands are used up: later cancels of them are skipped).
    for (const s of this.sessions) {
      this.outstanding -= s.queued;
      s.tail = s.sent;
    }
    if (this.rate !== null) {
      const due = Math.floor((Math.min(performance.now(), this.endMs) - this.startMs) / this.intervalMs) + 1;
      this.backlog = this.exhausted ? 0 : Math.max(0, due - this.sent);
    }
    if (this.outstanding === 0) this.end();
  }

  private tick(): void {
    const now = performance.now();
    for (const s of this.sessions) {
      if (s.inFlight > 0 && now - s.sentAt[s.head & s.mask]! > REPLY_TIMEOUT_MS) {
        this.abort(new Error(`no WebSocket order reply within ${REPLY_TIMEOUT_MS / 1000} s`));
        return;
      }
    }
    const rate = ((this.replies - this.lastReplies) * 1000) / (now - this.lastAt);
    this.lastReplies = this.replies;
    this.lastAt = now;
    const elapsed = Math.min(this.seconds, (now - this.startMs) / 1000);
    const errors = [...this.errors.values()].reduce((a, b) => a + b, 0);
    this.load.line(
      `load ws orders (${this.encoding}) ${this.name} ${elapsed.toFixed(0)}/${this.seconds} s: ${count(rate)} orders/s` +
        `${this.rate === null ? '' : ` (target ${count(this.rate)})`}, ${count(this.replies)} replies, ${count(errors)} protocol errors, ${this.outstanding} outstanding`,
    );
  }

  private cleanup(): void {
    this.done = true;
    this.sending = false;
    this.clock.stop();
  }

  private end(): void {
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
      traded: this.traded,
      latency,
      sendLag,
      roundTrip,
      backlog: this.backlog,
      exhausted: this.exhausted,
      frames: this.frames,
    });
  }
}

const EMPTY = new Uint8Array(0);
