/**
 * Snapshot files: the whole engine state at an epoch boundary, in one file, so that recovery is
 * "latest intact snapshot + journal of later epochs" and older segments can be deleted.
 * Taking one: raw copies of the typed arrays while the shards are paused (snapshot-copy.ts), then
 * later, on another thread (snapshot-writer.ts): the book-ordered image (snapshot-image.ts),
 * writeSnapshot() — encode (snapshot-codec.ts), temp file, fdatasync, rename (atomic), directory sync.
 */
import { closeSync, fdatasyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BalanceTable } from '../balance/table.js';
import { keyStrings } from '../balance/update-keys.js';
import { NIL } from '../book/order-columns.js';
import type { OrderBook } from '../book/order-book.js';
import type { Engine } from '../engine.js';
import { byUserModulo, recomputeSupply, type UpdateOwner } from './replay.js';
import { listSegments } from './segment-files.js';
import { syncDirectory, type JournalLog } from './segment-reader.js';
import { decodeSnapshot, encodeSnapshot, SnapshotError } from './snapshot-codec.js';
import type { BookImage, EngineImage, SnapshotImage } from './snapshot-image.js';

export { SnapshotError, SNAPSHOT_VERSION } from './snapshot-codec.js';
export { captureBalances, captureEngine, captureSnapshot, composeSnapshot, engineImageOf, namesOf } from './snapshot-image.js';
export type { BalancesImage, BookImage, EngineImage, SnapshotImage, SnapshotNames } from './snapshot-image.js';
export { CopyBuffers, copyBalances, copyEngine } from './snapshot-copy.js';
export type { BookCopy, EngineCopy } from './snapshot-copy.js';

const SNAPSHOT_NAME = /^snapshot-(\d{16})\.snap$/;

export function snapshotName(epoch: number): string {
  return `snapshot-${String(epoch).padStart(16, '0')}.snap`;
}

/**
 * Writes the snapshot durably and atomically: a temp file, fdatasync, rename, directory sync.
 * Returns its path.
 */
export function writeSnapshot(dir: string, image: SnapshotImage): string {
  return writeSnapshotFile(dir, image.epoch, encodeSnapshot(image));
}

/**
 * How much of a snapshot is written between two fdatasyncs. Syncing as it goes keeps the dirty data
 * small: with ext4's ordered journaling a shard's fdatasync of its segment can otherwise wait for
 * every dirty block of the snapshot (measured: acknowledgements held 0.2–0.25 s by one final sync
 * of 214 MB; with 4 MiB steps, a few milliseconds).
 */
const SYNC_STEP_BYTES = 4 << 20;

