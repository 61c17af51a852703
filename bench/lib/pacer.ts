/**
 * The clock of the open loops (drivers/shards.ts, load/http-load.ts, load/ws-load.ts,
 * load/ws-orders.ts): calls `onTick` about every 200 µs (TICK_MS plus the kernel's timer slack)
 * without spinning the event loop or waiting for a 1 ms timer. A worker thread sleeps in
 * Atomics.wait and bumps a shared counter; the sending thread waits for it with
 * Atomics.waitAsync, so between ticks it only serves replies.
 *
 * Why not a setImmediate loop: it turns about a million times a second, allocating an Immediate
 * each turn — in the router's thread that garbage meant a minor GC every ~50 ms, whose pauses
 * were then measured as acknowledgement latency. Why not setTimeout: at least 1 ms late, and an
 * open loop's sends that are late count as latency.
 *
 * Due mode (`due()`): a sender that also sends on replies tells the clock when its next send is
 * due (or that none is), and the clock wakes it only once that time has passed without a send —
 * not on every tick. Waking the sender's thread costs it a task and an event-loop turn each time
 * (~10,000 a second), on the two cores it shares with the server, though replies already send
 * most requests on time. (Measured: the HTTP open loop's generator CPU per request moved within
 * the noise, 21–25 µs against 22–28 µs; the wakes are cheap next to the socket work.)
 */
import { Worker } from 'node:worker_threads';

/**
 * Sleep asked of the worker per tick; with the kernel's timer slack a tick comes every ~200 µs.
 * Until 2026-11-26 it was 0.02 ms (a tick every ~100 µs): the clock thread then woke ~9,000
 * times a second and took 14 % of a core (perf sched, HTTP open loop at 28.7 k/s), taken from the
 * server on two cores. At 0.15 ms the generator used 11 % of a core less in that phase, and the
 * open loop's median send lag did not move (~55 µs: replies send most requests on time).
 */
export const TICK_MS = 0.15;

/** Cells: [ticks, stop, due, mode]. */
const TICKS = 0;
const STOP = 1;
/** Due mode: when the sender's next send is due, in µs since the pacer's base (hrtime); NONE when nothing is due. */
const DUE = 2;
/** 1 once the sender uses due mode: ticks then reach it only when DUE has passed. */
const MODE = 3;
const NONE = -1;

export interface PacerTask {
  readonly cells: Int32Array;
  readonly tickMs: number;
  /** process.hrtime.bigint() at the pacer's start, in µs: the base of DUE (the same clock on every thread). */
  readonly baseUs: number;
}

function hrtimeUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
/** Atomics.waitAsync (Node ≥ 16); typed here because the project's lib is ES2023. */
const waitAsync = (Atomics as unknown as {
  waitAsync: (cells: Int32Array, index: number, value: number) => WaitAsyncResult;
}).waitAsync;

export class Pacer {
  private readonly cells = new Int32Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;
  private onTick: (() => void) | null = null;
  private stopped = false;
  /** performance.now() of the base of DUE (this thread's clock). */
  private readonly baseMs: number;

  private constructor() {
    const baseUs = hrtimeUs();
    this.baseMs = performance.now() - (hrtimeUs() - baseUs) / 1000;
    this.cells[DUE] = NONE;
    const task: PacerTask = { cells: this.cells, tickMs: TICK_MS, baseUs };
    this.worker = new Worker(new URL('./pacer-worker.js', import.meta.url), { workerData: task });
  }

  /**
   * Starts the clock thread and resolves once it ticks: starting a worker takes the caller's
   * thread several milliseconds, which must not fall inside a measured phase. Ticks reach no one
   * until `run`.
   */
  static async start(): Promise<Pacer> {
    const pacer = new Pacer();
    const first = waitAsync(pacer.cells, TICKS, 0);
    const failed = new Promise<never>((_, reject) => pacer.worker.once('error', reject));
    if (first.async) await Promise.race([first.value, failed]); // the running worker keeps the event loop alive meanwhile
    void pacer.loop();
    return pacer;
  }

  /** From now on calls `onTick` on this thread, at most once per tick. */
  run(onTick: () => void): void {
    this.onTick = onTick;
  }

  /**
   * Due mode: the next send is due at `atMs` (performance.now() of this thread), or null when none
   * is (e.g. every connection busy: a reply will send it). From the first call on, `onTick` runs
   * only on ticks at or after the due time that no later call moved; call it after every send pass.
   */
  due(atMs: number | null): void {
    if (this.cells[MODE] === 0) Atomics.store(this.cells, MODE, 1);
    Atomics.store(this.cells, DUE, atMs === null ? NONE : Math.max(0, Math.floor((atMs - this.baseMs) * 1000)));
  }

  /** Stops the ticks (no `onTick` after this returns) and ends the worker. */
  stop(): void {
    this.stopped = true;
    this.onTick = null;
    Atomics.store(this.cells, STOP, 1);
    Atomics.notify(this.cells, STOP);
    void this.worker.terminate();
  }

  private async loop(): Promise<void> {
    let seen = Atomics.load(this.cells, TICKS);
    while (!this.stopped) {
      const wait = waitAsync(this.cells, TICKS, seen);
      if (wait.async) await wait.value;
      seen = Atomics.load(this.cells, TICKS);
      this.onTick?.();
    }
  }
}

/**
 * The worker's side (pacer-worker.ts): tick until told to stop — every tick, or in due mode only
 * once DUE has passed (then DUE is cleared, unless the sender moved it meanwhile).
 */
export function runTicks(task: PacerTask): void {
  const { cells, tickMs, baseUs } = task;
  while (Atomics.load(cells, STOP) === 0) {
    Atomics.wait(cells, STOP, 0, tickMs);
    if (Atomics.load(cells, MODE) === 1) {
      const due = Atomics.load(cells, DUE);
      if (due === NONE || hrtimeUs() - baseUs < due) continue;
      Atomics.compareExchange(cells, DUE, due, NONE); // one wake per due time; a newer one set meanwhile stays
    }
    Atomics.add(cells, TICKS, 1);
    Atomics.notify(cells, TICKS);
  }
}
