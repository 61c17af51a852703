/**
 * Reads a shard's journal: its segments in epoch order, every frame checked (length, checksum,
 * zero padding, epoch order, payload structure). At the first bad byte — a torn write at the
 * tail after a crash, or corruption — reading STOPS: nothing after it is ever replayed, not the
 * rest of that segment and not later segments. The cut is reported exactly (file, offset,
 * bytes, why) and logged, so that recovery can remove it with truncateTornTail() before the
 * shard writes again.
 *
 * Zero tail: a segment written into preallocated space (segment-writer.ts) ends in zero bytes
 * after its last frame. A frame boundary from which the rest of the file is all zeros is the
 * segment's clean end (a frame's length is never 0). Zeros at a frame's head followed by any
 * nonzero byte later are damage like any other (a crash can persist later pages of the file
 * without earlier ones; such frames were never acknowledged, since an acknowledgement waits for
 * the fdatasync of everything before) and are cut.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  FrameCursor, frameChecker, PayloadKind, readSegmentHeader, segmentHeaderBytes, type FrameProblem,
} from './format.js';
import { listSegments, listShardSegments, type SegmentFile } from './segment-files.js';

/** Receives one line per notable journal event (a cut, a truncation). */
export type JournalLog = (line: string) => void;

/** Why a journal was cut: a damaged frame, or (recovery) frames of epochs that never became durable. */
export type CutReason = FrameProblem | 'not-durable';

/** What reading left out of one shard's journal. */
export interface TailCut {
  readonly shard: number;
  /** The segment where reading stopped. */
  readonly file: string;
  /** Offset of the first byte not accepted; everything before it in `file` is intact. */
  readonly offset: number;
  /** Bytes from `offset` to the end of `file`. */
  readonly bytes: number;
  readonly problem: CutReason;
  /** Whole segments after `file`, never read. */
  readonly laterSegments: readonly string[];
}

export interface ShardLogSummary {
  readonly shard: number;
  readonly segments: number;
  /** Intact frames. */
  readonly frames: number;
  /** Epoch of the last intact frame, or -1. */
  readonly lastEpoch: number;
  /** Epoch of the last intact SEAL or CLOSE frame, or -1. */
  readonly lastSealedEpoch: number;
  readonly cut: TailCut | null;
}

/** One intact frame, as handed to a visitor. The object is reused: copy what you keep. */
export interface JournalFrame {
  shard: number;
  file: string;
  /** Offset of the frame in its segment. */
  offset: number;
  epoch: number;
  /** PayloadKind of the payload. */
  kind: number;
  /** The whole segment's bytes and a view over them; the payload is at payloadAt, payloadBytes long. */
  bytes: Uint8Array;
  view: DataView;
  payloadAt: number;
  payloadBytes: number;
}

export type FrameVisitor = (frame: JournalFrame) => void;

export interface ReadOptions {
  readonly log?: JournalLog;
}

