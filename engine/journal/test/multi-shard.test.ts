/**
 * Several shards: two engines with disjoint markets over ONE shared balance table and shared
 * id counters, commands interleaved, each shard journaling into its own log. Replaying both logs
 * — in either order, into a fresh pair or into one engine holding every market — gives the same
 * balances, books and keys; ids continue above every id handed out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../engine.js';
import { Code } from '../../codes.js';
import { SIDE_BID } from '../../book/order-columns.js';
import { MAX_EPOCH } from '../format.js';
import { recover } from '../recover.js';
import { Replayer, replayJournal } from '../replay.js';
import { readShardLog } from '../segment-reader.js';
import { captureSnapshot, writeSnapshot } from '../snapshot.js';
import { stateHash } from '../state-hash.js';
import { journalConfig, ownerOf, runJournaled, shardedEngines, tempDir, T0 } from './workload.js';

/** Every (user, asset) → [available, frozen], by user id (rows may differ). */
function balances(engine: Engine): Map<string, [bigint, bigint]> {
  const out = new Map<string, [bigint, bigint]>();
  const table = engine.balances;
  table.users.forEach((user, row) => {
    for (let asset = 0; asset < table.assetCount; asset++) {
      const cell: [bigint, bigint] = [table.available(row, asset), table.frozen(row, asset)];
      if (cell[0] !== 0n || cell[1] !== 0n) out.set(`${user}/${asset}`, cell);
    }
  });
  return out;
}

test('two shards over one balance table: both logs replay to the same state, in either order', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = shardedEngines(config, 2);
  const shardOfCommand: number[] = [];
  const run = runJournaled(dir, live, {
    seed: 77, commands: 2000, commandsPerEpoch: 31, writer: { segmentBytes: 16 << 10 },
    onCommand: (_, e) => shardOfCommand.push(e),
  });
  for (const w of run.writers) w.close();
  assert.ok(shardOfCommand.includes(0) && shardOfCommand.includes(1), 'commands ran on both shards');
  assert.ok(shardOfCommand.some((e, i) => i > 0 && e !== shardOfCommand[i - 1]), 'interleaved');
  const liveHash = stateHash(live, { ids: false });

  // A fresh pair, replayed by replayJournal (shard 0's log, then shard 1's).
  const pair = shardedEngines(config, 2, false);
  const report = replayJournal(dir, pair, { durableEpoch: MAX_EPOCH });
  assert.equal(report.shards.length, 2);
  assert.deepEqual(balances(pair[0]!), balances(live[0]!));
  assert.deepEqual([...pair[0]!.balances.supply], [...live[0]!.balances.supply]);
  assert.equal(stateHash(pair, { ids: false }), liveHash);

  // The other order: shard 1's log first.
  const reversed = shardedEngines(config, 2, false);
  const replayer = new Replayer(reversed);
  for (const shard of [1, 0]) readShardLog(dir, shard, (f) => replayer.applyFrame(f));
  replayer.finish();
  assert.deepEqual(balances(reversed[0]!), balances(live[0]!));
  assert.equal(stateHash(reversed, { ids: false }), liveHash);

  // One engine holding every market (a different shard count after a restart).
  const single = new Engine(config);
  replayJournal(dir, [single], { durableEpoch: MAX_EPOCH });
  assert.equal(stateHash([single], { ids: false }), liveHash);

  // Ids continue above every id handed out by either shard.
  const maxOrder = report.stats.maxOrderId;
  const maxDeal = report.stats.maxDealId;
  assert.ok(maxOrder > 16 && maxDeal > 16, 'ids came from several blocks');
  const time = T0 + 1e12;
  const buyer = 0x7000_0000;
  const engine = pair[ownerOf(pair, 0)]!;
  assert.equal(pair[buyer % 2]!.updateBalance(buyer, 0, 'deposit', 1, 10n ** 15n, '', time), Code.OK);
  assert.equal(engine.placeLimit(buyer, 0, SIDE_BID, 100_000, 60e8, 0, 0, 0, time), Code.OK);
  assert.ok(engine.result.id > maxOrder);
  assert.ok(engine.nextDealId > maxDeal + 1, 'it traded with ids above the journal\'s');
});

test('two shards: snapshot mid-run, more interleaved commands, recovery gives the live state', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const live = shardedEngines(config, 2);
  const first = runJournaled(dir, live, { seed: 9, commands: 800, commandsPerEpoch: 40 });
  writeSnapshot(dir, captureSnapshot(live, first.lastEpoch));
  const second = runJournaled(dir, live, { seed: 0, commands: 800, commandsPerEpoch: 40, firstEpoch: first.lastEpoch + 1 }, first);
  for (const w of second.writers) w.close();

  const pair = shardedEngines(config, 2, false);
  const report = recover(dir, pair);
  assert.equal(report.snapshot?.epoch, first.lastEpoch);
  assert.equal(report.replay.firstEpoch, first.lastEpoch + 1);
  assert.equal(stateHash(pair, { ids: false }), stateHash(live, { ids: false }));
  // Keys went to the shard the router sends each user's balance.update to.
  for (const k of second.trader.applied) {
    const shard = pair[k.user % 2]!;
    assert.equal(shard.updateBalance(k.user, k.asset, k.business, k.businessId, 1n, '', T0 + 1e12), Code.REPEAT_UPDATE);
  }
});
