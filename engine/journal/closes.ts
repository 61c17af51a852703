/**
 * The durable epoch as the shard logs themselves prove it (format 2, shard-closed epochs; see
 * epochs.ts and the README's "Durable epochs without a commit record").
 *
 * Every batch a shard journals ends with a SEAL of its epoch, or with a CLOSE when that shard
 * closed the epoch; a CLOSE of epoch c lists the shards that still had unwritten work of epochs
 * ≤ c at that moment, each with the epoch its ACTIVE cell held (a). Epoch c — and with it every
 * earlier epoch — is complete on disk when a CLOSE of c is intact and every shard (s, a) it lists
 * is complete through a: its intact log holds a SEAL or CLOSE of an epoch ≥ a, or any frame of an
 * epoch > a (its epochs only grow, so everything it wrote in epochs ≤ a comes before). Shards not
 * listed had written and fdatasync'd all their frames of epochs ≤ c before the close. The closer
 * lists itself, and its own CLOSE proves it complete through c.
 *
 * Reading starts at each shard's last segment and goes back only while an earlier segment could
 * still hold a CLOSE above the best epoch found: usually one segment per shard is read.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { PayloadKind, readClosePayload, readSegmentHeader, SEGMENT_HEADER } from './format.js';
import { listSegments, type SegmentFile } from './segment-files.js';
import { ShardLogReader, type JournalFrame, type ReadOptions } from './segment-reader.js';

/** One CLOSE that lists shards other than its closer: its epoch and (shard, epoch) pairs. */
interface PendingClose {
  readonly epoch: number;
  readonly busy: readonly number[];
}

interface ShardTail {
  readonly segments: readonly SegmentFile[];
  /** Index of the earliest segment read so far (segments.length: none yet). */
  start: number;
  /** The epoch this shard's log is complete through (see above), or -1; null until a segment with frames was read. */
  complete: number | null;
  /** Set when an earlier segment cannot hold a CLOSE (a version-1 segment was read). */
  noEarlierCloses: boolean;
}

/**
 * The last epoch the CLOSE records in `dir` prove complete, or null when no CLOSE was found.
 * `floor` (an epoch already known durable, e.g. from commit.log) lets reading stop earlier:
 * segments that can only hold closes ≤ floor are not read.
 */
export function closedEpoch(dir: string, floor = -1, options: ReadOptions = {}): number | null {
  const tails = new Map<number, ShardTail>();
  for (const [shard, segments] of listSegments(dir)) {
    tails.set(shard, { segments, start: segments.length, complete: null, noEarlierCloses: false });
  }
  const pending: PendingClose[] = [];
  let selfProven = -1; // largest CLOSE that lists only its closer
  let found = false;
  const busy: number[] = [];
  const visit = (frame: JournalFrame): void => {
    if (frame.kind !== PayloadKind.CLOSE) return;
    found = true;
    busy.length = 0;
    readClosePayload(frame.view, frame.payloadAt, busy);
    const others: number[] = [];
    for (let i = 0; i < busy.length; i += 2) if (busy[i] !== frame.shard) others.push(busy[i]!, busy[i + 1]!);
    if (others.length === 0) selfProven = Math.max(selfProven, frame.epoch);
    else pending.push({ epoch: frame.epoch, busy: others });
  };
  const readOneMore = (shard: number, tail: ShardTail): void => {
    const index = --tail.start;
    const segment = tail.segments[index]!;
    if (segmentVersion(segment.path) === 1) tail.noEarlierCloses = true;
    const reader = new ShardLogReader([segment], shard, options);
    reader.readSegment(visit);
    const s = reader.summary();
    if (tail.complete === null && s.frames > 0) tail.complete = Math.max(s.lastSealedEpoch, s.lastEpoch - 1);
  };
  const best = (): number => {
    let d = selfProven;
    for (const close of pending) {
      if (close.epoch <= d) continue;
      let ok = true;
      for (let i = 0; i < close.busy.length && ok; i += 2) ok = (tails.get(close.busy[i]!)?.complete ?? -1) >= close.busy[i + 1]!;
      if (ok) d = close.epoch;
    }
    return d;
  };
  for (const [shard, tail] of tails) if (tail.start > 0) readOneMore(shard, tail);
  for (;;) {
    const d = Math.max(best(), floor);
    let more = false;
    for (const [shard, tail] of tails) {
      if (tail.start === 0 || (tail.noEarlierCloses && tail.complete !== null)) continue;
      // Unread segments of this shard hold epochs below the first one read: a CLOSE there can beat d only if that is above d + 1.
      if (tail.complete !== null && tail.segments[tail.start]!.firstEpoch - 1 <= d) continue;
      readOneMore(shard, tail);
      more = true;
    }
    if (!more) return found ? best() : null;
  }
}

/** The format version in a segment's header, or -1 when it is unreadable. */
function segmentVersion(path: string): number {
  const bytes = new Uint8Array(SEGMENT_HEADER.size);
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, bytes, 0, bytes.byteLength, 0);
    const header = readSegmentHeader(bytes.subarray(0, n));
    return typeof header === 'string' ? -1 : header.version;
  } catch {
    return -1;
  } finally {
    closeSync(fd);
  }
}