/** writeSnapshot() of an encoded image (encodeSnapshot) of `epoch`. */
export function writeSnapshotFile(dir: string, epoch: number, bytes: Uint8Array): string {
  const path = join(dir, snapshotName(epoch));
  const temp = join(dir, `.${snapshotName(epoch)}.${process.pid}.tmp`);
  const fd = openSync(temp, 'w');
  try {
    let done = 0;
    while (done < bytes.byteLength) {
      const end = Math.min(bytes.byteLength, done + SYNC_STEP_BYTES);
      while (done < end) done += writeSync(fd, bytes, done, end - done);
      fdatasyncSync(fd);
    }
    if (bytes.byteLength === 0) fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  syncDirectory(dir);
  return path;
}

export function readSnapshot(path: string): SnapshotImage {
  const b = readFileSync(path);
  return decodeSnapshot(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

export interface SnapshotFile {
  readonly path: string;
  readonly epoch: number;
}

/** Snapshot files in `dir`, newest (highest epoch) first. */
export function listSnapshots(dir: string): SnapshotFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: SnapshotFile[] = [];
  for (const name of names) {
    const m = SNAPSHOT_NAME.exec(name);
    if (m !== null) out.push({ path: join(dir, name), epoch: Number(m[1]) });
  }
  return out.sort((a, b) => b.epoch - a.epoch);
}

/** The newest snapshot that reads back intact (corrupt ones are logged and skipped), or null. */
export function latestValidSnapshot(dir: string, log?: JournalLog): { path: string; image: SnapshotImage } | null {
  for (const file of listSnapshots(dir)) {
    try {
      const image = readSnapshot(file.path);
      if (image.epoch !== file.epoch) throw new SnapshotError(`holds epoch ${image.epoch}, its name says ${file.epoch}`);
      return { path: file.path, image };
    } catch (err) {
      if (!(err instanceof SnapshotError)) throw err;
      log?.(`snapshot ${file.path} skipped: ${err.message}`);
    }
  }
  return null;
}

/**
 * Deletes journal segments every frame of which is of an epoch ≤ `epoch` (a segment ends where
 * the shard's next segment starts; a shard's last segment is never deleted). Returns their paths.
 */
export function deleteSegmentsBefore(dir: string, epoch: number): string[] {
  const deleted: string[] = [];
  for (const segments of listSegments(dir).values()) {
    for (let i = 0; i + 1 < segments.length; i++) {
      if (segments[i + 1]!.firstEpoch > epoch + 1) break;
      unlinkSync(segments[i]!.path);
      deleted.push(segments[i]!.path);
    }
  }
  if (deleted.length > 0) syncDirectory(dir);
  return deleted;
}

/** Deletes snapshots older than `epoch`. Returns their paths. */
export function deleteSnapshotsBefore(dir: string, epoch: number): string[] {
  const deleted: string[] = [];
  for (const file of listSnapshots(dir)) {
    if (file.epoch >= epoch) continue;
    unlinkSync(file.path);
    deleted.push(file.path);
  }
  if (deleted.length > 0) syncDirectory(dir);
  return deleted;
}

// ---------------------------------------------------------------------------------------------
// Restore

/**
 * Loads a snapshot into engines freshly built over one fresh balance table (their books empty).
 * Asset and market indexes must mean the same as when it was taken (the config may only have
 * appended assets or markets). Books go to the engine holding each market; balance.update keys
 * to `updateOwner(user)` (the router's rule by default); labels and id counters to every engine.
 */
export function restoreSnapshot(image: SnapshotImage, engines: readonly Engine[], updateOwner?: UpdateOwner): void {
  const first = engines[0];
  if (first === undefined) throw new Error('restore needs at least one engine');
  checkNames('asset', image.assets, first.specs.assets.map((a) => a.name));
  checkNames('market', image.markets, first.specs.markets.map((m) => m.name));
  const table = first.balances;
  for (const engine of engines) {
    if (engine.balances.cells.buffer !== table.cells.buffer) throw new Error('restore targets must share one balance table');
    for (const book of engine.books) if (book !== null && book.orders.size !== 0) throw new Error('restore needs empty books');
  }
  if (table.users.size > 1) throw new Error('restore needs a fresh balance table');

  const b = image.balances;
  if (b.assetCount > table.assetCount) throw new SnapshotError('snapshot has more assets than the balance table');
  for (let r = 0; r < b.users.length; r++) {
    const row = table.users.findOrInsert(b.users[r]!);
    if (row < 0) throw new Error('the balance table is full (raise engine.max_users)');
    for (let asset = 0; asset < b.assetCount; asset++) {
      const from = (r * b.assetCount + asset) * 2;
      const to = table.cell(row, asset);
      table.cells[to] = b.cells[from]!;
      table.cells[to + 1] = b.cells[from + 1]!;
    }
  }
  recomputeSupply(table);

  for (const book of image.books) restoreBook(book, engines, table);

  image.sources.forEach((label, id) => {
    if (label !== '') for (const engine of engines) engine.registerSource(id, label);
  });
  const owner = updateOwner ?? byUserModulo(engines.length);
  const keysByEngine = engines.map((): string[] => []);
  for (const key of keyStrings(image.updateKeys)) {
    const list = keysByEngine[owner(Number(key.slice(0, key.indexOf('\u0000'))))];
    if (list === undefined) throw new Error('no engine keeps a restored balance.update key');
    list.push(key);
  }
  engines.forEach((engine, i) => {
    engine.restoreAppliedUpdateKeys(keysByEngine[i]!);
    engine.orderIds.advanceTo(image.nextOrderId);
    engine.dealIds.advanceTo(image.nextDealId);
  });
}

/**
 * Restores one shard's part of a recovered state into its (empty) engine: its books, source
 * labels, balance.update keys and id counters. Balances are not touched: they were recovered into
 * the shared balance table by the router before the shard started.
 */
export function restoreEngineImage(image: EngineImage, engine: Engine): void {
  for (const book of image.books) restoreBook(book, [engine], engine.balances);
  image.sources.forEach((label, id) => {
    if (label !== '') engine.registerSource(id, label);
  });
  engine.restoreAppliedUpdateKeys(keyStrings(image.updateKeys));
  engine.orderIds.advanceTo(image.nextOrderId);
  engine.dealIds.advanceTo(image.nextDealId);
}

function checkNames(what: string, saved: readonly string[], current: readonly string[]): void {
  saved.forEach((name, i) => {
    if (current[i] !== name) throw new SnapshotError(`snapshot ${what} ${i} is ${name}, the config has ${current[i] ?? 'none'}`);
  });
}

/**
 * Inserts a book's orders in id order: ids grow with the time an order came to rest, so this
 * rebuilds each level's FIFO and each user's newest-first list exactly as they were.
 */
function restoreBook(image: BookImage, engines: readonly Engine[], table: BalanceTable): void {
  let book: OrderBook | null = null;
  for (const engine of engines) book ??= engine.books[image.market] ?? null;
  if (book === null) throw new Error(`no engine holds market ${image.market} of the snapshot`);
  const order = Array.from({ length: image.count }, (_, i) => i).sort((x, y) => image.id[x]! - image.id[y]!);
  const o = book.orders;
  for (const i of order) {
    const slot = o.allocate();
    if (slot === NIL) throw new Error(`the book of market ${image.market} is full (raise engine.max_orders_per_market)`);
    o.id[slot] = image.id[i]!;
    o.user[slot] = image.user[i]!;
    o.row[slot] = table.users.findOrInsert(image.user[i]!);
    o.side[slot] = image.side[i]!;
    o.price[slot] = image.price[i]!;
    o.amount[slot] = image.amount[i]!;
    o.left[slot] = image.left[i]!;
    o.dealStock[slot] = image.dealStock[i]!;
    o.takerFee[slot] = image.takerFee[i]!;
    o.makerFee[slot] = image.makerFee[i]!;
    o.freeze[slot] = image.freeze[i]!;
    o.dealMoney[slot] = image.dealMoney[i]!;
    o.dealFee[slot] = image.dealFee[i]!;
    o.ctime[slot] = image.ctime[i]!;
    o.mtime[slot] = image.mtime[i]!;
    o.source[slot] = image.source[i]!;
    if (o.row[slot] < 0 || !book.insert(slot)) {
      o.free(slot);
      throw new Error(`no room for order ${image.id[i]} of market ${image.market} (balance table or price levels full)`);
    }
  }
}
