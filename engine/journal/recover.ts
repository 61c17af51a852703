/**
 * Recovery: the newest intact snapshot, then the journal frames of later epochs up to the durable
 * epoch, into engines built fresh over one fresh balance table.
 *
 * The durable epoch is given by the caller (the router takes commit-log.ts readDurableEpoch:
 * the commit log's floor and the CLOSE frames); otherwise it is the last epoch the CLOSE frames
 * prove complete (closes.ts), or in a journal without them the last epoch that every shard sealed
 * (SegmentWriter.seal); a journal with neither is replayed whole (every intact frame). Frames of
 * later epochs were never acknowledged and are not replayed.
 *
 * With `repair`, recovery also makes the journal appendable again: it records the durable epoch
 * in the commit log (a floor for later recoveries: the cuts below may remove frames that proved
 * it), then removes damaged tails (truncateTornTail) and the frames of epochs past the durable
 * one, which must never be replayed by a later recovery once new epochs are written. New writers
 * must start at `nextEpoch`.
 */
import { statSync } from 'node:fs';
import type { Engine } from '../engine.js';
import { closedEpoch } from './closes.js';
import { recordCommitLog } from './commit-log.js';
import { MAX_EPOCH } from './format.js';
import { completeEpoch, replayJournal, type ReplayStats, type UpdateOwner } from './replay.js';
import { listSegments } from './segment-files.js';
import {
  readSegments, scanJournal, truncateTornTail, type JournalFrame, type JournalLog, type ShardLogSummary, type TailCut,
} from './segment-reader.js';
import { latestValidSnapshot, restoreSnapshot } from './snapshot.js';

export interface RecoverOptions {
  /** Last durable epoch, when the caller knows it; else taken from the shards' seals. */
  readonly durableEpoch?: number;
  /** Remove damaged tails and non-durable frames so that writers can append. Default false (read-only). */
  readonly repair?: boolean;
  readonly updateOwner?: UpdateOwner;
  readonly log?: JournalLog;
}

export interface RecoveryReport {
  /** The snapshot loaded, if any. */
  readonly snapshot: { readonly path: string; readonly epoch: number } | null;
  /** Frames of epochs ≤ this were replayed (MAX_EPOCH: every intact frame). */
  readonly durableEpoch: number;
  /** How durableEpoch was chosen. */
  readonly durableFrom: 'caller' | 'closes' | 'seals' | 'everything';
  readonly replay: ReplayStats;
  readonly shards: readonly ShardLogSummary[];
  /** Damaged tails found (removed when repairing). */
  readonly cuts: readonly TailCut[];
  /** Non-durable tails removed when repairing. */
  readonly discarded: readonly TailCut[];
  /** The first epoch new writers may use: above every epoch on disk and in the snapshot. */
  readonly nextEpoch: number;
}

export function recover(dir: string, engines: readonly Engine[], options: RecoverOptions = {}): RecoveryReport {
  const log = options.log;
  const snapshot = latestValidSnapshot(dir, log);
  if (snapshot !== null) restoreSnapshot(snapshot.image, engines, options.updateOwner);
  const afterEpoch = snapshot?.image.epoch ?? -1;

  let durableEpoch = options.durableEpoch;
  let durableFrom: RecoveryReport['durableFrom'] = 'caller';
  if (durableEpoch === undefined) {
    const closed = closedEpoch(dir); // (reading cuts are logged once, by the replay below)
    if (closed !== null) {
      durableEpoch = closed;
      durableFrom = 'closes';
    } else {
      const sealed = completeEpoch(scanJournal(dir).values());
      durableEpoch = sealed ?? MAX_EPOCH;
      durableFrom = sealed === null ? 'everything' : 'seals';
    }
  }
  durableEpoch = Math.max(durableEpoch, afterEpoch);

  const replayed = replayJournal(dir, engines, {
    durableEpoch, afterEpoch,
    ...(options.updateOwner === undefined ? {} : { updateOwner: options.updateOwner }),
    ...(log === undefined ? {} : { log }),
  });
  let lastOnDisk = afterEpoch;
  for (const s of replayed.shards) lastOnDisk = Math.max(lastOnDisk, s.lastEpoch);

  const discarded: TailCut[] = [];
  if (options.repair === true) {
    if (durableEpoch < MAX_EPOCH) recordCommitLog(dir, durableEpoch, true);
    for (const cut of replayed.cuts) truncateTornTail(cut, log);
    if (durableEpoch < MAX_EPOCH) discarded.push(...discardAfter(dir, durableEpoch, log));
  }
  return {
    snapshot: snapshot === null ? null : { path: snapshot.path, epoch: snapshot.image.epoch },
    durableEpoch, durableFrom,
    replay: replayed.stats,
    shards: replayed.shards,
    cuts: replayed.cuts,
    discarded,
    nextEpoch: Math.max(lastOnDisk, durableEpoch === MAX_EPOCH ? -1 : durableEpoch) + 1,
  };
}

/**
 * Cuts every shard's journal before its first frame of an epoch > `durableEpoch` (a segment that
 * only holds later epochs is set aside whole), so that those frames can never be replayed.
 * Returns the cuts made.
 */
export function discardAfter(dir: string, durableEpoch: number, log?: JournalLog): TailCut[] {
  const cuts: TailCut[] = [];
  for (const [shard, segments] of listSegments(dir)) {
    const paths = segments.map((s) => s.path);
    // The first frame past the durable epoch, and the first segment that starts past it (it may hold no frame).
    let frameAt: { index: number; offset: number } | null = null;
    readSegments(segments, shard, (frame: JournalFrame) => {
      if (frameAt === null && frame.epoch > durableEpoch) frameAt = { index: paths.indexOf(frame.file), offset: frame.offset };
    });
    const first = frameAt as { index: number; offset: number } | null;
    const whole = segments.findIndex((s) => s.firstEpoch > durableEpoch);
    let index: number;
    let offset: number;
    if (whole >= 0 && (first === null || whole <= first.index)) {
      index = whole;
      offset = 0;
    } else if (first !== null) {
      index = first.index;
      offset = first.offset;
    } else {
      continue;
    }
    const file = paths[index]!;
    const cut: TailCut = { shard, file, offset, bytes: statSync(file).size - offset, problem: 'not-durable', laterSegments: paths.slice(index + 1) };
    truncateTornTail(cut, log);
    cuts.push(cut);
  }
  return cuts;
}
