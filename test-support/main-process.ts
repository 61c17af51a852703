/**
 * `node dist/main.js` as a child process for end-to-end and crash tests: starts it, collects its
 * JSON log lines, and waits for a given log message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * How long a test waits for the process to start serving or to exit: generous, because CI runs
 * two test files at once on two cores, and a cold start (uWebSockets.js, shard workers, buffers)
 * or a shutdown can then take seconds.
 */
export const PROCESS_STEP_TIMEOUT_MS = 30_000;

/** The compiled all-in-one entry point. */
export const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export interface MainProcess {
  readonly child: ChildProcess;
  /** Complete stdout lines (pino JSON) so far. */
  readonly lines: string[];
  readonly stderr: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnMain(args: readonly string[]): MainProcess {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, lines, stderr, exit };
}

/** The first log line with this message; rejects when the process exits first or after `timeoutMs`. */
export async function logLine(p: MainProcess, msg: string, timeoutMs: number): Promise<Record<string, unknown>> {
  for (let waited = 0; ; waited += 10) {
    for (const line of p.lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === msg) return entry;
    }
    if (p.child.exitCode !== null || p.child.signalCode !== null) {
      throw new Error(`the process exited before "${msg}": ${p.stderr.join('')}\n${p.lines.slice(-20).join('\n')}`);
    }
    if (waited > timeoutMs) throw new Error(`no "${msg}" log line; got ${p.lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
