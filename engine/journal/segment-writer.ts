/**
 * Appends one shard's frames to its journal. Appending only encodes the frame into an in-memory
 * buffer (cheap: no system call); flush() writes everything buffered with one writeSync; sync()
 * makes what was flushed durable (fdatasync). Group commit — when to flush and sync, and when
 * an epoch is durable — is the caller's business.
 *
 * Segments: once the current segment holds `segmentBytes` or more, the next frame of a new
 * epoch starts a new segment (written at the next flush). So a segment never shares an epoch
 * with the next; it exceeds the limit by at most the rest of an epoch (and one roll per flush).
 *
 * Preallocated segments ('fsync' mode): frames are written with positional writes (never
 * O_APPEND) into a segment that was zero-filled and fdatasync'd beforehand, so that fdatasync
 * only writes data and need not commit a size change through the filesystem's journal. While a
 * segment is written, a helper thread prepares the next one as the shard's spare file
 * (segment-spare.ts); a roll renames it, writes the header and syncs the directory. The writer
 * never waits for the helper: with no spare ready at a roll it creates the segment as a plain
 * file (writes then extend it), and rolls out of such an unprepared segment at the first new
 * epoch after a spare became ready. The first segment of open() is the leftover spare of an
 * earlier run when there is one, else unprepared (it is left early the same way). Frames may go
 * past the prepared size (the rest of an epoch): the file just grows. A segment ends in zeros
 * after its last frame, which readers take as its end (segment-reader.ts); after a roll the
 * helper cuts that zero tail off, close() does it itself (ftruncate, not synced: a zero tail
 * left by a crash is harmless).
 * 'none' mode does not prepare segments (no helper; a spare left by an earlier run is deleted):
 * without fdatasync there is no commit to save.
 *
 * Epochs only move forward: a frame's epoch is at least the previous frame's, and a writer opened
 * after a restart must start above every epoch already on disk for its shard.
 *
 * An I/O error leaves the file in an unknown state: the writer refuses further use and the
 * caller must stop acknowledging and recover from the journal.
 */
import { closeSync, existsSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EVENTS_HEAD, ReplyKind } from '../wire/commands.js';
import {
  closePayloadBytes, eventsPayloadBytes, FRAME_HEAD, frameBytes, isEpoch, sealFrame, SEAL_PAYLOAD, SEGMENT_HEADER, sourcesPayloadBytes,
  writeClosePayload, writeEventsPayload, writeSealPayload, writeSegmentHeader, writeSourcesPayload, type SourceLabel,
} from './format.js';
import { MAX_SHARD, listShardSegments, segmentName } from './segment-files.js';
import { readSegments, syncDirectory } from './segment-reader.js';
import { SpareFile, spareBytesFor } from './segment-spare.js';

/**
 * 'fsync' (default): sync() calls fdatasync, so flushed frames survive a power loss.
 * 'none': sync() does nothing; frames reach the disk when the OS writes them back, so a crash
 * of the machine (not of the process) can lose the last moments of acknowledged work.
 */
export type Durability = 'fsync' | 'none';

export interface SegmentWriterOptions {
  /** Start a new segment once the current one holds this many bytes. Default 64 MiB. */
  readonly segmentBytes?: number;
  readonly durability?: Durability;
  /** Initial size of the append buffer (it doubles when needed). Default 1 MiB. */
  readonly bufferBytes?: number;
  /** Write into preallocated segments prepared by a helper thread (see above). Default: durability 'fsync'. */
  readonly prepare?: boolean;
  /** The helper's pause after each step (SPARE_STEP_BYTES) it writes, in milliseconds (tests change it). Default SPARE_PAUSE_MS. */
  readonly preparePauseMs?: number;
  /** Free bytes the filesystem must keep besides a spare for the helper to prepare one. Default: a spare's size (SpareFile.start). */
  readonly prepareReserveBytes?: number;
}

