/**
 * Preallocated segments: a segment that ends in zeros after its last frame reads cleanly (no
 * cut, nothing logged), zeros followed by anything else are damage; the writer rolls into the
 * spare its helper prepared, into a plain file when none is ready, and out of a plain file as soon
 * as one is; a crash with a zero tail on disk recovers, replays and continues; the spare is never
 * a segment, is reused by the next writer, and is left alone by snapshots' pruning and the tools.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { defaultConfig } from '../../../conf/defaults.js';
import { MAX_EPOCH, readSourcesPayload } from '../format.js';
import { recover } from '../recover.js';
import { runReplayCli, type ReplaySummary } from '../replay-cli.js';
import { listSegments, segmentName } from '../segment-files.js';
import { readShardLog, scanJournal, truncateTornTail, type JournalFrame } from '../segment-reader.js';
import { spareBytesFor, spareName } from '../segment-spare.js';
import { SegmentWriter } from '../segment-writer.js';
import { deleteSegmentsBefore } from '../snapshot.js';
import { stateHash } from '../state-hash.js';
import { journalConfig, runJournaled, singleEngine, tempDir } from './workload.js';

const SEGMENT = 8 << 10;
const FAST = { segmentBytes: SEGMENT, preparePauseMs: 0 } as const;

/** Every frame of `shard` as (epoch, payload bytes); asserts that reading ends without a cut and logs nothing. */
function framesOf(dir: string, shard: number): { epoch: number; payload: number[] }[] {
  const out: { epoch: number; payload: number[] }[] = [];
  const lines: string[] = [];
  const summary = readShardLog(dir, shard, (f: JournalFrame) => {
    out.push({ epoch: f.epoch, payload: [...f.bytes.subarray(f.payloadAt, f.payloadAt + f.payloadBytes)] });
  }, { log: (line) => lines.push(line) });
  assert.equal(summary.cut, null, 'no cut');
  assert.deepEqual(lines, [], 'nothing logged');
  return out;
}

/** A SOURCES frame with a label of `n` characters: payloads of many sizes. */
function label(n: number): { id: number; label: string }[] {
  return [{ id: 1 + (n % 200), label: 'x'.repeat(n) }];
}

test('a segment ending in zeros after its last frame reads cleanly; zeros followed by anything else are cut', (t) => {
  const dir = tempDir(t);
  const writer = SegmentWriter.open(dir, 0, 1, { prepare: false });
  for (let e = 1; e <= 5; e++) {
    writer.appendSources(e, label(e * 3));
    writer.seal(e);
  }
  writer.close();
  const path = join(dir, segmentName(0, 1));
  const frames = readFileSync(path);
  const expected = framesOf(dir, 0);
  assert.equal(expected.length, 10);

  // The zero tail a preallocated segment has after a crash: clean end, same frames.
  writeFileSync(path, Buffer.concat([frames, new Uint8Array(300_000)]));
  assert.deepEqual(framesOf(dir, 0), expected);
  const scan = scanJournal(dir).get(0)!;
  assert.deepEqual([scan.frames, scan.lastEpoch, scan.lastSealedEpoch, scan.cut], [10, 5, 5, null]);

  // A zero frame head with a nonzero byte anywhere later: damage, cut at the boundary.
  for (const at of [0, 7, 4096, 299_999]) {
    const tail = new Uint8Array(300_000);
    tail[at] = 0x41;
    writeFileSync(path, Buffer.concat([frames, tail]));
    const lines: string[] = [];
    const summary = readShardLog(dir, 0, null, { log: (line) => lines.push(line) });
    assert.equal(summary.frames, 10, `nonzero at ${at}`);
    assert.equal(summary.cut?.offset, frames.byteLength);
    assert.equal(summary.cut?.problem, at < 4 ? 'bad-crc' : 'bad-length', 'a zero length, or a length with the rest zero');
    assert.equal(lines.length, 1);
  }
  // Recovery removes it; a writer continues above, and the old segment keeps reading cleanly.
  truncateTornTail(readShardLog(dir, 0, null).cut!);
  assert.equal(statSync(path).size, frames.byteLength);
  const next = SegmentWriter.open(dir, 0, 6, { prepare: false });
  next.seal(6);
  next.close();
  assert.deepEqual(framesOf(dir, 0).length, 11);
});

