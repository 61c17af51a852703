/**
 * Per-connection limits that need state: the request rate, and closing idle connections.
 * (Message size and back-pressure are enforced by uWS and Session.send.)
 */

/** Counts requests in one-second windows; `allow` is false past `maxPerSecond` until the window ends. */
export class RateWindow {
  private windowStart = -Infinity;
  private count = 0;

  constructor(private readonly maxPerSecond: number) {}

  allow(nowMs: number): boolean {
    if (nowMs - this.windowStart >= 1000) {
      this.windowStart = nowMs;
      this.count = 0;
    }
    this.count++;
    return this.count <= this.maxPerSecond;
  }
}

export interface Idle {
  /** When the connection last sent a frame (ms). */
  readonly lastActivity: number;
  close(): void;
}

/**
 * Closes connections that sent nothing for `timeoutMs`, checking every quarter of the timeout
 * (at most once a minute, as the original). Returns the function that stops the checks.
 */
export function startIdleSweep(connections: Iterable<Idle>, timeoutMs: number, clock: () => number): () => void {
  if (timeoutMs <= 0) return () => undefined;
  const period = Math.min(60_000, Math.max(50, Math.floor(timeoutMs / 4)));
  const timer = setInterval(() => {
    const oldest = clock() - timeoutMs;
    const idle: Idle[] = [];
    for (const c of connections) if (c.lastActivity <= oldest) idle.push(c);
    for (const c of idle) c.close();
  }, period);
  timer.unref();
  return () => clearInterval(timer);
}