export class SegmentWriter {
  readonly durability: Durability;
  readonly segmentBytes: number;
  /** Bytes flushed to files by this writer (headers included). */
  bytesWritten = 0;
  /** Frames appended by this writer. */
  frames = 0;
  /** Segments this writer started in a prepared spare, and as plain files (none ready, or not preparing). */
  preparedSegments = 0;
  unpreparedSegments = 0;
  private fd = -1;
  private path = '';
  /** First epoch of the current segment. */
  private segmentEpoch = -1;
  /** Bytes of the current segment's frames (and header): where the next write goes. */
  private fileBytes = 0;
  /** Size the current segment had when it was opened, zero-filled past its frames (0: a plain file). */
  private preparedBytes = 0;
  private spare: SpareFile | null = null;
  /** Epoch of the last appended frame, or -1. */
  private lastEpoch = -1;
  private buffer: Uint8Array;
  private length = 0;
  /** Offset in the buffer of the first frame at which a new segment starts, or -1; and its epoch. */
  private rollAt = -1;
  private rollEpoch = -1;
  private broken: Error | null = null;

  private constructor(readonly dir: string, readonly shard: number, options: SegmentWriterOptions) {
    this.durability = options.durability ?? 'fsync';
    this.segmentBytes = options.segmentBytes ?? 64 << 20;
    this.buffer = new Uint8Array(options.bufferBytes ?? 1 << 20);
  }

  /**
   * Opens the shard's journal for appending, starting a segment at `firstEpoch`, which must be
   * above every epoch in the shard's existing segments (read and checked here: a torn tail must
   * be removed first, see truncateTornTail). Creates `dir` when needed.
   */
  static open(dir: string, shard: number, firstEpoch: number, options: SegmentWriterOptions = {}): SegmentWriter {
    if (!Number.isInteger(shard) || shard < 0 || shard > MAX_SHARD) throw new RangeError(`shard ${shard} is outside 0…${MAX_SHARD}`);
    if (!isEpoch(firstEpoch)) throw new RangeError(`bad epoch ${firstEpoch}`);
    mkdirSync(dir, { recursive: true });
    const segments = listShardSegments(dir, shard);
    const last = segments[segments.length - 1];
    if (last !== undefined) {
      // Epochs grow across segments, so the last segment alone tells where the shard's journal ends.
      const tail = readSegments([last], shard, null);
      if (tail.cut !== null) {
        throw new Error(`journal of shard ${shard} has a damaged tail at ${tail.cut.file}:${tail.cut.offset}: truncate it before writing`);
      }
      if (tail.lastEpoch >= firstEpoch || last.firstEpoch > firstEpoch) {
        throw new RangeError(`journal of shard ${shard} already reaches epoch ${Math.max(tail.lastEpoch, last.firstEpoch)}; a new segment must start above it, not at ${firstEpoch}`);
      }
    }
    const writer = new SegmentWriter(dir, shard, options);
    if (options.prepare ?? writer.durability === 'fsync') {
      writer.spare = SpareFile.start(dir, shard, spareBytesFor(writer.segmentBytes), options.preparePauseMs, options.prepareReserveBytes);
    } else {
      SpareFile.discard(dir, shard);
    }
    try {
      writer.openSegment(firstEpoch);
    } catch (err) {
      writer.spare?.stop();
      throw err;
    }
    return writer;
  }

  /** The segment being written. */
  get segmentPath(): string {
    return this.path;
  }

  /** True when the current segment was zero-filled beforehand (a spare). */
  get segmentPrepared(): boolean {
    return this.preparedBytes > 0;
  }

  /**
   * Blocks until the helper has a spare ready, at most `timeoutMs`; false when it has none (not
   * preparing, stopped, failed, or too slow). For tests and tools: the shard never waits for it.
   */
  waitForSpare(timeoutMs = 30_000): boolean {
    return this.spare?.waitReady(timeoutMs) ?? false;
  }

  /** Bytes appended but not flushed yet. */
  get pendingBytes(): number {
    return this.length;
  }

  /** Appends an EVENTS frame: event records (core/events.ts) and the strings their BALANCE records index. */
  appendEvents(epoch: number, events: Uint8Array, strings: readonly string[]): void {
    const payload = eventsPayloadBytes(events.byteLength, strings);
    const at = this.begin(epoch, payload);
    writeEventsPayload(this.buffer, at + FRAME_HEAD.size, events, strings);
    this.end(at, epoch, payload);
  }

