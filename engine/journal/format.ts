/**
 * The journal's on-disk format. A shard's journal is a sequence of segment files; each starts
 * with a SEGMENT_HEADER, then holds frames back to back, each 8-byte aligned:
 *
 *   [u32 length][u32 crc32c][u64 epoch][payload: `length` bytes][zero padding to a multiple of 8]
 *
 * The checksum covers the epoch and the payload (an epoch flipped on disk must not move a frame
 * into another epoch); the padding must be zero. Integers are little-endian.
 *
 * Payloads (the first byte is the kind):
 *  - EVENTS: exactly the reply ring's EVENTS record (wire/commands.ts EVENTS_HEAD, the event
 *    records of core/events.ts, then the strings table: u16 length + UTF-8 per string), so a
 *    shard can copy that record into the journal as is;
 *  - SOURCES: source labels registered under ids (SOURCES_HEAD, then per label u32 id,
 *    u16 length, UTF-8), so that replay restores the labels that ORDER records refer to;
 *  - SEAL: "this shard has written every frame of this epoch" (SEAL_PAYLOAD, no body); a shard
 *    ends every batch's frames with one (or with a CLOSE);
 *  - CLOSE (version 2): a SEAL that also says "this shard closed this epoch, and at that moment
 *    these shards still had unwritten work of epochs ≥ the epoch listed for each": CLOSE_HEAD, then
 *    CLOSE_ENTRY per busy shard. Recovery replays an epoch once a CLOSE of it or of a later epoch
 *    is intact and every shard it lists sealed its listed epoch or wrote a later one (closes.ts).
 *
 * Versions: the header carries FORMAT_VERSION; a reader picks the frame checker for the version
 * of each segment (frameChecker), so a later release keeps reading older journals. Version 2 =
 * version 1 + CLOSE payloads (a version-1 reader refuses a version-2 segment instead of taking a
 * CLOSE for damage).
 */
import { EventKind, ORDER_RECORD, DEAL_RECORD, BALANCE_RECORD, DELTA_RECORD } from '../core/events.js';
import { EVENTS_HEAD, ReplyKind, align8 } from '../wire/commands.js';
import { defineLayout } from '../wire/layout.js';
import { crc32c } from './crc32c.js';

export const FORMAT_VERSION = 2;

/** "VJNL" as a little-endian u32. */
export const SEGMENT_MAGIC = 0x4c4e4a56;

/**
 * Segment header; `crc` covers the bytes before it. These 24 bytes start the header of every
 * version, so damage is told apart from a newer format: a later version may only append to them.
 */
export const SEGMENT_HEADER = defineLayout([
  ['magic', 'u32'], ['version', 'u16'], ['shard', 'u16'], ['firstEpoch', 'i64'], ['reserved', 'u32'], ['crc', 'u32'],
] as const);

export const FRAME_HEAD = defineLayout([['length', 'u32'], ['crc', 'u32'], ['epoch', 'i64']] as const);

/** Largest payload a frame may carry; a larger length field is corruption. */
export const MAX_PAYLOAD_BYTES = 1 << 28;

/** Largest epoch: epochs are JS numbers, exact integers below 2^53. */
export const MAX_EPOCH = Number.MAX_SAFE_INTEGER;

export const PayloadKind = { EVENTS: ReplyKind.EVENTS, SOURCES: 16, SEAL: 17, CLOSE: 18 } as const;
export type PayloadKindValue = (typeof PayloadKind)[keyof typeof PayloadKind];

export const SOURCES_HEAD = defineLayout([['kind', 'u8'], ['count', 'u32']] as const);
/** Bytes of one SOURCES entry before its UTF-8 text. */
export const SOURCE_ENTRY_HEAD = 6;
export const SEAL_PAYLOAD = defineLayout([['kind', 'u8']] as const);
export const CLOSE_HEAD = defineLayout([['kind', 'u8'], ['count', 'u32']] as const);
/** One busy shard of a CLOSE: its index and the epoch its unwritten work started in. */
export const CLOSE_ENTRY = defineLayout([['shard', 'u32'], ['reserved', 'u32'], ['epoch', 'i64']] as const);

/** Why a frame or header is not valid. */
export type FrameProblem =
  | 'short-header' | 'bad-header' | 'short-frame' | 'bad-length' | 'bad-crc' | 'bad-padding' | 'bad-epoch' | 'bad-payload';

