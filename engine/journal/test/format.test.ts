/**
 * The journal's record format: CRC-32C against published vectors, header and frame round trips,
 * payload round trips, and that every kind of damage to a frame is caught by the checker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBuffer } from '../../core/events.js';
import { OrderView } from '../../core/order-view.js';
import { EVENTS_HEAD } from '../../wire/commands.js';
import { crc32c } from '../crc32c.js';
import {
  encodeFrame, eventsPayloadBytes, FORMAT_VERSION, FRAME_HEAD, FrameCursor, frameBytes, frameChecker, MAX_PAYLOAD_BYTES,
  PayloadKind, readEventsPayload, readSegmentHeader, readSourcesPayload, readU64, SEAL_PAYLOAD, SEGMENT_HEADER,
  sourcesPayloadBytes, UnsupportedVersionError, writeEventsPayload, writeSealPayload, writeSegmentHeader,
  writeSourcesPayload, writeU64,
} from '../format.js';
import { Rng } from './workload.js';

test('crc32c matches the published check values (RFC 3720 B.4, the CRC catalogue)', () => {
  const ascii = new TextEncoder().encode('123456789');
  assert.equal(crc32c(ascii), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // Continuing from a previous result equals one pass; a subarray is read at its offset.
  assert.equal(crc32c(ascii.subarray(4), crc32c(ascii.subarray(0, 4))), 0xe3069283);
  const padded = new Uint8Array(20);
  padded.set(ascii, 7);
  assert.equal(crc32c(padded.subarray(7, 16)), 0xe3069283);
});

test('u64 fields hold every epoch below 2^53 and reject larger values', () => {
  const v = new DataView(new ArrayBuffer(8));
  for (const n of [0, 1, 0xffffffff, 0x100000000, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
    writeU64(v, 0, n);
    assert.equal(readU64(v, 0), n);
    assert.equal(v.getBigUint64(0, true), BigInt(n));
  }
  v.setBigUint64(0, 1n << 60n, true);
  assert.ok(Number.isNaN(readU64(v, 0)));
});

test('segment header round trip; torn, corrupt and newer headers', () => {
  const bytes = new Uint8Array(SEGMENT_HEADER.size);
  writeSegmentHeader(bytes, 0, 7, 2 ** 40 + 3);
  assert.deepEqual(readSegmentHeader(bytes), { version: FORMAT_VERSION, shard: 7, firstEpoch: 2 ** 40 + 3 });
  for (let n = 0; n < SEGMENT_HEADER.size; n++) assert.equal(readSegmentHeader(bytes.subarray(0, n)), 'short-header');
  for (let i = 0; i < bytes.byteLength; i++) {
    const bad = bytes.slice();
    bad[i]! ^= 0x10;
    assert.equal(readSegmentHeader(bad), 'bad-header', `byte ${i}`);
  }
  // A torn header write that left zeroes after the magic is damage, not a version 0.
  const torn = bytes.slice();
  torn.fill(0, 4);
  assert.equal(readSegmentHeader(torn), 'bad-header');
  // An intact header of a later version: not damage, but not readable by this release.
  const newer = bytes.slice();
  const v = new DataView(newer.buffer);
  v.setUint16(SEGMENT_HEADER.at.version, FORMAT_VERSION + 1, true);
  v.setUint32(SEGMENT_HEADER.at.crc, crc32c(newer.subarray(0, SEGMENT_HEADER.at.crc)), true);
  assert.throws(() => readSegmentHeader(newer), UnsupportedVersionError);
  assert.throws(() => frameChecker(FORMAT_VERSION + 1), UnsupportedVersionError);
});

/** An EventBuffer with one record of each kind, two strings included. */
function sampleEvents(): EventBuffer {
  const events = new EventBuffer(64);
  const o = new OrderView();
  o.id = 42;
  o.market = 3;
  o.side = 2;
  o.type = 1;
  o.user = 0xfffffff0;
  o.price = 123456789;
  o.amount = 10;
  o.left = 4;
  o.freeze = -7n;
  o.dealMoney = 1n << 62n;
  events.order(2, o);
  events.deal(9, 1.7e15, 3, 1, 123, 6, 42, 43, 1, 2, 999n, 1n, 2n);
  events.balance(5, 1, 'deposit', 77, 'détail ✓', 1.7e15, 10n, 10n, 0n);
  events.delta(5, 1, 10n, 0n);
  return events;
}

test('an EVENTS payload carries the reply ring\'s EVENTS record unchanged', () => {
  const events = sampleEvents();
  const size = eventsPayloadBytes(events.length, events.strings);
  const payload = new Uint8Array(size);
  assert.equal(writeEventsPayload(payload, 0, events.data(), events.strings), size);
  assert.equal(payload[0], PayloadKind.EVENTS);
  const v = new DataView(payload.buffer);
  assert.equal(v.getUint32(EVENTS_HEAD.at.eventBytes, true), events.length);
  assert.equal(v.getUint32(EVENTS_HEAD.at.strings, true), 2);
  const back = readEventsPayload(payload);
  assert.deepEqual(back.events, events.data());
  assert.deepEqual(back.strings, ['deposit', 'détail ✓']);

  const frame = encodeFrame(5, payload);
  assert.equal(frame.byteLength, frameBytes(size));
  assert.equal(frame.byteLength % 8, 0);
  const cursor = new FrameCursor();
  const check = frameChecker(FORMAT_VERSION);
  assert.ok(check(frame, new DataView(frame.buffer), 0, cursor));
  assert.equal(cursor.epoch, 5);
  assert.equal(cursor.payloadAt, FRAME_HEAD.size);
  assert.equal(cursor.payloadBytes, size);
  assert.equal(cursor.next, frame.byteLength);
  assert.deepEqual(frame.subarray(cursor.payloadAt, cursor.payloadAt + size), payload);
});