  /** Appends an EVENTS frame from an EVENTS record exactly as the reply ring carries it (trailing padding ignored). */
  appendEventsRecord(epoch: number, record: Uint8Array): void {
    const v = new DataView(record.buffer, record.byteOffset, record.byteLength);
    if (record.byteLength < EVENTS_HEAD.size || v.getUint8(EVENTS_HEAD.at.kind) !== ReplyKind.EVENTS) {
      throw new RangeError('not an EVENTS record');
    }
    const payload = EVENTS_HEAD.size + v.getUint32(EVENTS_HEAD.at.eventBytes, true) + v.getUint32(EVENTS_HEAD.at.stringBytes, true);
    if (payload > record.byteLength) throw new RangeError('EVENTS record shorter than its head says');
    const at = this.begin(epoch, payload);
    this.buffer.set(record.subarray(0, payload), at + FRAME_HEAD.size);
    this.end(at, epoch, payload);
  }

  /** Appends a SOURCES frame: labels registered under source ids (before the first order that uses them). */
  appendSources(epoch: number, labels: readonly SourceLabel[]): void {
    const payload = sourcesPayloadBytes(labels);
    const at = this.begin(epoch, payload);
    writeSourcesPayload(this.buffer, at + FRAME_HEAD.size, labels);
    this.end(at, epoch, payload);
  }

  /** Appends a SEAL frame: this shard has appended every frame of `epoch`. */
  seal(epoch: number): void {
    const at = this.begin(epoch, SEAL_PAYLOAD.size);
    writeSealPayload(this.buffer, at + FRAME_HEAD.size);
    this.end(at, epoch, SEAL_PAYLOAD.size);
  }

  /**
   * Appends a CLOSE frame: a seal of `epoch` by the shard that closed it, listing as pairs
   * (shard, epoch) the shards that still had unwritten work of epochs ≤ `epoch` (format.ts).
   */
  appendClose(epoch: number, busy: readonly number[]): void {
    const payload = closePayloadBytes(busy);
    const at = this.begin(epoch, payload);
    writeClosePayload(this.buffer, at + FRAME_HEAD.size, busy);
    this.end(at, epoch, payload);
  }

  /** Writes every buffered frame with one writeSync (rolling to a new segment first when due). Returns the bytes written. */
  flush(): number {
    this.usable();
    const bytes = this.length;
    if (bytes === 0) return 0;
    try {
      if (this.rollAt >= 0) {
        this.writeAll(this.buffer.subarray(0, this.rollAt));
        this.roll(this.rollEpoch);
        this.writeAll(this.buffer.subarray(this.rollAt, bytes));
      } else {
        this.writeAll(this.buffer.subarray(0, bytes));
      }
    } catch (err) {
      throw this.fail(err);
    }
    this.length = 0;
    this.rollAt = -1;
    return bytes;
  }

  /** Makes every flushed frame durable (fdatasync), in 'fsync' mode; does nothing in 'none' mode. */
  sync(): void {
    this.usable();
    if (this.durability === 'none') return;
    try {
      fdatasyncSync(this.fd);
    } catch (err) {
      throw this.fail(err);
    }
  }

  /** Flushes, syncs, cuts the segment's zero tail off and closes; stops the spare's helper (a complete spare is kept for the next writer). */
  close(): void {
    if (this.fd < 0) return;
    try {
      if (this.broken === null) {
        this.flush();
        this.sync();
        this.trimZeroTail();
      }
    } finally {
      this.spare?.stop();
      this.spare = null;
    }
    closeSync(this.fd);
    this.fd = -1;
  }

  /** Reserves room for a frame with `payload` bytes; returns its offset in the buffer. */
  private begin(epoch: number, payload: number): number {
    this.usable();
    if (!isEpoch(epoch) || epoch < this.lastEpoch) throw new RangeError(`epoch ${epoch} is before epoch ${this.lastEpoch}, already appended`);
    const need = this.length + frameBytes(payload);
    if (need > this.buffer.byteLength) {
      let size = this.buffer.byteLength * 2;
      while (size < need) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
    }
    return this.length;
  }

