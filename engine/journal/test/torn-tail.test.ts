/**
 * Torn and corrupt tails: the last segment is truncated at random offsets, or has random bytes
 * overwritten (seeded, many iterations). The reader must stop exactly at the start of the first
 * damaged frame, report that cut, never replay a frame past it, and the state replayed from what
 * is left must equal the live state after exactly those frames. truncateTornTail() then makes the
 * journal clean and appendable again.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Engine } from '../../engine.js';
import { FrameCursor, frameChecker, FORMAT_VERSION, MAX_EPOCH, SEGMENT_HEADER } from '../format.js';
import { replayJournal } from '../replay.js';
import { listSegments } from '../segment-files.js';
import { readShardLog, truncateTornTail, type JournalFrame } from '../segment-reader.js';
import { SegmentWriter } from '../segment-writer.js';
import { stateHash } from '../state-hash.js';
import { journalConfig, Rng, runJournaled, singleEngine, tempDir } from './workload.js';

test('a torn or corrupt last segment is cut at the first bad frame; the replay equals the live state of that prefix', (t) => {
  const root = tempDir(t);
  const source = join(root, 'journal');
  const config = journalConfig();
  const live = singleEngine(config);
  /** hashes[k] = live state after the first k frames. */
  const hashes = [stateHash([live])];
  const run = runJournaled(source, [live], {
    seed: 42, commands: 400, commandsPerEpoch: 9, writer: { segmentBytes: 8 << 10 },
    onFrame: () => hashes.push(stateHash([live])),
  });
  for (const w of run.writers) w.close();

  const segments = listSegments(source).get(0)!;
  assert.ok(segments.length >= 3, 'several segments');
  const last = segments[segments.length - 1]!;
  const lastBytes = readFileSync(last.path);
  const framesBefore = segments.slice(0, -1).reduce((n, s) => n + countFrames(s.path), 0);
  // Frame start offsets in the last segment (and its end).
  const starts = frameStarts(lastBytes);
  assert.equal(framesBefore + starts.length - 1, hashes.length - 1);

  const rng = new Rng(7);
  for (let iteration = 0; iteration < 120; iteration++) {
    const dir = join(root, `case-${iteration}`);
    mkdirSync(dir);
    for (const s of segments.slice(0, -1)) copyFileSync(s.path, join(dir, s.name));
    const damaged = Buffer.from(lastBytes);
    let firstBad: number;
    let bytes: Buffer;
    if (iteration % 2 === 0) {
      const length = iteration === 0 ? 10 : rng.int(0, damaged.length - 1); // the first case tears the header itself
      bytes = damaged.subarray(0, length);
      firstBad = length;
    } else {
      const hits = rng.int(1, 4);
      firstBad = damaged.length;
      for (let h = 0; h < hits; h++) {
        const at = iteration === 1 ? 3 : rng.int(0, damaged.length - 1);
        const old = damaged[at]!;
        damaged[at] = (old + rng.int(1, 255)) & 0xff;
        firstBad = Math.min(firstBad, at);
      }
      bytes = damaged;
    }
    writeFileSync(join(dir, last.name), bytes);
    // The intact frames are those that end before the first bad byte; a bad header loses the whole segment.
    let good = 0;
    let cutAt = 0;
    if (firstBad >= SEGMENT_HEADER.size) {
      cutAt = SEGMENT_HEADER.size;
      while (good + 1 < starts.length && starts[good + 1]! <= firstBad) {
        good++;
        cutAt = starts[good]!;
      }
    }

    const lines: string[] = [];
    const seen: number[] = [];
    const summary = readShardLog(dir, 0, (f: JournalFrame) => seen.push(f.offset), { log: (l) => lines.push(l) });
    const label = `iteration ${iteration}: ${iteration % 2 === 0 ? 'truncated' : 'corrupted'} at ${firstBad} of ${lastBytes.length}`;
    assert.equal(summary.frames, framesBefore + good, label);
    if (bytes.length === cutAt) {
      // Truncated exactly at a frame boundary: a shorter journal, nothing torn.
      assert.equal(summary.cut, null, label);
      assert.equal(stateHash([replayed(dir)]), hashes[framesBefore + good], label);
      continue;
    }
    assert.notEqual(summary.cut, null, label);
    assert.equal(summary.cut!.file, join(dir, last.name), label);
    assert.equal(summary.cut!.offset, cutAt, label);
    assert.equal(summary.cut!.bytes, bytes.length - cutAt, label);
    assert.equal(lines.length, 1, label);
    assert.match(lines[0]!, new RegExp(`offset ${cutAt}: ${bytes.length - cutAt} byte`));

    const fresh = new Engine(config);
    const report = replayJournal(dir, [fresh], { durableEpoch: MAX_EPOCH });
    assert.equal(report.stats.frames, framesBefore + good, label);
    assert.deepEqual(report.cuts, [summary.cut], label);
    assert.equal(stateHash([fresh]), hashes[framesBefore + good], label);

    // Remove the damage; the journal reads clean and a writer can continue after it.
    truncateTornTail(summary.cut!);
    const clean = readShardLog(dir, 0, null);
    assert.equal(clean.cut, null, label);
    assert.equal(clean.frames, framesBefore + good, label);
    if (cutAt === 0) assert.ok(readdirSync(dir).includes(`${last.name}.cut`), label);
    else assert.equal(statSync(join(dir, last.name)).size, cutAt, label);
    const writer = SegmentWriter.open(dir, 0, clean.lastEpoch + 1);
    writer.seal(clean.lastEpoch + 1);
    writer.close();
    assert.equal(readShardLog(dir, 0, null).frames, framesBefore + good + 1, label);
  }
});

test('damage in a middle segment stops reading there: later segments are never replayed', (t) => {
  const dir = tempDir(t);
  const live = singleEngine(journalConfig());
  const run = runJournaled(dir, [live], { seed: 3, commands: 300, commandsPerEpoch: 5, writer: { segmentBytes: 8 << 10 } });
  for (const w of run.writers) w.close();
  const segments = listSegments(dir).get(0)!;
  assert.ok(segments.length >= 4);
  const middle = segments[1]!;
  const bytes = readFileSync(middle.path);
  const starts = frameStarts(bytes);
  const victim = starts[Math.floor(starts.length / 2)]!;
  bytes[victim + 20]! ^= 0xff;
  writeFileSync(middle.path, bytes);
  const visited: string[] = [];
  const summary = readShardLog(dir, 0, (f) => visited.push(f.file));
  assert.equal(summary.cut?.file, middle.path);
  assert.equal(summary.cut?.offset, victim);
  assert.deepEqual(summary.cut?.laterSegments, segments.slice(2).map((s) => s.path));
  assert.ok(visited.every((file) => file === segments[0]!.path || file === middle.path));
  truncateTornTail(summary.cut);
  assert.deepEqual(listSegments(dir).get(0)!.map((s) => s.name), [segments[0]!.name, middle.name]);
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.cut')).length, segments.length - 2);
});

function replayed(dir: string): Engine {
  const engine = new Engine(journalConfig());
  replayJournal(dir, [engine], { durableEpoch: MAX_EPOCH });
  return engine;
}

function frameStarts(bytes: Uint8Array): number[] {
  const check = frameChecker(FORMAT_VERSION);
  const cursor = new FrameCursor();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  let at = SEGMENT_HEADER.size;
  while (at < bytes.byteLength) {
    out.push(at);
    assert.ok(check(bytes, view, at, cursor));
    at = cursor.next;
  }
  out.push(at);
  return out;
}

function countFrames(path: string): number {
  return frameStarts(readFileSync(path)).length - 1;
}
