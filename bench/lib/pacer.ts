/**
 * The clock of the open loops (drivers/shards.ts, load/http-load.ts, load/ws-load.ts,
 * load/ws-orders.ts): calls `onTick` about every TICK_MS (some 100 µs: Atomics.wait's floor
 * here) without spinning the event loop or waiting for a 1 ms timer. A worker thread sleeps in
 * Atomics.wait and bumps a shared counter; the sending thread waits for it with
 * Atomics.waitAsync, so between ticks it only serves replies.
 *
 * Why not a setImmediate loop: it turns about a million times a second, allocating an Immediate
 * each turn — in the router's thread that garbage meant a minor GC every ~50 ms, whose pauses
 * were then measured as acknowledgement latency. Why not setTimeout: at least 1 ms late, and an
 * open loop's sends that are late count as latency.
 */
import { Worker } from 'node:worker_threads';

/** Sleep asked of the worker per tick; with the kernel's timer slack a tick comes every ~100 µs. */
export const TICK_MS = 0.02;

/** Cells: [ticks, stop]. */
const TICKS = 0;
const STOP = 1;

export interface PacerTask {
  readonly cells: Int32Array;
  readonly tickMs: number;
}

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
/** Atomics.waitAsync (Node ≥ 16); typed here because the project's lib is ES2023. */
const waitAsync = (Atomics as unknown as {
  waitAsync: (cells: Int32Array, index: number, value: number) => WaitAsyncResult;
}).waitAsync;

export class Pacer {
  private readonly cells = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;
  private onTick: (() => void) | null = null;
  private stopped = false;

  private constructor() {
    const task: PacerTask = { cells: this.cells, tickMs: TICK_MS };
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

/** The worker's side (pacer-worker.ts): tick until told to stop. */
export function runTicks(task: PacerTask): void {
  const { cells, tickMs } = task;
  while (Atomics.load(cells, STOP) === 0) {
    Atomics.wait(cells, STOP, 0, tickMs);
    Atomics.add(cells, TICKS, 1);
    Atomics.notify(cells, TICKS);
  }
}