test('the writer rolls into the prepared spare; the spare is never a segment; close() cuts the zero tail off', (t) => {
  const dir = tempDir(t);
  const writer = SegmentWriter.open(dir, 2, 1, FAST);
  assert.equal(writer.segmentPrepared, false, 'no spare yet: the first segment is a plain file');
  assert.ok(writer.waitForSpare(), 'the helper prepares a spare');
  const spare = join(dir, spareName(2));
  assert.equal(statSync(spare).size, spareBytesFor(SEGMENT));
  assert.deepEqual(listSegments(dir).get(2)!.map((s) => s.name), [segmentName(2, 1)], 'the spare is not listed as a segment');
  assert.deepEqual(scanJournal(dir).get(2)!.cut, null);

  // Rolls out of the plain segment at the next epoch, though it is far from full.
  writer.seal(1);
  writer.flush();
  writer.seal(2);
  writer.flush();
  assert.equal(writer.segmentPath, join(dir, segmentName(2, 2)));
  assert.equal(writer.segmentPrepared, true);
  assert.equal(statSync(writer.segmentPath).size, spareBytesFor(SEGMENT), 'written over, not appended');
  let epoch = 2;
  for (let roll = 0; roll < 4; roll++) {
    assert.ok(writer.waitForSpare());
    const before = writer.preparedSegments;
    while (writer.preparedSegments === before) {
      epoch++;
      writer.appendSources(epoch, label(epoch % 500));
      writer.seal(epoch);
      writer.flush();
      writer.sync();
    }
    assert.equal(writer.segmentPrepared, true);
  }
  // Reading now (a crash here) ends cleanly at the zero tail of the segment being written.
  const frames = framesOf(dir, 2);
  assert.equal(statSync(writer.segmentPath).size, spareBytesFor(SEGMENT));
  writer.close();
  assert.deepEqual(framesOf(dir, 2), frames);
  const segments = listSegments(dir).get(2)!;
  assert.equal(segments.length, 6);
  assert.equal(writer.unpreparedSegments, 1);
  assert.equal(writer.preparedSegments, 5);
  let total = 0;
  for (const s of segments) total += statSync(s.path).size;
  assert.equal(total, writer.bytesWritten, 'zero tails cut off at each roll and at close');
  assert.deepEqual(readdirSync(dir).filter((n) => !n.endsWith('.log')).sort(), existsSync(spare) ? [spareName(2)] : []);
});

test('with no spare ready a roll creates a plain segment; the helper never holds the writer up', (t) => {
  const dir = tempDir(t);
  // A helper that pauses a minute after its first step: a spare is never ready during the test.
  const slow = SegmentWriter.open(dir, 0, 1, { segmentBytes: 512, preparePauseMs: 60_000 });
  for (let e = 1; e <= 40; e++) {
    slow.appendSources(e, label(e));
    slow.seal(e);
    slow.flush();
    slow.sync();
  }
  assert.equal(slow.preparedSegments, 0);
  assert.ok(slow.unpreparedSegments > 5);
  assert.equal(slow.waitForSpare(50), false);
  const started = process.hrtime.bigint();
  slow.close(); // stops the helper in its pause
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 5_000);
  assert.deepEqual(readdirSync(dir).filter((n) => !n.endsWith('.log')), [], 'the half-built spare is deleted');
  assert.equal(framesOf(dir, 0).length, 80);

  // Not preparing at all ('none' mode by default, or prepare: false): plain segments, positional writes.
  const none = SegmentWriter.open(dir, 1, 1, { segmentBytes: 512, durability: 'none' });
  for (let e = 1; e <= 20; e++) none.seal(e);
  none.flush();
  none.seal(21);
  none.close();
  assert.equal(none.preparedSegments, 0);
  assert.equal(none.waitForSpare(10), false);
  assert.equal(framesOf(dir, 1).length, 21);
});

