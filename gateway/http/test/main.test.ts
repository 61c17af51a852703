/**
 * `node dist/main.js`: the all-in-one process starts from a config file, serves HTTP JSON-RPC,
 * and exits 0 on SIGINT and SIGTERM; SIGUSR2 takes a snapshot that the next start recovers from; a
 * bad config exits 1 with the offending key named.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConfig } from '../../../conf/defaults.js';
import { ok } from './client.js';
import { logLine as waitForLogLine, spawnMain, PROCESS_STEP_TIMEOUT_MS, type MainProcess } from '../../../test-support/main-process.js';


type Run = MainProcess;

const run = (args: string[]): Run => spawnMain(args);

/** The first log line with this message; rejects after PROCESS_STEP_TIMEOUT_MS or if the process exits. */
const logLine = (r: Run, msg: string): Promise<Record<string, unknown>> => waitForLogLine(r, msg, PROCESS_STEP_TIMEOUT_MS);

/** Waits for the exit, killing the process if it does not exit in time. */
async function exited(r: Run): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const timer = setTimeout(() => r.child.kill('SIGKILL'), PROCESS_STEP_TIMEOUT_MS);
  try {
    return await r.exit;
  } finally {
    clearTimeout(timer);
  }
}

describe('main.ts', { timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'viaduct-main-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`serves on the configured listener and exits 0 on ${signal}`, async () => {
      const path = join(dir, `config-${signal}.json`);
      writeFileSync(path, JSON.stringify({ ...defaultConfig, http: { host: '127.0.0.1', port: 0 } }));
      const r = run(['--config', path, '--data-dir', join(dir, `data-${signal}`)]); // never the checkout's ./data
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

  it('takes a snapshot on SIGUSR2 and starts from it next time', async () => {
    const path = join(dir, 'config-snapshot.json');
    const dataDir = join(dir, 'data-snapshot');
    writeFileSync(path, JSON.stringify({ ...defaultConfig, http: { host: '127.0.0.1', port: 0 }, ws: { host: '127.0.0.1', port: 0 } }));
    const first = run(['--config', path, '--data-dir', dataDir]);
    let snapshotPath = '';
    try {
      const port = (await logLine(first, 'HTTP JSON-RPC listening')).port as number;
      assert.ok((await ok<unknown[]>(port, 'market.list', [])).length > 0);
      first.child.kill('SIGUSR2');
      const taken = await logLine(first, 'snapshot taken');
      snapshotPath = taken.path as string;
      assert.ok(existsSync(snapshotPath), 'the snapshot file is there');
      assert.ok((taken.bytes as number) > 0);
      first.child.kill('SIGTERM');
      assert.deepEqual(await exited(first), { code: 0, signal: null });
    } finally {
      first.child.kill('SIGKILL');
    }
    const second = run(['--config', path, '--data-dir', dataDir]);
    try {
      const recovered = await logLine(second, 'recovered from the journal');
      assert.equal(recovered.snapshot, snapshotPath);
      await logLine(second, 'HTTP JSON-RPC listening'); // main.ts handles SIGTERM once its gateways listen
      second.child.kill('SIGTERM');
      assert.deepEqual(await exited(second), { code: 0, signal: null });
    } finally {
      second.child.kill('SIGKILL');
    }
  });

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
