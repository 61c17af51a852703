/**
 * CPU time of the load suite's two processes, per phase: the server's by thread (from /proc, Linux)
 * and the load generator's own (process.cpuUsage()).
 *
 * Node does not name its threads (every one is "node" in /proc), so the server's threads are told
 * apart by role: the main thread (tid = pid) runs the HTTP and WebSocket gateways and the router;
 * the `shards` busiest other threads of a phase are the shard workers (they run the matching
 * loop and are by far the busiest); the rest are V8's GC and compiler helpers and libuv.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadTimes {
  readonly total: number;
  readonly byThread: ReadonlyMap<number, number>;
}

export interface ServerCpu {
  readonly total: number;
  readonly main: number;
  readonly shards: number;
  readonly other: number;
}

/** utime + stime of a /proc stat line, in seconds (USER_HZ is 100 on every Linux we run on). */
function statSeconds(text: string): number | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / 100 : null;
}

/** CPU seconds of every thread of `pid` so far, or null when /proc cannot be read. */
export function readThreadTimes(pid: number): ThreadTimes | null {
  try {
    const total = statSeconds(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    if (total === null) return null;
    const byThread = new Map<number, number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const seconds = statSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1'));
        if (seconds !== null) byThread.set(Number(tid), seconds);
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return { total, byThread };
  } catch {
    return null;
  }
}

/** The server's CPU seconds between two readings, by role (see the file comment). */
export function serverCpuBetween(pid: number, shards: number, from: ThreadTimes | null, to: ThreadTimes | null): ServerCpu | null {
  if (from === null || to === null) return null;
  const round = (x: number): number => Math.round(x * 100) / 100;
  const main = (to.byThread.get(pid) ?? 0) - (from.byThread.get(pid) ?? 0);
  const others: number[] = [];
  for (const [tid, seconds] of to.byThread) if (tid !== pid) others.push(seconds - (from.byThread.get(tid) ?? 0));
  others.sort((a, b) => b - a);
  const shardTime = others.slice(0, shards).reduce((a, b) => a + b, 0);
  const total = to.total - from.total;
  return { total: round(total), main: round(main), shards: round(shardTime), other: round(Math.max(0, total - main - shardTime)) };
}

/** CPU seconds (user + system) this process has used so far. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
