/**
 * Recovery chooses whole epochs: the durable epoch is the last one every shard sealed (or the
 * caller's), later frames are never replayed, and repair removes them (and torn tails) so that
 * writers continue at nextEpoch. The operator command prints the same state hash.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../../conf/defaults.js';
import { Engine } from '../../engine.js';
import { MAX_EPOCH } from '../format.js';
import { recover } from '../recover.js';
import { completeEpoch } from '../replay.js';
import { listSegments } from '../segment-files.js';
import { scanJournal } from '../segment-reader.js';
import { SegmentWriter } from '../segment-writer.js';
import { captureSnapshot, writeSnapshot } from '../snapshot.js';
import { stateHash } from '../state-hash.js';
import { runReplayCli, type ReplaySummary } from '../replay-cli.js';
import { journalConfig, runJournaled, shardedEngines, singleEngine, tempDir } from './workload.js';

test('only epochs sealed by every shard are replayed; repair discards the rest and writing continues above', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = shardedEngines(config, 2);
  const durable = runJournaled(dir, live, { seed: 31, commands: 600, commandsPerEpoch: 50 });
  const durableHash = stateHash(live, { ids: false });
  // Epoch 13 is written by both shards but sealed by shard 0 only: the committer crashed in between.
  const torn = runJournaled(dir, live, { seed: 0, commands: 120, commandsPerEpoch: 1000, firstEpoch: durable.lastEpoch + 1, seal: false }, durable);
  torn.writers[0]!.seal(torn.lastEpoch);
  for (const w of torn.writers) w.close();
  assert.notEqual(stateHash(live, { ids: false }), durableHash);
  const scan = scanJournal(dir);
  assert.deepEqual([...scan.values()].map((s) => [s.lastEpoch, s.lastSealedEpoch]), [[13, 13], [13, 12]]);
  assert.equal(completeEpoch(scan.values()), 12);

  // Read-only recovery: epoch 13 is not replayed, and nothing on disk changes.
  const pair = shardedEngines(config, 2, false);
  const report = recover(dir, pair);
  assert.equal(report.durableFrom, 'seals');
  assert.equal(report.durableEpoch, 12);
  assert.equal(report.replay.lastEpoch, 12);
  assert.equal(report.nextEpoch, 14, 'above every epoch on disk');
  assert.equal(stateHash(pair, { ids: false }), durableHash);
  assert.equal(scanJournal(dir).get(0)!.lastEpoch, 13);

  // The caller may know better (its own durable-epoch record).
  const upTo5 = shardedEngines(config, 2, false);
  assert.equal(recover(dir, upTo5, { durableEpoch: 5 }).replay.lastEpoch, 5);

  // Repair: epoch 13's frames are cut from both logs; writers start at nextEpoch; state unchanged.
  const repaired = shardedEngines(config, 2, false);
  const fixed = recover(dir, repaired, { repair: true, log: () => undefined });
  assert.equal(fixed.discarded.length, 2);
  assert.ok(fixed.discarded.every((c) => c.problem === 'not-durable'));
  assert.deepEqual([...scanJournal(dir).values()].map((s) => s.lastEpoch), [12, 12]);
  const writers = [0, 1].map((shard) => SegmentWriter.open(dir, shard, fixed.nextEpoch));
  for (const w of writers) {
    w.seal(fixed.nextEpoch);
    w.close();
  }
  const after = shardedEngines(config, 2, false);
  const third = recover(dir, after);
  assert.equal(third.durableEpoch, 14);
  assert.equal(stateHash(after, { ids: false }), durableHash, 'epoch 13 never comes back');
});

test('recovery with no seals replays every intact frame; repair cuts a torn tail', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = singleEngine(config);
  const run = runJournaled(dir, [live], { seed: 12, commands: 300, commandsPerEpoch: 30, seal: false });
  for (const w of run.writers) w.close();
  const segments = listSegments(dir).get(0)!;
  appendFileSync(segments[segments.length - 1]!.path, new Uint8Array([1, 2, 3, 4, 5]));

  const lines: string[] = [];
  const engine = new Engine(config);
  const report = recover(dir, [engine], { repair: true, log: (l) => lines.push(l) });
  assert.equal(report.durableFrom, 'everything');
  assert.equal(report.durableEpoch, MAX_EPOCH);
  assert.equal(report.cuts.length, 1);
  assert.equal(report.cuts[0]!.bytes, 5);
  assert.equal(lines.length, 2, 'the cut and its removal are logged');
  assert.equal(stateHash([engine]), stateHash([live]));
  assert.equal(scanJournal(dir).get(0)!.cut, null);
});

test('replay-cli prints the state hash and counts of snapshot + journal', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = singleEngine(config);
  const first = runJournaled(dir, [live], { seed: 17, commands: 300, commandsPerEpoch: 30 });
  writeSnapshot(dir, captureSnapshot([live], first.lastEpoch));
  const second = runJournaled(dir, [live], { seed: 0, commands: 200, commandsPerEpoch: 30, firstEpoch: first.lastEpoch + 1 }, first);
  for (const w of second.writers) w.close();
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({ ...defaultConfig, engine: { max_users: 64, max_orders_per_market: 512, max_levels_per_side: 256 } }));

  const json = runReplayCli(['--dir', dir, '--config', configPath, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const summary = JSON.parse(json.stdout) as ReplaySummary;
  assert.equal(summary.stateHash, stateHash([live]));
  assert.equal(summary.snapshot?.epoch, first.lastEpoch);
  assert.equal(summary.durableEpoch, second.lastEpoch);
  assert.equal(summary.users, live.balances.users.size);
  assert.equal(summary.nextOrderId, live.nextOrderId);
  assert.deepEqual(summary.cuts, []);
  assert.ok(summary.eventsReplayed > 0);
  assert.equal(summary.epochsReplayed, second.lastEpoch - first.lastEpoch);
  assert.deepEqual(Object.keys(summary.restingOrders), config.markets.map((m) => m.name));

  // The compiled command, as an operator runs it, with a torn tail to report.
  const segments = listSegments(dir).get(0)!;
  appendFileSync(segments[segments.length - 1]!.path, new Uint8Array(12).fill(9));
  const script = fileURLToPath(new URL('../replay-cli.js', import.meta.url));
  const out = spawnSync(process.execPath, [script, '--dir', dir, '--config', configPath], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, new RegExp(`state hash: +${stateHash([live])}`));
  assert.match(out.stdout, /tail cuts:\n {2}journal shard 0: short-frame at .*000-0000000000000001\.log offset \d+: 12 byte\(s\) cut\n/);
  assert.match(out.stderr, /12 byte\(s\) cut/);

  assert.equal(runReplayCli([]).code, 2);
  assert.equal(runReplayCli(['--dir', dir, '--bogus']).code, 2);
  assert.equal(runReplayCli(['--dir', dir, '--durable-epoch', '-1']).code, 2);
  assert.equal(runReplayCli(['--dir', dir, '--config', join(dir, 'missing.json')]).code, 1);
});
