/**
 * Snapshots from raw copies: what a paused shard and the router copy (typed arrays, a mark of the
 * key log) is all a snapshot needs. The file made from the copies later — after the engines went
 * on cancelling, trading, funding new users and reusing the freed slots — is byte for byte the
 * file an in-place capture at the copy would have made, and restores the state hash of that
 * moment; the copy buffers are reused from one snapshot to the next. Through the Router, a
 * snapshot taken while commands flow equals the journal replayed up to the snapshot's epoch.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { test } from 'node:test';
import { validateConfig } from '../../../conf/load.js';
import { SIDE_ASK, SIDE_BID } from '../../book/order-columns.js';
import { Engine } from '../../engine.js';
import { MAX_EPOCH } from '../format.js';
import { byUserModulo, replayJournal } from '../replay.js';
import { decodeSnapshot, encodeSnapshot } from '../snapshot-codec.js';
import {
  captureSnapshot, composeSnapshot, CopyBuffers, copyBalances, copyEngine, engineImageOf, namesOf, readSnapshot,
  restoreSnapshot,
} from '../snapshot.js';
import { writeSnapshotInBackground } from '../snapshot-writer.js';
import { stateHash } from '../state-hash.js';
import { freshShardEngines } from '../../router/recovery.js';
import { Router } from '../../router/router.js';
import { BCH, BTC, BTCBCH, COIN, LOT, LTC, LTCBCH, twoShards, WORKER_TEST } from '../../router/test/harness.js';
import { journalConfig, runJournaled, shardedEngines, singleEngine, tempDir, T0 } from './workload.js';

test('a snapshot made from raw copies after the engine changed is the snapshot of the moment of the copy', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = singleEngine(config);
  let run = runJournaled(dir, [live], { seed: 31, commands: 900, commandsPerEpoch: 50 });
  const engineBuffers = new CopyBuffers();
  const tableBuffers = new CopyBuffers();
  for (let round = 0; round < 3; round++) { // the same buffers every round, as a shard and the router keep them
    const epoch = run.lastEpoch;
    const atCopy = stateHash([live]);
    const inPlace = encodeSnapshot(captureSnapshot([live], epoch));
    const copy = copyEngine(live, engineBuffers);
    const balances = copyBalances(live.balances, tableBuffers);

    // The engine goes on: cancels free slots that new orders take, deals change resting orders and
    // balances, deposits add users and balance.update keys.
    run = runJournaled(dir, [live], { seed: 0, commands: 700, commandsPerEpoch: 50, firstEpoch: epoch + 1 }, run);
    assert.notEqual(stateHash([live]), atCopy, 'the engine changed after the copy');
    const overwritten = copy.books.some((b) => b.id.some((id, slot) => live.books[b.market]!.orders.id[slot] !== id));
    assert.ok(overwritten, 'slots copied were reused by newer orders');

    const image = composeSnapshot(epoch, namesOf(live.specs), balances, [engineImageOf(copy)]);
    const bytes = encodeSnapshot(image);
    assert.deepEqual(bytes, inPlace, `round ${round}: the same file as an in-place capture at the copy`);
    const restored = new Engine(config);
    restoreSnapshot(decodeSnapshot(bytes), [restored]);
    assert.equal(stateHash([restored]), atCopy);
  }
  for (const w of run.writers) w.close();
});

test('two shards: raw copies written by the snapshot writer thread while the shards go on', async (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = shardedEngines(config, 2);
  let run = runJournaled(dir, live, { seed: 5, commands: 1200, commandsPerEpoch: 40 });
  const buffers = live.map(() => new CopyBuffers());
  const tableBuffers = new CopyBuffers();
  for (let round = 0; round < 2; round++) {
    const epoch = run.lastEpoch;
    const atCopy = stateHash(live);
    const parts = live.map((engine, i) => copyEngine(engine, buffers[i]));
    const balances = copyBalances(live[0]!.balances, tableBuffers);
    const writing = writeSnapshotInBackground({ dir, epoch, names: namesOf(live[0]!.specs), balances, parts, pending: [] });
    run = runJournaled(dir, live, { seed: 0, commands: 800, commandsPerEpoch: 40, firstEpoch: epoch + 1 }, run);
    const written = await writing;
    assert.notEqual(stateHash(live), atCopy);

    const restored = shardedEngines(config, 2, false);
    const file = readSnapshot(written.path);
    assert.equal(file.epoch, epoch);
    restoreSnapshot(file, restored);
    assert.equal(stateHash(restored), atCopy);
  }
  for (const w of run.writers) w.close();
});


test('router.snapshot() while commands flow equals the journal replayed to its epoch', WORKER_TEST, async (t) => {
  const dir = tempDir(t);
  const base = twoShards();
  const config = validateConfig({ ...base, journal: { ...base.journal, dir, durability: 'none', snapshot_interval_s: 0 } });
  const router = await Router.start(config);
  const taken: Awaited<ReturnType<Router['snapshot']>>[] = [];
  try {
    let time = T0;
    const users = Array.from({ length: 24 }, (_, i) => i + 1);
    await Promise.all(users.flatMap((user, i) => [
      router.updateBalance(user, BTC, 'deposit', i, 1_000n * COIN, '', ++time),
      router.updateBalance(user, BCH, 'deposit', i, 1_000_000n * COIN, '', ++time),
      router.updateBalance(user, LTC, 'deposit', i, 10_000n * COIN, '', ++time),
    ]));
    // Crossing limit orders on a market of each shard, with deposits in between (new keys).
    const flow = (k: number): Promise<unknown> => {
      const user = users[k % users.length]!;
      if (k % 17 === 0) return router.updateBalance(user, BCH, 'bonus', 1_000 + k, 7n * COIN, '', ++time);
      const market = k % 2 === 0 ? BTCBCH : LTCBCH;
      const side = (k >> 1) % 2 === 0 ? SIDE_ASK : SIDE_BID;
      const price = (side === SIDE_ASK ? 100 + (k % 7) : 96 + (k % 7)) * LOT;
      return router.placeLimit(user, market, side, (1 + (k % 5)) * LOT / 100, price, 1, 1, k % 3 === 0 ? 'web' : 'api', ++time);
    };
    for (let round = 0; round < 3; round++) {
      const sent: Promise<unknown>[] = [];
      for (let k = 0; k < 600; k++) sent.push(flow(round * 1_000 + k));
      const snapshot = router.snapshot(); // lands somewhere in the middle of the flow
      for (let k = 600; k < 1_000; k++) sent.push(flow(round * 1_000 + k));
      taken.push(await snapshot);
      await Promise.all(sent);
    }
  } finally {
    await router.stop();
  }
  assert.equal(taken.length, 3);
  let previous = '';
  for (const s of taken) {
    const fromSnapshot = freshShardEngines(config);
    restoreSnapshot(readSnapshot(s.path), fromSnapshot, byUserModulo(2));
    const fromJournal = freshShardEngines(config);
    replayJournal(dir, fromJournal, { durableEpoch: s.epoch, updateOwner: byUserModulo(2) });
    const hash = stateHash(fromSnapshot, { ids: false });
    assert.equal(hash, stateHash(fromJournal, { ids: false }), `snapshot of epoch ${s.epoch}`);
    assert.notEqual(hash, previous, 'each snapshot holds a newer state');
    previous = hash;
  }
  const everything = freshShardEngines(config);
  replayJournal(dir, everything, { durableEpoch: MAX_EPOCH, updateOwner: byUserModulo(2) });
  assert.notEqual(stateHash(everything, { ids: false }), previous, 'commands ran after the last snapshot');
  assert.ok(everything.some((e) => e.books.some((b) => b !== null && b.orders.size > 0)), 'orders rest');
});

test('router.stop() during a snapshot lets it finish: the file is whole, no temp file is left', WORKER_TEST, async (t) => {
  const dir = tempDir(t);
  const base = twoShards();
  const config = validateConfig({ ...base, journal: { ...base.journal, dir, durability: 'none', snapshot_interval_s: 0 } });
  const router = await Router.start(config);
  let time = T0;
  await router.updateBalance(7, BTC, 'deposit', 1, 10n * COIN, '', ++time);
  await router.placeLimit(7, BTCBCH, SIDE_ASK, LOT, 100 * LOT, 1, 1, '', ++time);
  const snapshot = router.snapshot();
  await router.stop(); // asked before the snapshot's pause or write is over
  const files = readdirSync(dir);
  assert.deepEqual(files.filter((name) => name.endsWith('.tmp')), [], 'no half-written snapshot');
  const taken = await snapshot;
  assert.ok(files.includes(basename(taken.path)), 'the snapshot was durable when stop() resolved');
  const restored = freshShardEngines(config);
  restoreSnapshot(readSnapshot(taken.path), restored, byUserModulo(2));
  const replayed = freshShardEngines(config);
  replayJournal(dir, replayed, { durableEpoch: MAX_EPOCH, updateOwner: byUserModulo(2) });
  assert.equal(stateHash(restored, { ids: false }), stateHash(replayed, { ids: false }), 'the snapshot holds every command acknowledged before it');
});