/** The segment's bytes as a Uint8Array (readFileSync's Buffer, viewed plainly). */
function readSegment(path: string): Uint8Array {
  const buffer = readFileSync(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Calls `visit` (when given) for every intact frame of `shard`'s journal in order, stopping at
 * the first bad one. Returns what was read and the cut, if any.
 */
export function readShardLog(dir: string, shard: number, visit: FrameVisitor | null, options: ReadOptions = {}): ShardLogSummary {
  return readSegments(listShardSegments(dir, shard), shard, visit, options);
}

/** Summaries of every shard's journal in `dir` (reads and checks every frame). */
export function scanJournal(dir: string, options: ReadOptions = {}): Map<number, ShardLogSummary> {
  const out = new Map<number, ShardLogSummary>();
  for (const [shard, segments] of listSegments(dir)) out.set(shard, readSegments(segments, shard, null, options));
  return out;
}

/** As readShardLog, over a given list of one shard's segments (in epoch order). */
export function readSegments(segments: readonly SegmentFile[], shard: number, visit: FrameVisitor | null, options: ReadOptions = {}): ShardLogSummary {
  const reader = new ShardLogReader(segments, shard, options);
  while (!reader.done) reader.readSegment(visit);
  return reader.summary();
}

/**
 * Reads one shard's segments one segment at a time (readSegments in steps, with the same checks),
 * so that a caller can interleave the logs of several shards segment by segment.
 */
export class ShardLogReader {
  private readonly cursor = new FrameCursor();
  private readonly frame: JournalFrame;
  private index = 0;
  private frames = 0;
  private lastEpoch = -1;
  private lastSealedEpoch = -1;
  private cut: TailCut | null = null;

  constructor(private readonly segments: readonly SegmentFile[], readonly shard: number, private readonly options: ReadOptions = {}) {
    this.frame = {
      shard, file: '', offset: 0, epoch: 0, kind: 0, bytes: new Uint8Array(0), view: new DataView(new ArrayBuffer(0)), payloadAt: 0, payloadBytes: 0,
    };
  }

  /** True once every segment was read, or reading stopped at a bad frame. */
  get done(): boolean {
    return this.cut !== null || this.index >= this.segments.length;
  }

  /** First epoch of the next segment to read (from its name), or Infinity when done. */
  get nextFirstEpoch(): number {
    return this.done ? Infinity : this.segments[this.index]!.firstEpoch;
  }

  summary(): ShardLogSummary {
    return { shard: this.shard, segments: this.segments.length, frames: this.frames, lastEpoch: this.lastEpoch, lastSealedEpoch: this.lastSealedEpoch, cut: this.cut };
  }

  /** Reads the next segment, calling `visit` for each intact frame; at the first bad one, reading stops for good. */
  readSegment(visit: FrameVisitor | null): void {
    if (this.done) return;
    const i = this.index++;
    const segment = this.segments[i]!;
    const cursor = this.cursor;
    const frame = this.frame;
    const bytes = readSegment(segment.path);
    const header = readSegmentHeader(bytes);
    if (typeof header === 'string') return this.stop(i, 0, bytes.byteLength, header);
    // A header that disagrees with its file name, or a segment that starts inside epochs already read, is not this shard's next segment.
    if (header.shard !== this.shard || header.firstEpoch !== segment.firstEpoch) return this.stop(i, 0, bytes.byteLength, 'bad-header');
    if (header.firstEpoch <= this.lastEpoch) return this.stop(i, 0, bytes.byteLength, 'bad-epoch');
    const check = frameChecker(header.version);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    frame.file = segment.path;
    frame.bytes = bytes;
    frame.view = view;
    for (let at = segmentHeaderBytes(header.version); at < bytes.byteLength; at = cursor.next) {
      if (bytes[at] === 0 && zeroFrom(bytes, at)) break; // the zero tail of a preallocated segment
      if (!check(bytes, view, at, cursor)) return this.stop(i, at, bytes.byteLength, cursor.problem ?? 'bad-payload');
      if (cursor.epoch < this.lastEpoch || cursor.epoch < header.firstEpoch) return this.stop(i, at, bytes.byteLength, 'bad-epoch');
      this.lastEpoch = cursor.epoch;
      this.frames++;
      const kind = bytes[cursor.payloadAt]!;
      if (kind === PayloadKind.SEAL || kind === PayloadKind.CLOSE) this.lastSealedEpoch = cursor.epoch;
      if (visit !== null) {
        frame.offset = at;
        frame.epoch = cursor.epoch;
        frame.kind = kind;
        frame.payloadAt = cursor.payloadAt;
        frame.payloadBytes = cursor.payloadBytes;
        visit(frame);
      }
    }
  }

  private stop(index: number, offset: number, size: number, problem: FrameProblem): void {
    const segment = this.segments[index]!;
    const cut: TailCut = {
      shard: this.shard, file: segment.path, offset, bytes: size - offset, problem, laterSegments: this.segments.slice(index + 1).map((s) => s.path),
    };
    this.options.log?.(describeCut(cut));
    this.cut = cut;
  }
}

const ZEROS = new Uint8Array(64 << 10);

/** True when every byte of `bytes` from `from` on is zero (compared natively, 64 KiB at a time). */
export function zeroFrom(bytes: Uint8Array, from: number): boolean {
  for (let at = from; at < bytes.byteLength; at += ZEROS.byteLength) {
    const n = Math.min(ZEROS.byteLength, bytes.byteLength - at);
    if (Buffer.compare(bytes.subarray(at, at + n), ZEROS.subarray(0, n)) !== 0) return false;
  }
  return true;
}

export function describeCut(cut: TailCut): string {
  const later = cut.laterSegments.length === 0 ? '' : `, and ${cut.laterSegments.length} later segment(s) (${cut.laterSegments.join(', ')})`;
  return `journal shard ${cut.shard}: ${cut.problem} at ${cut.file} offset ${cut.offset}: ${cut.bytes} byte(s) cut${later}`;
}

/**
 * Removes what a read cut off, so that the shard can append again: truncates the damaged
 * segment at the cut (a segment whose header is bad is renamed `<name>.cut` instead) and renames
 * every later segment `<name>.cut` (kept for inspection, never read again). Durable: the file and
 * the directory are synced before it returns.
 */
export function truncateTornTail(cut: TailCut, log?: JournalLog): void {
  let headerBytes = 0;
  try {
    const header = readSegmentHeader(readSegment(cut.file));
    headerBytes = typeof header === 'string' ? 0 : segmentHeaderBytes(header.version);
  } catch {
    headerBytes = 0; // unreadable header: set the whole file aside
  }
  if (cut.offset < headerBytes || headerBytes === 0) {
    renameSync(cut.file, `${cut.file}.cut`);
  } else if (statSync(cut.file).size > cut.offset) {
    const fd = openSync(cut.file, 'r+');
    try {
      ftruncateSync(fd, cut.offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  for (const later of cut.laterSegments) renameSync(later, `${later}.cut`);
  syncDirectory(dirname(cut.file));
  log?.(`journal shard ${cut.shard}: cut removed (${describeCut(cut)})`);
}

/** Makes a directory's entries (new, renamed, removed files) durable. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
