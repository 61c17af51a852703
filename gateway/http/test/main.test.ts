/**
 * `node dist/main.js`: the all-in-one process starts from a config file, serves HTTP JSON-RPC,
 * and exits 0 on SIGINT and SIGTERM; a bad config exits 1 with the offending key named.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { defaultConfig } from '../../../conf/defaults.js';
import { ok, TIMEOUT_MS } from './client.js';

const MAIN = fileURLToPath(new URL('../../../main.js', import.meta.url));

interface Run {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Run {
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

/** Resolves with the first log line that has this message; rejects after TIMEOUT_MS or if the process exits. */
async function logLine(r: Run, msg: string): Promise<Record<string, unknown>> {
  const started = performance.now();
  for (;;) {
    for (const line of r.lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === msg) return entry;
    }
    if (r.child.exitCode !== null) throw new Error(`process exited: ${r.stderr.join('')}`);
    if (performance.now() - started > TIMEOUT_MS) throw new Error(`no "${msg}" log line; got ${r.lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits for the exit, killing the process if it does not exit in time. */
async function exited(r: Run): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const timer = setTimeout(() => r.child.kill('SIGKILL'), TIMEOUT_MS);
  try {
    return await r.exit;
  } finally {
    clearTimeout(timer);
  }
}

describe('main.ts', { timeout: 30_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'viaduct-main-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`serves on the configured listener and exits 0 on ${signal}`, async () => {
      const path = join(dir, `config-${signal}.json`);
      writeFileSync(path, JSON.stringify({ ...defaultConfig, http: { host: '127.0.0.1', port: 0 } }));
      const r = run(['--config', path]);
      try {
        const listening = await logLine(r, 'HTTP JSON-RPC listening');
        const port = listening.port as number;
        assert.ok(port > 0);
        assert.equal(listening.admin_port, null);
        const assets = await ok<{ name: string }[]>(port, 'asset.list', []);
        assert.deepEqual(assets.map((a) => a.name), ['BCH', 'BTC', 'LTC', 'ETH', 'USDT']);
        r.child.kill(signal);
        assert.deepEqual(await exited(r), { code: 0, signal: null });
        assert.ok(r.lines.some((line) => line.includes('shutting down')));
      } finally {
        r.child.kill('SIGKILL');
      }
    });
  }

  it('exits 1 and names the key on a bad config', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ ...defaultConfig, http: { port: 0, colour: 'blue' } }));
    const r = run(['--config', path]);
    try {
      assert.deepEqual(await exited(r), { code: 1, signal: null });
      assert.match(r.stderr.join(''), /http.*colour/);
    } finally {
      r.child.kill('SIGKILL');
    }
  });
});