  private end(at: number, epoch: number, payload: number): void {
    this.length += sealFrame(this.buffer, at, epoch, payload);
    // The first frame of a new epoch once the segment is full starts the next segment (at the next flush).
    // So does the first frame of a new epoch in an unprepared segment once a spare is ready.
    if (this.rollAt < 0 && epoch > this.lastEpoch && this.lastEpoch >= 0 && (this.fileBytes + at >= this.segmentBytes || this.spareWaiting())) {
      this.rollAt = at;
      this.rollEpoch = epoch;
    }
    this.lastEpoch = epoch;
    this.frames++;
  }

  /** True when the current segment is a plain file and a prepared spare waits. */
  private spareWaiting(): boolean {
    return this.preparedBytes === 0 && this.spare !== null && this.spare.ready;
  }

  /** Ends the current segment (synced in 'fsync' mode; its zero tail cut off by the helper) and starts one at `firstEpoch`. */
  private roll(firstEpoch: number): void {
    if (this.durability === 'fsync') fdatasyncSync(this.fd);
    if (this.preparedBytes > this.fileBytes && this.spare?.trimLater(this.segmentEpoch, this.fileBytes) === true) this.preparedBytes = 0;
    this.trimZeroTail(); // (when the helper could not take it: stopped, or still busy with the previous one)
    closeSync(this.fd);
    this.fd = -1;
    this.openSegment(firstEpoch);
  }

  /** Cuts the zeros after the last frame off a prepared segment (not synced: a zero tail is harmless). */
  private trimZeroTail(): void {
    if (this.preparedBytes > this.fileBytes) ftruncateSync(this.fd, this.fileBytes);
    this.preparedBytes = 0;
  }

  /**
   * Opens the segment starting at `firstEpoch`: an intact header-only one left at that name
   * (continued), else the spare when one is ready (renamed), else a new plain file; then writes
   * its header and, in 'fsync' mode, syncs it and the directory.
   */
  private openSegment(firstEpoch: number): void {
    const path = join(this.dir, segmentName(this.shard, firstEpoch));
    const reuse = existsSync(path); // only an intact header-only segment can be here: open() checked the epochs
    const prepared = !reuse && this.spare !== null && this.spare.take(path);
    this.fd = openSync(path, reuse || prepared ? 'r+' : 'w');
    this.path = path;
    this.segmentEpoch = firstEpoch;
    const size = reuse || prepared ? fstatSync(this.fd).size : 0;
    if (reuse) {
      this.fileBytes = SEGMENT_HEADER.size;
      this.preparedBytes = size > this.fileBytes ? size : 0; // a zero tail: the spare it was made from
      return;
    }
    this.preparedBytes = size;
    if (prepared) this.preparedSegments++;
    else this.unpreparedSegments++;
    const header = new Uint8Array(SEGMENT_HEADER.size);
    writeSegmentHeader(header, 0, this.shard, firstEpoch);
    this.fileBytes = 0;
    this.writeAll(header);
    if (this.durability === 'fsync') {
      fdatasyncSync(this.fd);
      syncDirectory(this.dir);
    } else if (prepared) {
      syncDirectory(this.dir); // the rename, as in 'fsync' mode: a crash must not bring the spare back under its old name with frames in it
    }
  }

  /** Writes `bytes` at the end of the current segment's frames (a positional write: never O_APPEND, which would ignore the position). */
  private writeAll(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, this.fileBytes + done);
    this.fileBytes += bytes.byteLength;
    this.bytesWritten += bytes.byteLength;
  }

  private usable(): void {
    if (this.broken !== null) throw new Error(`journal writer of shard ${this.shard} failed earlier: ${this.broken.message}`);
    if (this.fd < 0) throw new Error(`journal writer of shard ${this.shard} is closed`);
  }

  private fail(err: unknown): Error {
    this.broken = err instanceof Error ? err : new Error(String(err));
    return this.broken;
  }
}
