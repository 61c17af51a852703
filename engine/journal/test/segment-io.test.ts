/**
 * Segment writer and reader: frames come back in order and byte for byte across segment rolls;
 * names sort in epoch order; appends are buffered until flush(); epochs only move forward; a
 * writer reopened after a restart continues in a new segment.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventBuffer } from '../../core/events.js';
import { EVENTS_HEAD, ReplyKind } from '../../wire/commands.js';
import { PayloadKind, readEventsPayload, readSourcesPayload, SEGMENT_HEADER } from '../format.js';
import { listSegments, segmentName } from '../segment-files.js';
import { readShardLog, scanJournal, type JournalFrame } from '../segment-reader.js';
import { spareName } from '../segment-spare.js';
import { SegmentWriter } from '../segment-writer.js';
import { Rng, tempDir } from './workload.js';

interface Written {
  readonly epoch: number;
  readonly kind: number;
  readonly events?: Uint8Array;
  readonly strings?: readonly string[];
  readonly labels?: readonly { id: number; label: string }[];
}

function collect(dir: string, shard: number): { frames: Written[]; files: Set<string> } {
  const frames: Written[] = [];
  const files = new Set<string>();
  const summary = readShardLog(dir, shard, (f: JournalFrame) => {
    files.add(f.file);
    const payload = f.bytes.slice(f.payloadAt, f.payloadAt + f.payloadBytes);
    if (f.kind === PayloadKind.EVENTS) {
      const { events, strings } = readEventsPayload(payload);
      frames.push({ epoch: f.epoch, kind: f.kind, events: events.slice(), strings });
    } else if (f.kind === PayloadKind.SOURCES) {
      frames.push({ epoch: f.epoch, kind: f.kind, labels: readSourcesPayload(payload) });
    } else {
      frames.push({ epoch: f.epoch, kind: f.kind });
    }
  });
  assert.equal(summary.cut, null);
  assert.equal(summary.frames, frames.length);
  return { frames, files };
}

test('frames round-trip across segment rolls, in epoch order', (t) => {
  const dir = tempDir(t);
  const rng = new Rng(5);
  const writer = SegmentWriter.open(dir, 3, 1, { segmentBytes: 2048, bufferBytes: 64 });
  const expected: Written[] = [];
  let epoch = 1;
  for (let i = 0; i < 400; i++) {
    if (rng.chance(0.1)) {
      writer.seal(epoch);
      expected.push({ epoch, kind: PayloadKind.SEAL });
      epoch += rng.int(1, 3);
    }
    if (rng.chance(0.05)) {
      const labels = [{ id: rng.int(0, 100), label: `src-${i}` }];
      writer.appendSources(epoch, labels);
      expected.push({ epoch, kind: PayloadKind.SOURCES, labels });
    }
    const events = new EventBuffer(32);
    for (let k = rng.int(0, 4); k > 0; k--) events.delta(rng.u32(), rng.int(0, 9), BigInt(rng.u32()) - 7n, -BigInt(rng.int(0, 5)));
    if (rng.chance(0.3)) events.balance(rng.u32(), 1, `biz${i}`, i, `detail ${i} ✓`, i, 1n, 2n, 3n);
    writer.appendEvents(epoch, events.data(), events.strings);
    expected.push({ epoch, kind: PayloadKind.EVENTS, events: events.data().slice(), strings: [...events.strings] });
    if (rng.chance(0.2)) writer.flush();
  }
  writer.close();

  const { frames, files } = collect(dir, 3);
  assert.deepEqual(frames, expected);
  const segments = listSegments(dir).get(3)!;
  assert.ok(segments.length > 5, `rolled into ${segments.length} segments`);
  assert.equal(files.size, segments.length);
  // Names sort in epoch order, each segment starts at the epoch in its name, and no epoch spans two segments.
  const names = readdirSync(dir).filter((name) => name !== spareName(3)).sort(); // the next segment, prepared by the writer's helper
  assert.deepEqual(names, segments.map((s) => s.name));
  assert.equal(names[0], segmentName(3, 1));
  assert.equal(segmentName(3, 12), '003-0000000000000012.log');
  for (let i = 1; i < segments.length; i++) {
    const previousLast = Math.max(...frames.filter((f) => f.epoch < segments[i]!.firstEpoch).map((f) => f.epoch));
    assert.ok(previousLast < segments[i]!.firstEpoch);
    assert.ok(segments[i]!.firstEpoch > segments[i - 1]!.firstEpoch);
  }
});

test('appends stay in memory until flush(), which writes them in one go', (t) => {
  const dir = tempDir(t);
  const writer = SegmentWriter.open(dir, 0, 10, { durability: 'none' });
  const path = writer.segmentPath;
  assert.equal(statSync(path).size, SEGMENT_HEADER.size);
  const events = new EventBuffer();
  events.delta(1, 0, 5n, 0n);
  for (let i = 0; i < 10; i++) writer.appendEvents(10, events.data(), events.strings);
  assert.equal(statSync(path).size, SEGMENT_HEADER.size, 'nothing written before flush');
  const pending = writer.pendingBytes;
  assert.equal(writer.flush(), pending);
  assert.equal(writer.pendingBytes, 0);
  assert.equal(statSync(path).size, SEGMENT_HEADER.size + pending);
  assert.equal(writer.flush(), 0);
  writer.sync();
  writer.close();
  assert.equal(collect(dir, 0).frames.length, 10);
});

test('an EVENTS record copied from the reply ring becomes a frame as is', (t) => {
  const dir = tempDir(t);
  const events = new EventBuffer();
  events.delta(9, 2, -1n, 1n);
  events.balance(9, 2, 'deposit', 4, '', 0, 1n, 1n, 0n);
  // Build the record as the shard loop does: EVENTS_HEAD, records, strings, then ring padding.
  const strings = events.strings.map((s) => new TextEncoder().encode(s));
  const stringBytes = strings.reduce((n, s) => n + 2 + s.length, 0);
  const record = new Uint8Array(EVENTS_HEAD.size + events.length + stringBytes + 5);
  const v = new DataView(record.buffer);
  v.setUint8(EVENTS_HEAD.at.kind, ReplyKind.EVENTS);
  v.setUint32(EVENTS_HEAD.at.eventBytes, events.length, true);
  v.setUint32(EVENTS_HEAD.at.strings, strings.length, true);
  v.setUint32(EVENTS_HEAD.at.stringBytes, stringBytes, true);
  record.set(events.data(), EVENTS_HEAD.size);
  let p = EVENTS_HEAD.size + events.length;
  for (const s of strings) {
    v.setUint16(p, s.length, true);
    record.set(s, p + 2);
    p += 2 + s.length;
  }
  const writer = SegmentWriter.open(dir, 1, 1);
  writer.appendEventsRecord(1, record);
  assert.throws(() => writer.appendEventsRecord(1, new Uint8Array(16)), RangeError);
  writer.close();
  assert.deepEqual(collect(dir, 1).frames, [{ epoch: 1, kind: PayloadKind.EVENTS, events: events.data().slice(), strings: ['deposit', ''] }]);
});

test('epochs only move forward, within a writer and across restarts', (t) => {
  const dir = tempDir(t);
  const writer = SegmentWriter.open(dir, 0, 5);
  writer.seal(5);
  writer.seal(7);
  assert.throws(() => writer.seal(6), RangeError);
  writer.close();
  assert.throws(() => writer.seal(8), /closed/);
  assert.throws(() => SegmentWriter.open(dir, 0, 7), RangeError, 'epoch 7 is already on disk');
  assert.throws(() => SegmentWriter.open(dir, 0, 3), RangeError);
  const again = SegmentWriter.open(dir, 0, 8);
  again.seal(8);
  again.close();
  const summary = scanJournal(dir).get(0)!;
  assert.deepEqual([summary.segments, summary.frames, summary.lastEpoch, summary.lastSealedEpoch], [2, 3, 8, 8]);
  // A header-only segment (a crash right after a roll) is reused by a writer starting at its epoch.
  const empty = SegmentWriter.open(dir, 0, 20);
  empty.close();
  const reused = SegmentWriter.open(dir, 0, 20);
  reused.seal(20);
  reused.close();
  assert.equal(listSegments(dir).get(0)!.length, 3);
  assert.equal(scanJournal(dir).get(0)!.lastSealedEpoch, 20);
});

test('a writer refuses to append after a damaged tail', (t) => {
  const dir = tempDir(t);
  const writer = SegmentWriter.open(dir, 0, 1);
  writer.seal(1);
  writer.close();
  const path = join(dir, segmentName(0, 1));
  writeFileSync(path, readFileSync(path).subarray(0, SEGMENT_HEADER.size + 9));
  assert.throws(() => SegmentWriter.open(dir, 0, 2), /damaged tail/);
});

test('shards keep separate logs', (t) => {
  const dir = tempDir(t);
  const a = SegmentWriter.open(dir, 0, 1);
  const b = SegmentWriter.open(dir, 1, 1);
  a.seal(1);
  b.seal(1);
  b.seal(2);
  a.close();
  b.close();
  const scan = scanJournal(dir);
  assert.deepEqual([...scan.keys()], [0, 1]);
  assert.equal(scan.get(0)!.lastSealedEpoch, 1);
  assert.equal(scan.get(1)!.lastSealedEpoch, 2);
});
