/**
 * The commit log: the last durable epoch, on disk. Two 16-byte slots used in turn
 * ([u64 epoch][u32 crc32c of the epoch][u32 magic]), so a write torn by a crash damages only the
 * slot being written and the other still holds the previous durable epoch. Recovery replays
 * journal frames up to the larger valid epoch of the two.
 */
import { closeSync, existsSync, fdatasync, fdatasyncSync, mkdirSync, openSync, readFileSync, write } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32c } from './crc32c.js';

const SLOT_BYTES = 16;
const MAGIC = 0x4c4d4f43; // "COML"
const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

export const COMMIT_LOG = 'commit.log';

/** The last durable epoch recorded in `dir`, or -1 when none is. */
export function readDurableEpoch(dir: string): number {
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

export class CommitLog {
  private readonly fd: number;
  private writes = 0;
  private readonly slot = new Uint8Array(SLOT_BYTES);

  constructor(dir: string, private readonly sync: boolean) {
    mkdirSync(dir, { recursive: true });
    // Write first to the slot that does NOT hold the newest epoch, so a torn first write cannot lose it.
    this.writes = readSlots(dir).slot === 0 ? 1 : 0;
    this.fd = openSync(join(dir, COMMIT_LOG), existsSync(join(dir, COMMIT_LOG)) ? 'r+' : 'w+');
  }

  /** Records `epoch` as durable (written, and fdatasync'd when syncing). Off the event loop (libuv pool). */
  async record(epoch: number): Promise<void> {
    const view = new DataView(this.slot.buffer);
    view.setBigUint64(0, BigInt(epoch), true);
    view.setUint32(8, crc32c(this.slot.subarray(0, 8)), true);
    view.setUint32(12, MAGIC, true);
    const position = (this.writes++ % 2) * SLOT_BYTES;
    await writeAsync(this.fd, this.slot, 0, SLOT_BYTES, position);
    if (this.sync) await fdatasyncAsync(this.fd);
  }

  close(): void {
    if (this.sync) fdatasyncSync(this.fd);
    closeSync(this.fd);
  }
}