test('SOURCES and SEAL payloads round trip', () => {
  const labels = [{ id: 0, label: '' }, { id: 3, label: 'web' }, { id: 65535, label: 'ünïcødé' }];
  const size = sourcesPayloadBytes(labels);
  const payload = new Uint8Array(size);
  assert.equal(writeSourcesPayload(payload, 0, labels), size);
  assert.deepEqual(readSourcesPayload(payload), labels);
  const seal = new Uint8Array(SEAL_PAYLOAD.size);
  assert.equal(writeSealPayload(seal, 0), SEAL_PAYLOAD.size);
  const check = frameChecker(FORMAT_VERSION);
  for (const p of [payload, seal]) {
    const frame = encodeFrame(Number.MAX_SAFE_INTEGER, p);
    const cursor = new FrameCursor();
    assert.ok(check(frame, new DataView(frame.buffer), 0, cursor));
    assert.equal(cursor.epoch, Number.MAX_SAFE_INTEGER);
  }
});

test('a frame damaged anywhere is refused, and the problem is named', () => {
  const events = sampleEvents();
  const payload = new Uint8Array(eventsPayloadBytes(events.length, events.strings));
  writeEventsPayload(payload, 0, events.data(), events.strings);
  const frame = encodeFrame(11, payload);
  const check = frameChecker(FORMAT_VERSION);
  const cursor = new FrameCursor();
  const verdict = (bytes: Uint8Array): string | null =>
    check(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, cursor) ? null : cursor.problem;

  // Every single-bit flip of every byte (header, payload, padding).
  for (let i = 0; i < frame.byteLength; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const bad = frame.slice();
      bad[i]! ^= 1 << bit;
      assert.notEqual(verdict(bad), null, `byte ${i} bit ${bit}`);
    }
  }
  // Every truncation.
  for (let n = 0; n < frame.byteLength; n++) assert.equal(verdict(frame.subarray(0, n)), 'short-frame', `${n} bytes`);
  // Zeroes (a preallocated or unwritten tail) and absurd lengths.
  assert.equal(verdict(new Uint8Array(64)), 'bad-length');
  const huge = frame.slice();
  new DataView(huge.buffer).setUint32(0, MAX_PAYLOAD_BYTES + 1, true);
  assert.equal(verdict(huge), 'bad-length');
  const long = frame.slice();
  new DataView(long.buffer).setUint32(0, payload.byteLength + 64, true);
  assert.equal(verdict(long), 'short-frame');
  // Random multi-byte damage, seeded.
  const rng = new Rng(99);
  for (let k = 0; k < 2000; k++) {
    const bad = frame.slice();
    const n = rng.int(1, 8);
    for (let j = 0; j < n; j++) bad[rng.int(0, bad.byteLength - 1)] = rng.int(0, 255);
    if (bad.every((b, i) => b === frame[i])) continue;
    assert.notEqual(verdict(bad), null, `iteration ${k}`);
  }
});

test('a checksummed payload whose structure is inconsistent is refused as bad-payload', () => {
  const check = frameChecker(FORMAT_VERSION);
  const cursor = new FrameCursor();
  const verdict = (payload: Uint8Array): string | null => {
    const frame = encodeFrame(1, payload);
    return check(frame, new DataView(frame.buffer), 0, cursor) ? null : cursor.problem;
  };
  const events = sampleEvents();
  const good = new Uint8Array(eventsPayloadBytes(events.length, events.strings));
  writeEventsPayload(good, 0, events.data(), events.strings);
  assert.equal(verdict(good), null);

  const unknownKind = good.slice();
  unknownKind[0] = 99;
  assert.equal(verdict(unknownKind), 'bad-payload');
  const wrongSize = good.slice();
  new DataView(wrongSize.buffer).setUint32(EVENTS_HEAD.at.eventBytes, events.length - 8, true);
  assert.equal(verdict(wrongSize), 'bad-payload');
  const badRecord = good.slice();
  badRecord[EVENTS_HEAD.size] = 77; // the first record's kind
  assert.equal(verdict(badRecord), 'bad-payload');
  const badString = new EventBuffer(64);
  badString.balance(1, 1, 'b', 1, 'd', 0, 1n, 1n, 0n);
  const truncatedTable = new Uint8Array(eventsPayloadBytes(badString.length, ['b']));
  writeEventsPayload(truncatedTable, 0, badString.data(), ['b']); // one string where the record indexes two
  assert.equal(verdict(truncatedTable), 'bad-payload');
  const seal = new Uint8Array(16);
  writeSealPayload(seal, 0);
  assert.equal(verdict(seal), 'bad-payload');
});