test('the helper prepares no spare while the disk lacks room for it and its reserve: plain segments, nothing left behind', (t) => {
  const dir = tempDir(t);
  const writer = SegmentWriter.open(dir, 0, 1, { ...FAST, segmentBytes: 512, prepareReserveBytes: Number.MAX_SAFE_INTEGER });
  for (let e = 1; e <= 40; e++) {
    writer.appendSources(e, label(e));
    writer.seal(e);
    writer.flush();
    writer.sync();
  }
  assert.equal(writer.waitForSpare(300), false);
  assert.equal(writer.preparedSegments, 0);
  assert.ok(writer.unpreparedSegments > 3, `rolled ${writer.unpreparedSegments - 1} times`);
  const started = process.hrtime.bigint();
  writer.close(); // wakes the helper from its wait for room
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 5_000);
  assert.deepEqual(readdirSync(dir).filter((n) => !n.endsWith('.log')), [], 'no spare, no half-built one');
  assert.equal(framesOf(dir, 0).length, 80);

  // With the default reserve (a spare's worth) this disk has room: the helper prepares one.
  const roomy = SegmentWriter.open(dir, 1, 1, FAST);
  assert.ok(roomy.waitForSpare());
  roomy.close();
});

test('a spare left by a previous run is reused by the next writer; a half-built or too small one is deleted', (t) => {
  const dir = tempDir(t);
  const first = SegmentWriter.open(dir, 0, 1, FAST);
  assert.ok(first.waitForSpare());
  first.seal(1);
  first.close();
  const spare = join(dir, spareName(0));
  assert.ok(existsSync(spare), 'a complete spare outlives its writer');

  const second = SegmentWriter.open(dir, 0, 2, FAST);
  assert.equal(second.segmentPrepared, true, 'the first segment is the leftover spare');
  assert.equal(second.preparedSegments, 1);
  second.seal(2);
  second.close();

  writeFileSync(`${spare}.tmp`, new Uint8Array(10));
  writeFileSync(spare, new Uint8Array(10));
  const third = SegmentWriter.open(dir, 0, 3, { ...FAST, prepare: false });
  assert.equal(third.segmentPrepared, false);
  assert.ok(!existsSync(spare) && !existsSync(`${spare}.tmp`), 'not preparing: leftovers deleted');
  third.seal(3);
  third.close();
  writeFileSync(spare, new Uint8Array(10));
  const fourth = SegmentWriter.open(dir, 0, 4, FAST);
  assert.equal(fourth.segmentPrepared, false, 'a spare too small is not used');
  fourth.seal(4);
  fourth.close();
  assert.deepEqual(framesOf(dir, 0).map((f) => f.epoch), [1, 2, 3, 4]);
});