export class UnsupportedVersionError extends Error {
  override name = 'UnsupportedVersionError';
}

export interface SourceLabel {
  readonly id: number;
  readonly label: string;
}

export interface SegmentHeader {
  readonly version: number;
  readonly shard: number;
  readonly firstEpoch: number;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

export function writeU64(v: DataView, at: number, n: number): void {
  v.setUint32(at, n >>> 0, true);
  v.setUint32(at + 4, Math.floor(n / 4294967296), true);
}

/** A u64 as a number; values above 2^53 come back as NaN (never valid here). */
export function readU64(v: DataView, at: number): number {
  const hi = v.getUint32(at + 4, true);
  if (hi > 0x1fffff) return NaN;
  return hi * 4294967296 + v.getUint32(at, true);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function isEpoch(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

// ---------------------------------------------------------------------------------------------
// Segment header

/** Writes a current-version header at `at`. */
export function writeSegmentHeader(target: Uint8Array, at: number, shard: number, firstEpoch: number): void {
  const v = viewOf(target);
  const f = SEGMENT_HEADER.at;
  target.fill(0, at, at + SEGMENT_HEADER.size);
  v.setUint32(at + f.magic, SEGMENT_MAGIC, true);
  v.setUint16(at + f.version, FORMAT_VERSION, true);
  v.setUint16(at + f.shard, shard, true);
  writeU64(v, at + f.firstEpoch, firstEpoch);
  v.setUint32(at + f.crc, crc32c(target.subarray(at, at + f.crc)), true);
}

/**
 * Reads a segment header: the header, or the problem ('short-header', 'bad-header') when the
 * bytes are torn or corrupt. An intact header of a version this release cannot read throws
 * UnsupportedVersionError: that journal is not damaged, it is newer.
 */
export function readSegmentHeader(bytes: Uint8Array): SegmentHeader | FrameProblem {
  if (bytes.byteLength < SEGMENT_HEADER.size) return 'short-header';
  const v = viewOf(bytes);
  const f = SEGMENT_HEADER.at;
  if (v.getUint32(f.magic, true) !== SEGMENT_MAGIC) return 'bad-header';
  if (v.getUint32(f.crc, true) !== crc32c(bytes.subarray(0, f.crc))) return 'bad-header';
  const version = v.getUint16(f.version, true);
  switch (version) {
    case 1:
    case 2: {
      const firstEpoch = readU64(v, f.firstEpoch);
      if (!isEpoch(firstEpoch)) return 'bad-header';
      return { version, shard: v.getUint16(f.shard, true), firstEpoch };
    }
    default:
      throw new UnsupportedVersionError(`journal segment format version ${version} is not one this release reads (${FORMAT_VERSION})`);
  }
}

/** Bytes of the header of a segment of `version`. */
export function segmentHeaderBytes(version: number): number {
  switch (version) {
    case 1:
    case 2:
      return SEGMENT_HEADER.size;
    default:
      throw new UnsupportedVersionError(`journal segment format version ${version} is not supported`);
  }
}

// ---------------------------------------------------------------------------------------------
// Frames

/** Bytes a frame with a payload of `payloadBytes` takes on disk. */
export function frameBytes(payloadBytes: number): number {
  return align8(FRAME_HEAD.size + payloadBytes);
}

/**
 * Completes the frame whose payload of `payloadBytes` is already at `at + FRAME_HEAD.size`:
 * writes length, epoch, checksum and zero padding. Returns the frame's size.
 */
export function sealFrame(target: Uint8Array, at: number, epoch: number, payloadBytes: number): number {
  const v = viewOf(target);
  const end = at + FRAME_HEAD.size + payloadBytes;
  const size = frameBytes(payloadBytes);
  target.fill(0, end, at + size);
  v.setUint32(at + FRAME_HEAD.at.length, payloadBytes, true);
  writeU64(v, at + FRAME_HEAD.at.epoch, epoch);
  v.setUint32(at + FRAME_HEAD.at.crc, crc32c(target.subarray(at + FRAME_HEAD.at.epoch, end)), true);
  return size;
}

/** A whole frame around a copy of `payload`. Allocates (tests, tools). */
export function encodeFrame(epoch: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(frameBytes(payload.byteLength));
  out.set(payload, FRAME_HEAD.size);
  sealFrame(out, 0, epoch, payload.byteLength);
  return out;
}

/** Where a checked frame's parts are; reused between calls (no allocation per frame). */
export class FrameCursor {
  epoch = 0;
  payloadAt = 0;
  payloadBytes = 0;
  /** Offset of the next frame. */
  next = 0;
  problem: FrameProblem | null = null;
}

/**
 * Checks the frame at `at` of a segment's bytes (which end at `bytes.byteLength`). True with
 * `out` filled in when it is whole and intact; false with `out.problem` set otherwise.
 */
export type FrameChecker = (bytes: Uint8Array, view: DataView, at: number, out: FrameCursor) => boolean;

/** The frame checker of version 1 (no CLOSE payloads) or 2. */
function frameCheckerOf(version: 1 | 2): FrameChecker {
  return (bytes, view, at, out) => checkFrame(bytes, view, at, out, version);
}

function checkFrame(bytes: Uint8Array, view: DataView, at: number, out: FrameCursor, version: 1 | 2): boolean {
  const left = bytes.byteLength - at;
  if (left < FRAME_HEAD.size) return fail(out, 'short-frame');
  const length = view.getUint32(at + FRAME_HEAD.at.length, true);
  if (length < 8 || length > MAX_PAYLOAD_BYTES) return fail(out, 'bad-length');
  const size = frameBytes(length);
  if (size > left) return fail(out, 'short-frame');
  const end = at + FRAME_HEAD.size + length;
  if (view.getUint32(at + FRAME_HEAD.at.crc, true) !== crc32c(bytes.subarray(at + FRAME_HEAD.at.epoch, end))) return fail(out, 'bad-crc');
  for (let p = end; p < at + size; p++) if (bytes[p] !== 0) return fail(out, 'bad-padding');
  const epoch = readU64(view, at + FRAME_HEAD.at.epoch);
  if (!isEpoch(epoch)) return fail(out, 'bad-epoch');
  if (!payloadIsValid(bytes, view, at + FRAME_HEAD.size, length, version)) return fail(out, 'bad-payload');
  out.epoch = epoch;
  out.payloadAt = at + FRAME_HEAD.size;
  out.payloadBytes = length;
  out.next = at + size;
  out.problem = null;
  return true;
}

const checkFrameV1 = frameCheckerOf(1);
const checkFrameV2 = frameCheckerOf(2);

function fail(out: FrameCursor, problem: FrameProblem): false {
  out.problem = problem;
  return false;
}

/** The frame checker of a format version. */
export function frameChecker(version: number): FrameChecker {
  switch (version) {
    case 1:
      return checkFrameV1;
    case 2:
      return checkFrameV2;
    default:
      throw new UnsupportedVersionError(`journal frame format version ${version} is not supported`);
  }
}

// ---------------------------------------------------------------------------------------------
// Payloads

/**
 * True when the payload's structure is consistent: a known kind (of format `version`), sizes that
 * add up, event records of known kinds, BALANCE string indexes inside the strings table. After
 * this, replay can walk the payload without bounds checks.
 */
export function payloadIsValid(bytes: Uint8Array, view: DataView, at: number, length: number, version = FORMAT_VERSION): boolean {
  switch (bytes[at]) {
    case PayloadKind.EVENTS:
      return eventsPayloadIsValid(bytes, view, at, length);
    case PayloadKind.SOURCES: {
      if (length < SOURCES_HEAD.size) return false;
      const count = view.getUint32(at + SOURCES_HEAD.at.count, true);
      let p = at + SOURCES_HEAD.size;
      const end = at + length;
      for (let i = 0; i < count; i++) {
        if (p + SOURCE_ENTRY_HEAD > end) return false;
        p += SOURCE_ENTRY_HEAD + view.getUint16(p + 4, true);
      }
      return p === end;
    }
    case PayloadKind.SEAL:
      return length === SEAL_PAYLOAD.size;
    case PayloadKind.CLOSE: {
      if (version < 2 || length < CLOSE_HEAD.size) return false;
      const count = view.getUint32(at + CLOSE_HEAD.at.count, true);
      if (length !== CLOSE_HEAD.size + count * CLOSE_ENTRY.size) return false;
      for (let p = at + CLOSE_HEAD.size; p < at + length; p += CLOSE_ENTRY.size) {
        if (view.getUint32(p + CLOSE_ENTRY.at.reserved, true) !== 0 || !isEpoch(readU64(view, p + CLOSE_ENTRY.at.epoch))) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function eventsPayloadIsValid(bytes: Uint8Array, view: DataView, at: number, length: number): boolean {
  if (length < EVENTS_HEAD.size) return false;
  const h = EVENTS_HEAD.at;
  const eventBytes = view.getUint32(at + h.eventBytes, true);
  const strings = view.getUint32(at + h.strings, true);
  const stringBytes = view.getUint32(at + h.stringBytes, true);
  if (EVENTS_HEAD.size + eventBytes + stringBytes !== length) return false;
  const end = at + EVENTS_HEAD.size + eventBytes;
  let p = end;
  for (let i = 0; i < strings; i++) {
    if (p + 2 > at + length) return false;
    p += 2 + view.getUint16(p, true);
  }
  if (p !== at + length) return false;
  for (let r = at + EVENTS_HEAD.size; r < end;) {
    let size: number;
    switch (bytes[r]) {
      case EventKind.ORDER:
        size = ORDER_RECORD.size;
        break;
      case EventKind.DEAL:
        size = DEAL_RECORD.size;
        break;
      case EventKind.BALANCE:
        size = BALANCE_RECORD.size;
        if (r + size > end) return false;
        if (!inRange(view.getInt32(r + BALANCE_RECORD.at.business, true), strings)) return false;
        if (!inRange(view.getInt32(r + BALANCE_RECORD.at.detail, true), strings)) return false;
        break;
      case EventKind.DELTA:
        size = DELTA_RECORD.size;
        break;
      default:
        return false;
    }
    if (r + size > end) return false;
    r += size;
  }
  return true;
}

function inRange(index: number, count: number): boolean {
  return index >= 0 && index < count;
}

/** Bytes of an EVENTS payload carrying `eventBytes` of records and `strings`. */
export function eventsPayloadBytes(eventBytes: number, strings: readonly string[]): number {
  let n = EVENTS_HEAD.size + eventBytes;
  for (const s of strings) n += 2 + Buffer.byteLength(s);
  return n;
}

/** Writes an EVENTS payload at `at`; `target` must have eventsPayloadBytes() bytes there. Returns the bytes written. */
export function writeEventsPayload(target: Uint8Array, at: number, events: Uint8Array, strings: readonly string[]): number {
  const v = viewOf(target);
  const h = EVENTS_HEAD.at;
  target.fill(0, at, at + EVENTS_HEAD.size);
  v.setUint8(at + h.kind, PayloadKind.EVENTS);
  v.setUint32(at + h.eventBytes, events.byteLength, true);
  v.setUint32(at + h.strings, strings.length, true);
  target.set(events, at + EVENTS_HEAD.size);
  const tableAt = at + EVENTS_HEAD.size + events.byteLength;
  let p = tableAt;
  for (const s of strings) {
    const written = utf8Encoder.encodeInto(s, target.subarray(p + 2)).written;
    if (written > 0xffff) throw new RangeError('a journal string is longer than 65535 bytes');
    v.setUint16(p, written, true);
    p += 2 + written;
  }
  v.setUint32(at + h.stringBytes, p - tableAt, true);
  return p - at;
}

/** The parts of an EVENTS payload (the records are a view, the strings decoded). Allocates. */
export function readEventsPayload(payload: Uint8Array): { events: Uint8Array; strings: string[] } {
  const v = viewOf(payload);
  const eventBytes = v.getUint32(EVENTS_HEAD.at.eventBytes, true);
  const count = v.getUint32(EVENTS_HEAD.at.strings, true);
  const strings = readStrings(payload, EVENTS_HEAD.size + eventBytes, count);
  return { events: payload.subarray(EVENTS_HEAD.size, EVENTS_HEAD.size + eventBytes), strings };
}

/** Decodes `count` strings of a strings table (u16 length + UTF-8 each) starting at `at`. Allocates. */
export function readStrings(bytes: Uint8Array, at: number, count: number): string[] {
  const v = viewOf(bytes);
  const out: string[] = [];
  let p = at;
  for (let i = 0; i < count; i++) {
    const length = v.getUint16(p, true);
    out.push(utf8Decoder.decode(bytes.subarray(p + 2, p + 2 + length)));
    p += 2 + length;
  }
  return out;
}

export function sourcesPayloadBytes(labels: readonly SourceLabel[]): number {
  let n = SOURCES_HEAD.size;
  for (const s of labels) n += SOURCE_ENTRY_HEAD + Buffer.byteLength(s.label);
  return n;
}

/** Writes a SOURCES payload at `at`. Returns the bytes written. */
export function writeSourcesPayload(target: Uint8Array, at: number, labels: readonly SourceLabel[]): number {
  const v = viewOf(target);
  target.fill(0, at, at + SOURCES_HEAD.size);
  v.setUint8(at + SOURCES_HEAD.at.kind, PayloadKind.SOURCES);
  v.setUint32(at + SOURCES_HEAD.at.count, labels.length, true);
  let p = at + SOURCES_HEAD.size;
  for (const s of labels) {
    if (!Number.isInteger(s.id) || s.id < 0 || s.id > 0xffffffff) throw new RangeError(`bad source id ${s.id}`);
    const written = utf8Encoder.encodeInto(s.label, target.subarray(p + SOURCE_ENTRY_HEAD)).written;
    if (written > 0xffff) throw new RangeError('a source label is longer than 65535 bytes');
    v.setUint32(p, s.id, true);
    v.setUint16(p + 4, written, true);
    p += SOURCE_ENTRY_HEAD + written;
  }
  return p - at;
}

/** The labels of a SOURCES payload. Allocates. */
export function readSourcesPayload(payload: Uint8Array): SourceLabel[] {
  const v = viewOf(payload);
  const count = v.getUint32(SOURCES_HEAD.at.count, true);
  const out: SourceLabel[] = [];
  let p = SOURCES_HEAD.size;
  for (let i = 0; i < count; i++) {
    const length = v.getUint16(p + 4, true);
    out.push({ id: v.getUint32(p, true), label: utf8Decoder.decode(payload.subarray(p + SOURCE_ENTRY_HEAD, p + SOURCE_ENTRY_HEAD + length)) });
    p += SOURCE_ENTRY_HEAD + length;
  }
  return out;
}

/** Writes a SEAL payload at `at`. Returns the bytes written. */
export function writeSealPayload(target: Uint8Array, at: number): number {
  target.fill(0, at, at + SEAL_PAYLOAD.size);
  target[at + SEAL_PAYLOAD.at.kind] = PayloadKind.SEAL;
  return SEAL_PAYLOAD.size;
}

/** Bytes of a CLOSE payload listing `busy` (pairs shard, epoch). */
export function closePayloadBytes(busy: readonly number[]): number {
  return CLOSE_HEAD.size + (busy.length / 2) * CLOSE_ENTRY.size;
}

/** Writes a CLOSE payload at `at` listing `busy` (pairs shard, epoch). Returns the bytes written. */
export function writeClosePayload(target: Uint8Array, at: number, busy: readonly number[]): number {
  const v = viewOf(target);
  const size = closePayloadBytes(busy);
  target.fill(0, at, at + size);
  v.setUint8(at + CLOSE_HEAD.at.kind, PayloadKind.CLOSE);
  v.setUint32(at + CLOSE_HEAD.at.count, busy.length / 2, true);
  for (let i = 0, p = at + CLOSE_HEAD.size; i < busy.length; i += 2, p += CLOSE_ENTRY.size) {
    v.setUint32(p + CLOSE_ENTRY.at.shard, busy[i]!, true);
    writeU64(v, p + CLOSE_ENTRY.at.epoch, busy[i + 1]!);
  }
  return size;
}

/** The busy list of a checked CLOSE payload at `at`, appended to `out` as pairs (shard, epoch). */
export function readClosePayload(view: DataView, at: number, out: number[]): void {
  const count = view.getUint32(at + CLOSE_HEAD.at.count, true);
  for (let i = 0, p = at + CLOSE_HEAD.size; i < count; i++, p += CLOSE_ENTRY.size) {
    out.push(view.getUint32(p + CLOSE_ENTRY.at.shard, true), readU64(view, p + CLOSE_ENTRY.at.epoch));
  }
}
