/**
 * Snapshots: snapshot + more commands + replay of the tail equals the live state; the file
 * round-trips exactly; restored books keep FIFO order and each user's order list; idempotency
 * keys and id counters survive; corrupt snapshots are skipped; old segments can be deleted.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateConfig } from '../../../conf/load.js';
import { defaultConfig } from '../../../conf/defaults.js';
import { SIDE_ASK, SIDE_BID } from '../../book/order-columns.js';
import { Code } from '../../codes.js';
import { Engine } from '../../engine.js';
import { bookOrders, pendingOrders } from '../../queries.js';
import { recover } from '../recover.js';
import { listSegments } from '../segment-files.js';
import { readShardLog } from '../segment-reader.js';
import {
  captureSnapshot, deleteSegmentsBefore, deleteSnapshotsBefore, latestValidSnapshot, listSnapshots, restoreSnapshot,
  SnapshotError, writeSnapshot,
} from '../snapshot.js';
import { decodeSnapshot, encodeSnapshot } from '../snapshot-codec.js';
import { stateHash } from '../state-hash.js';
import { journalConfig, runJournaled, singleEngine, tempDir, T0 } from './workload.js';

test('snapshot + later commands + replay of the tail gives the live state', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = singleEngine(config);
  const first = runJournaled(dir, [live], { seed: 11, commands: 700, commandsPerEpoch: 20, writer: { segmentBytes: 8 << 10 } });
  const snapshotEpoch = first.lastEpoch; // every frame of epochs ≤ this is in the engine: an epoch boundary
  const image = captureSnapshot([live], snapshotEpoch);
  const atSnapshot = stateHash([live]);
  const path = writeSnapshot(dir, image);
  assert.equal(path, join(dir, 'snapshot-0000000000000035.snap'));
  const second = runJournaled(dir, [live], { seed: 0, commands: 500, commandsPerEpoch: 20, firstEpoch: snapshotEpoch + 1 }, first);
  for (const w of second.writers) w.close();

  const restored = new Engine(config);
  const report = recover(dir, [restored]);
  assert.deepEqual(report.snapshot, { path, epoch: snapshotEpoch });
  assert.equal(report.durableFrom, 'seals');
  assert.equal(report.durableEpoch, second.lastEpoch);
  assert.equal(report.replay.firstEpoch, snapshotEpoch + 1);
  assert.equal(report.replay.lastEpoch, second.lastEpoch);
  assert.equal(report.nextEpoch, second.lastEpoch + 1);
  assert.equal(stateHash([restored]), stateHash([live]));

  // The snapshot alone is the state at its epoch.
  const atEpoch = new Engine(config);
  restoreSnapshot(image, [atEpoch]);
  assert.equal(stateHash([atEpoch]), atSnapshot);

  // Segments wholly before the snapshot can go; recovery gives the same state without them.
  const before = listSegments(dir).get(0)!.length;
  const deleted = deleteSegmentsBefore(dir, snapshotEpoch);
  assert.ok(deleted.length > 0);
  const remaining = listSegments(dir).get(0)!;
  assert.equal(remaining.length, before - deleted.length);
  assert.ok(remaining[0]!.firstEpoch <= snapshotEpoch + 1);
  const again = new Engine(config);
  recover(dir, [again]);
  assert.equal(stateHash([again]), stateHash([live]));
});

test('a snapshot file round-trips exactly, and a restored book keeps FIFO and per-user order', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = singleEngine(config);
  const run = runJournaled(dir, [live], { seed: 23, commands: 900, commandsPerEpoch: 50 });
  for (const w of run.writers) w.close();
  const image = captureSnapshot([live], 9);
  assert.ok(image.books.reduce((n, b) => n + b.count, 0) > 100, 'deep books');
  assert.deepEqual(decodeSnapshot(encodeSnapshot(image)), image);

  const restored = new Engine(config);
  restoreSnapshot(decodeSnapshot(encodeSnapshot(image)), [restored]);
  assert.equal(stateHash([restored]), stateHash([live]));
  for (const market of config.markets.map((_, i) => i)) {
    for (const side of [SIDE_ASK, SIDE_BID]) {
      assert.deepEqual(bookOrders(restored, market, side, 0, 10_000), bookOrders(live, market, side, 0, 10_000));
    }
    for (const user of [1, 2, 3, 4, 5, 6, 0x9000_0001]) {
      assert.deepEqual(pendingOrders(restored, user, market, 0, 10_000)?.items.map((o) => o.id), pendingOrders(live, user, market, 0, 10_000)?.items.map((o) => o.id));
    }
  }
  for (let id = 0; id < live.sourceCount; id++) assert.equal(restored.sourceName(id), live.sourceName(id));
});

test('after a restart, a repeated balance.update is refused and ids continue without reuse', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = singleEngine(config);
  const first = runJournaled(dir, [live], { seed: 5, commands: 400, commandsPerEpoch: 25 });
  writeSnapshot(dir, captureSnapshot([live], first.lastEpoch));
  const beforeSnapshot = first.trader.applied.length;
  const second = runJournaled(dir, [live], { seed: 0, commands: 400, commandsPerEpoch: 25, firstEpoch: first.lastEpoch + 1 }, first);
  for (const w of second.writers) w.close();
  const keys = second.trader.applied;
  assert.ok(beforeSnapshot > 5 && keys.length > beforeSnapshot + 5);

  const restored = new Engine(config);
  recover(dir, [restored]);
  const time = T0 + 1e12;
  for (const k of [keys[0]!, keys[beforeSnapshot - 1]!, keys[beforeSnapshot]!, keys[keys.length - 1]!]) {
    assert.equal(restored.updateBalance(k.user, k.asset, k.business, k.businessId, 1n, 'again', time), Code.REPEAT_UPDATE, JSON.stringify(k));
  }
  assert.equal(restored.updateBalance(1, 0, 'deposit', 1e9, 10n ** 14n, '', time), Code.OK, 'a new id still works');
  assert.equal(live.updateBalance(1, 0, 'deposit', 1e9, 10n ** 14n, '', time), Code.OK);

  assert.equal(restored.nextOrderId, live.nextOrderId);
  assert.equal(restored.nextDealId, live.nextDealId);
  // A crossing order on both: the same order id and deal ids, all above anything used before.
  const firstFreeOrder = live.nextOrderId;
  const firstFreeDeal = live.nextDealId;
  for (const engine of [live, restored]) {
    assert.equal(engine.placeLimit(1, 0, SIDE_BID, 100_000, 60e8, 0, 0, 0, time), Code.OK);
  }
  assert.equal(restored.result.id, live.result.id);
  assert.equal(restored.result.id, firstFreeOrder);
  assert.ok(restored.nextDealId > firstFreeDeal, 'it traded');
  assert.equal(restored.nextDealId, live.nextDealId);
  assert.equal(stateHash([restored]), stateHash([live]));
});

test('latestValidSnapshot skips corrupt and torn snapshots; temp files are ignored', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = singleEngine(config);
  const run = runJournaled(dir, [live], { seed: 8, commands: 200, commandsPerEpoch: 20 });
  for (const w of run.writers) w.close();
  const old = writeSnapshot(dir, captureSnapshot([live], 3));
  const middle = writeSnapshot(dir, captureSnapshot([live], 6));
  const newest = writeSnapshot(dir, captureSnapshot([live], 9));
  writeFileSync(join(dir, '.snapshot-0000000000000012.snap.1.tmp'), 'partial');
  assert.deepEqual(listSnapshots(dir).map((s) => s.epoch), [9, 6, 3]);

  const bytes = readFileSync(newest);
  bytes[bytes.length - 3]! ^= 0x01;
  writeFileSync(newest, bytes);
  writeFileSync(middle, readFileSync(middle).subarray(0, 100));
  const lines: string[] = [];
  const found = latestValidSnapshot(dir, (l) => lines.push(l));
  assert.equal(found?.path, old);
  assert.equal(found?.image.epoch, 3);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /checksum/);
  assert.match(lines[1]!, /bytes/);

  assert.deepEqual(deleteSnapshotsBefore(dir, 6), [old]);
  assert.equal(latestValidSnapshot(dir), null);
  assert.ok(readdirSync(dir).some((n) => n.endsWith('.tmp')));
});

test('a snapshot refuses a config whose assets or markets mean something else', (t) => {
  const dir = tempDir(t);
  const live = singleEngine(journalConfig());
  runJournaled(dir, [live], { seed: 2, commands: 50, commandsPerEpoch: 50 }).writers.forEach((w) => w.close());
  const image = decodeSnapshot(encodeSnapshot(captureSnapshot([live], 1)));
  const swapped = validateConfig({
    ...defaultConfig,
    assets: [defaultConfig.assets[1]!, defaultConfig.assets[0]!, ...defaultConfig.assets.slice(2)],
    engine: { max_users: 64, max_orders_per_market: 512, max_levels_per_side: 256 },
  });
  assert.throws(() => restoreSnapshot(image, [new Engine(swapped)]), SnapshotError);
  // Appending an asset is fine: indexes keep their meaning.
  const appended = validateConfig({
    ...defaultConfig,
    assets: [...defaultConfig.assets, { name: 'DOGE', prec_save: 8 }],
    engine: { max_users: 64, max_orders_per_market: 512, max_levels_per_side: 256 },
  });
  const restored = new Engine(appended);
  restoreSnapshot(image, [restored]);
  assert.deepEqual([...restored.balances.supply].slice(0, 5), [...live.balances.supply]);
});

test('deleteSegmentsBefore never deletes a segment holding a later epoch, nor a shard\'s last segment', (t) => {
  const dir = tempDir(t);
  const live = singleEngine(journalConfig());
  const run = runJournaled(dir, [live], { seed: 4, commands: 600, commandsPerEpoch: 10, writer: { segmentBytes: 4 << 10 } });
  for (const w of run.writers) w.close();
  const segments = listSegments(dir).get(0)!;
  assert.ok(segments.length > 4);
  const cutEpoch = segments[3]!.firstEpoch; // segment 2 ends at cutEpoch − 1; segment 3 holds cutEpoch
  deleteSegmentsBefore(dir, cutEpoch);
  assert.deepEqual(listSegments(dir).get(0)!.map((s) => s.name), segments.slice(3).map((s) => s.name));
  let lowest = Infinity;
  readShardLog(dir, 0, (f) => { lowest = Math.min(lowest, f.epoch); });
  assert.equal(lowest, cutEpoch);
  deleteSegmentsBefore(dir, 1e9);
  assert.deepEqual(listSegments(dir).get(0)!.map((s) => s.name), [segments[segments.length - 1]!.name]);
});