test('a crash while writing a preallocated segment: recovery, replay, pruning and the tools take the zero tail as the end', (t) => {
  const dir = tempDir(t);
  const crashed = tempDir(t);
  const config = journalConfig();
  const live = singleEngine(config);
  let run = runJournaled(dir, [live], { seed: 23, commands: 150, commandsPerEpoch: 7, writer: FAST });
  const writer = run.writers[0]!;
  // Until the segment being written is a prepared one (a roll can find the next spare not ready yet).
  for (let k = 0; k < 50 && (k < 6 || !writer.segmentPrepared); k++) {
    assert.ok(writer.waitForSpare());
    run = runJournaled(dir, [live], { seed: 0, commands: 150, commandsPerEpoch: 7, firstEpoch: run.lastEpoch + 1 }, run);
  }
  assert.ok(writer.preparedSegments >= 6, `${writer.preparedSegments} prepared segments`);
  assert.equal(writer.segmentPrepared, true);
  // The disk as a crash leaves it: everything synced, the current segment with its zero tail, the spare
  // (copied while the helper is idle: a spare ready).
  assert.ok(writer.waitForSpare());
  cpSync(dir, crashed, { recursive: true });
  writer.close();
  const last = listSegments(crashed).get(0)!.at(-1)!;
  assert.ok(statSync(last.path).size > statSync(join(dir, last.name)).size, 'the crashed copy has a zero tail');
  const liveHash = stateHash([live]);

  const lines: string[] = [];
  const recovered = singleEngine(config);
  const report = recover(crashed, [recovered], { durableEpoch: MAX_EPOCH, repair: true, log: (line) => lines.push(line) });
  assert.deepEqual(report.cuts, []);
  assert.deepEqual(lines, []);
  assert.equal(stateHash([recovered]), liveHash);
  assert.ok(statSync(last.path).size > SEGMENT, 'recovery leaves the zero tail alone');

  // The restarted writer starts a new segment above the old one's epochs; everything replays.
  const again = runJournaled(crashed, [recovered], { seed: 99, commands: 200, commandsPerEpoch: 9, firstEpoch: report.nextEpoch, writer: FAST });
  for (const w of again.writers) w.close();
  const replayed = singleEngine(config);
  assert.deepEqual(recover(crashed, [replayed], { durableEpoch: MAX_EPOCH }).cuts, []);
  assert.equal(stateHash([replayed]), stateHash([recovered]));

  const configPath = join(crashed, 'config.json');
  writeFileSync(configPath, JSON.stringify({ ...defaultConfig, engine: { max_users: 64, max_orders_per_market: 512, max_levels_per_side: 256 } }));
  const cli = runReplayCli(['--dir', crashed, '--config', configPath, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const summary = JSON.parse(cli.stdout) as ReplaySummary;
  assert.deepEqual(summary.cuts, []);
  assert.equal(summary.stateHash, stateHash([recovered]));

  // Snapshot pruning deletes whole segments before an epoch, never the spare, and the rest reads cleanly.
  const deleted = deleteSegmentsBefore(crashed, again.lastEpoch);
  assert.ok(deleted.length > 0 && deleted.every((p) => p.endsWith('.log')));
  assert.equal(scanJournal(crashed).get(0)!.cut, null);
});

test('property: random frame sequences written through preallocated segments, across crash-like restarts, read back identically', (t) => {
  const root = tempDir(t);
  let n = 0;
  fc.assert(fc.property(
    fc.array(fc.record({
      epochStep: fc.integer({ min: 0, max: 2 }),
      size: fc.integer({ min: 0, max: 700 }),
      flush: fc.boolean(),
      waitSpare: fc.integer({ min: 0, max: 9 }),
      restart: fc.integer({ min: 0, max: 29 }),
    }), { minLength: 1, maxLength: 120 }),
    fc.integer({ min: 9, max: 12 }), // log2 of the segment size
    (ops, log2) => {
      const dir = join(root, String(n));
      const copy = join(root, `${n++}-crash`);
      const options = { segmentBytes: 1 << log2, preparePauseMs: 0 };
      const expected: { epoch: number; label: string }[] = [];
      let epoch = 1;
      let writer = SegmentWriter.open(dir, 0, epoch, options);
      try {
        for (const op of ops) {
          if (op.restart === 0) {
            // The disk as a crash leaves it (the segment's zero tail, the spare), then a new writer above.
            writer.flush();
            writer.sync();
            writer.waitForSpare(); // (the helper idle while the directory is copied)
            cpSync(dir, copy, { recursive: true, force: true });
            writer.close();
            cpSync(copy, dir, { recursive: true, force: true });
            writer = SegmentWriter.open(dir, 0, ++epoch, options);
          }
          if (op.waitSpare === 0) writer.waitForSpare();
          epoch += op.epochStep;
          const labels = label(op.size);
          writer.appendSources(epoch, labels);
          expected.push({ epoch, label: labels[0]!.label });
          if (op.flush) writer.flush();
        }
      } finally {
        writer.close();
      }
      const frames = framesOf(dir, 0).map((f) => ({ epoch: f.epoch, label: readSourcesPayload(new Uint8Array(f.payload))[0]!.label }));
      assert.deepEqual(frames, expected);
    },
  ), { numRuns: 25 });
});
