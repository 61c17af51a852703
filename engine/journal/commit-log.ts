/**
 * The commit log: an epoch known durable, on disk. Two 16-byte slots used in turn
 * ([u64 epoch][u32 crc32c of the epoch][u32 magic]), so a write torn by a crash damages only the
 * slot being written and the other still holds the previous epoch.
 *
 * Since format 2 it is a floor, not the record of every commit: acknowledgements wait for one
 * fdatasync per batch in the shard that ran it, and the shard logs' CLOSE frames prove which
 * epochs are complete (closes.ts). Start-up recovery writes the epoch it recovered to here
 * before it cuts what lies beyond (cutting a shard's non-durable tail can remove the later frame
 * that proved it complete through an earlier close). Journals written before format 2 recorded
 * every durable epoch here, and are read the same way.
 */
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { closedEpoch } from './closes.js';
import { crc32c } from './crc32c.js';
import { syncDirectory } from './segment-reader.js';

const SLOT_BYTES = 16;
const MAGIC = 0x4c4d4f43; // "COML"

export const COMMIT_LOG = 'commit.log';

/**
 * The durable epoch of the journal in `dir`, as start-up recovery takes it: the larger of the
 * commit log's epoch and the last epoch the shard logs' CLOSE frames prove complete; -1 when
 * neither records one.
 */
export function readDurableEpoch(dir: string): number {
  const floor = readCommitLog(dir);
  return Math.max(floor, closedEpoch(dir, floor) ?? -1);
}

/** The epoch the commit log in `dir` records, or -1 when none is. */
export function readCommitLog(dir: string): number {
  return readSlots(dir).epoch;
}

/** The larger valid epoch of the two slots (-1: none) and the slot holding it (-1: none). */
function readSlots(dir: string): { epoch: number; slot: number } {
  const path = join(dir, COMMIT_LOG);
  if (!existsSync(path)) return { epoch: -1, slot: -1 };
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let best = { epoch: -1, slot: -1 };
  for (let slot = 0; slot < 2 && (slot + 1) * SLOT_BYTES <= bytes.byteLength; slot++) {
    const at = slot * SLOT_BYTES;
    if (view.getUint32(at + 12, true) !== MAGIC) continue;
    if (crc32c(bytes.subarray(at, at + 8)) !== view.getUint32(at + 8, true)) continue;
    const epoch = Number(view.getBigUint64(at, true));
    if (epoch > best.epoch) best = { epoch, slot };
  }
  return best;
}

/**
 * Records `epoch` in the commit log of `dir` (the slot that does not hold the newest epoch, so a
 * torn write cannot lose it), fdatasync'd when `sync`. Never lowers what it records.
 */
export function recordCommitLog(dir: string, epoch: number, sync: boolean): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, COMMIT_LOG);
  const current = readSlots(dir);
  if (current.epoch >= epoch) return;
  const slot = new Uint8Array(SLOT_BYTES);
  const view = new DataView(slot.buffer);
  view.setBigUint64(0, BigInt(epoch), true);
  view.setUint32(8, crc32c(slot.subarray(0, 8)), true);
  view.setUint32(12, MAGIC, true);
  const created = !existsSync(path);
  const fd = openSync(path, created ? 'w+' : 'r+');
  try {
    writeSync(fd, slot, 0, SLOT_BYTES, (current.slot === 0 ? 1 : 0) * SLOT_BYTES);
    if (sync) fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (sync && created) syncDirectory(dir);
}
