/**
 * Starts the exchange as the operator does (`node dist/main.js --config <file> --data-dir <dir>`)
 * in a child process for the load suite, in a temporary directory: a config on the embedded
 * defaults with both listeners on 127.0.0.1 at free ports, the default admin rule (balance.update
 * from loopback), engine.shards and journal.durability as asked, and WebSocket limits opened for
 * load (a request rate no client of the benchmark can reach, 64 MiB of unread replies per
 * connection, tokens for server.auth); the journal
 * (always on with npm start) goes to the temporary directory, which starts empty. Waits until HTTP
 * answers; stop() sends SIGTERM and waits for the exit (SIGKILL after a grace period), then removes
 * the temporary directory.
 *
 * LOAD_SERVER_NODE_ARGS (environment) adds node options to the server's command line, for
 * profiling: LOAD_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../conf/defaults.js';
import { validateConfig } from '../../conf/load.js';
import type { Config, ConfigInput } from '../../conf/schema.js';
import { HttpConnection, postOnce } from './http-client.js';

export const HOST = '127.0.0.1';

export interface ServerOptions {
  readonly shards: number;
  /** journal.durability: 'fsync' acknowledges an operation once its epoch is on disk. */
  readonly durability: 'fsync' | 'none';
  /** server.auth tokens → user ids, for the WebSocket workload. */
  readonly tokens: Readonly<Record<string, number>>;
  readonly log: (line: string) => void;
}

export interface RunningServer {
  readonly pid: number;
  readonly httpPort: number;
  readonly wsPort: number;
  readonly configPath: string;
  /** The server's --data-dir (the journal lives under it). */
  readonly dataDir: string;
  readonly config: Readonly<Config>;
  /** The exit code when the server has exited (a crash under load), else undefined. */
  exitCode(): number | null | undefined;
  /** The last lines the server printed (pino JSON logs), for error messages. */
  recentOutput(): string;
  /** Bytes of the server's data directory (journal segments, commit log, snapshots). */
  dataBytes(): number;
  /** Stops the server and removes its temporary files; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** The main script, relative to this file once compiled (dist/bench/load/server.js → dist/main.js). */
const MAIN = fileURLToPath(new URL('../../main.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

/** A port the OS considers free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const httpPort = await freePort();
  let wsPort = await freePort();
  while (wsPort === httpPort) wsPort = await freePort();
  const input: ConfigInput = {
    ...defaultConfig,
    engine: { shards: options.shards },
    journal: { durability: options.durability },
    http: { host: HOST, port: httpPort },
    ws: {
      host: HOST,
      port: wsPort,
      max_requests_per_second: 1_000_000,
      // Order entry keeps thousands of replies in flight per session: a generator busy for a moment must not count as a slow reader.
      max_backpressure_bytes: 1 << 26,
      auth: { tokens: { ...options.tokens } },
    },
  };
  const config = validateConfig(input);
  const dir = mkdtempSync(join(tmpdir(), 'viaduct-load-'));
  const configPath = join(dir, 'config.json');
  const dataDir = join(dir, 'data');
  writeFileSync(configPath, JSON.stringify(input, null, 2));

  const nodeArgs = (process.env.LOAD_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, MAIN, '--config', configPath, '--data-dir', dataDir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString('utf8'));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal === null ? null : -1);
      resolve(exitCode);
    });
  });

  const stop = async (): Promise<number | null> => {
    if (exitCode === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
    return exitCode ?? null;
  };

  try {
    await waitReady(child, httpPort, () => exitCode !== undefined);
  } catch (err) {
    await stop();
    throw new Error(`the exchange did not start: ${(err as Error).message}\n${output.join('').slice(-4000)}`);
  }
  const pid = child.pid!;
  options.log(`load: exchange started (pid ${pid}, ${options.shards} shard${options.shards === 1 ? '' : 's'}, HTTP ${HOST}:${httpPort}, WS ${HOST}:${wsPort})`);
  return {
    pid, httpPort, wsPort, configPath, dataDir, config, stop,
    exitCode: () => exitCode,
    recentOutput: () => output.join('').slice(-4000),
    dataBytes: () => bytesUnder(dataDir),
  };
}

function bytesUnder(path: string): number {
  let total = 0;
  try {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      total += entry.isDirectory() ? bytesUnder(child) : statSync(child).size;
    }
  } catch {
    // missing, or a file removed meanwhile (segments are deleted after snapshots)
  }
  return total;
}

async function waitReady(child: ChildProcess, port: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the server exited with code ${child.exitCode}`);
    try {
      const connection = await HttpConnection.open(HOST, port);
      try {
        const reply = await postOnce(connection, '{"id":1,"method":"asset.list","params":[]}');
        if (reply.status === 200 && reply.body.includes('"result"')) return;
        last = `HTTP ${reply.status}`;
      } finally {
        connection.close();
      }
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no answer on ${HOST}:${port} within ${READY_TIMEOUT_MS / 1000} s (${last})`);
}
