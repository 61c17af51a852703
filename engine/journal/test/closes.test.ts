/**
 * The durable epoch from the shard logs themselves (closes.ts, commit-log.ts readDurableEpoch):
 * a CLOSE makes its epoch durable once every shard it lists sealed the epoch listed for it or
 * wrote a later one; an idle shard holds nothing back; a torn seal or CLOSE does; the commit log
 * is a floor that recovery writes before it cuts, so cutting a proof cannot lower the epoch.
 */
import assert from 'node:assert/strict';
import { appendFileSync, statSync, truncateSync } from 'node:fs';
import { test } from 'node:test';
import { Engine } from '../../engine.js';
import { closedEpoch } from '../closes.js';
import { readCommitLog, readDurableEpoch, recordCommitLog } from '../commit-log.js';
import { recover } from '../recover.js';
import { SegmentWriter } from '../segment-writer.js';
import { journalConfig, tempDir } from './workload.js';

const NO_EVENTS = new Uint8Array(0);

function open(dir: string, shard: number, firstEpoch: number, segmentBytes = 64 << 20): SegmentWriter {
  return SegmentWriter.open(dir, shard, firstEpoch, { durability: 'none', segmentBytes });
}

/** One batch of a shard: an (empty) EVENTS frame, then its seal or CLOSE; written. */
function batch(w: SegmentWriter, epoch: number, busy: number[] | null): void {
  w.appendEvents(epoch, NO_EVENTS, []);
  if (busy === null) w.seal(epoch);
  else w.appendClose(epoch, busy);
  w.flush();
}

test('a CLOSE is durable once every shard it lists sealed its epoch; shards it does not list are idle', (t) => {
  const dir = tempDir(t);
  assert.equal(closedEpoch(dir), null, 'an empty journal has no CLOSE');
  const s0 = open(dir, 0, 1);
  const s1 = open(dir, 1, 1);
  const s2 = open(dir, 2, 1); // never writes: idle the whole time
  batch(s0, 1, [0, 1]);
  assert.equal(closedEpoch(dir), 1, 'the closer lists only itself: its own CLOSE proves it');
  batch(s0, 2, [0, 2, 1, 2]);
  assert.equal(closedEpoch(dir), 1, 'epoch 2 waits for shard 1, still writing epoch 2 when it was closed');
  batch(s1, 2, null);
  assert.equal(closedEpoch(dir), 2, "shard 1's seal of epoch 2 completes it");
  batch(s1, 3, [1, 3, 0, 3]); // shard 0 has a batch running since epoch 3
  assert.equal(closedEpoch(dir), 2);
  s0.appendEvents(4, NO_EVENTS, []); // that batch got tag 4 (it read 3 into ACTIVE, then 4): its frames, seal not yet written
  s0.flush();
  assert.equal(closedEpoch(dir), 3, 'a frame of a later epoch than the one listed proves the shard complete too');
  s0.seal(4);
  for (const w of [s0, s1, s2]) w.close();
  assert.equal(readDurableEpoch(dir), 3, 'epoch 4 was never closed');
});

test('a torn CLOSE, or a torn seal of a shard it lists, leaves its epoch out', (t) => {
  const dir = tempDir(t);
  const s0 = open(dir, 0, 1);
  const s1 = open(dir, 1, 1);
  batch(s0, 1, [0, 1]);
  batch(s1, 2, null);
  const before = statSync(s0.segmentPath).size;
  batch(s0, 2, [0, 2, 1, 2]);
  assert.equal(closedEpoch(dir), 2);
  truncateSync(s0.segmentPath, statSync(s0.segmentPath).size - 8); // the CLOSE of epoch 2 is torn
  assert.equal(closedEpoch(dir), 1);
  truncateSync(s0.segmentPath, before);
  s0.close();
  const t0 = open(dir, 0, 3);
  batch(t0, 3, [0, 3, 1, 3]);
  batch(s1, 3, null);
  assert.equal(closedEpoch(dir), 3);
  appendFileSync(s1.segmentPath, new Uint8Array(4)); // garbage after shard 1's seal: still intact up to it
  assert.equal(closedEpoch(dir), 3);
  const size = statSync(s1.segmentPath).size;
  truncateSync(s1.segmentPath, size - 4 - 8); // shard 1's seal of epoch 3 is torn
  assert.equal(closedEpoch(dir), 1, 'epoch 3 lacks shard 1, and epoch 2 was never closed on disk');
  t0.close();
});

test('reading starts at each shard\'s last segment and goes back only as far as needed', (t) => {
  const dir = tempDir(t);
  const s0 = open(dir, 0, 1, 64); // tiny segments: a new one at nearly every epoch
  for (let epoch = 1; epoch <= 20; epoch++) batch(s0, epoch, [0, epoch]);
  s0.close();
  open(dir, 0, 21).close(); // a restart: a last segment with no frame at all
  assert.equal(closedEpoch(dir), 20);
  assert.equal(closedEpoch(dir, 30), 20, 'a floor above every CLOSE still finds the last one proven');
});

test('recovery records its durable epoch in the commit log before cutting, so a cut proof cannot lower it', (t) => {
  const dir = tempDir(t);
  const config = journalConfig();
  const s0 = open(dir, 0, 5);
  const s1 = open(dir, 1, 5);
  // Shard 1 read epoch 5 into ACTIVE but tagged its batch 6; shard 0 closed 5 listing (1, 5) and later 6 listing a shard 2 that lost its batch.
  batch(s0, 5, [0, 5, 1, 5]);
  batch(s1, 6, null);
  batch(s0, 6, [0, 6, 2, 6]);
  for (const w of [s0, s1]) w.close();
  assert.equal(readDurableEpoch(dir), 5, "epoch 5 is proven by shard 1's epoch-6 frames; epoch 6 waits for shard 2");
  const report = recover(dir, [new Engine(config)], { durableEpoch: readDurableEpoch(dir), repair: true });
  assert.equal(report.durableEpoch, 5);
  assert.equal(report.discarded.length, 2, "the epoch-6 frames of both shards are cut, shard 1's proof of epoch 5 with them");
  assert.equal(closedEpoch(dir), -1, 'the logs alone no longer prove epoch 5');
  assert.equal(readCommitLog(dir), 5);
  assert.equal(readDurableEpoch(dir), 5, 'the commit log keeps it');
  assert.equal(report.nextEpoch, 7);
  recordCommitLog(dir, 3, true);
  assert.equal(readCommitLog(dir), 5, 'the commit log never goes back');
});
