/**
 * A load phase's clocks, started and stopped together: the end of sending after the phase's
 * seconds, the progress line every second, and, in an open loop, the pacer (lib/pacer.ts) that
 * sends what falls due between replies.
 */
import { Pacer } from '../lib/pacer.js';

export class PhaseClock {
  private timers: NodeJS.Timeout[] = [];

  private constructor(private pacer: Pacer | null) {}

  /** A clock for a phase at `rate` (null: closed loop, no pacer); an open loop's pacer is ticking before this resolves. */
  static async forRate(rate: number | null): Promise<PhaseClock> {
    return new PhaseClock(rate === null ? null : await Pacer.start());
  }

  /** Starts the phase: `onEnd` after `seconds`, `onProgress` every second, `onTick` on each pacer tick. */
  start(seconds: number, onEnd: () => void, onProgress: () => void, onTick: () => void): void {
    this.timers.push(setTimeout(onEnd, seconds * 1000));
    this.timers.push(setInterval(onProgress, 1000));
    this.pacer?.run(onTick);
  }

  /** The open loop's next send is due at `atMs` (null: none is): the pacer wakes the sender only then (Pacer.due). */
  due(atMs: number | null): void {
    this.pacer?.due(atMs);
  }

  /** Sending is over: no more ticks (the progress line goes on until stop()). */
  stopTicks(): void {
    this.pacer?.stop();
    this.pacer = null;
  }

  stop(): void {
    this.stopTicks();
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}
