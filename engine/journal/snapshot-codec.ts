/**
 * The snapshot file format (little-endian; refuses to run on a big-endian host):
 *   SNAPSHOT_HEADER: magic, version, epoch, body bytes, CRC-32C of the body, CRC-32C of the header
 *   body: sections, each SECTION_HEAD (kind, count, bytes) + data padded to 8 bytes:
 *     NAMES     asset and market names (what the indexes in the rest mean)
 *     COUNTERS  next order id, next deal id
 *     BALANCES  per balance-table row: user id; per row × asset: available, frozen (int64)
 *     BOOK      one per market: its resting orders in book order (asks best first, FIFO within
 *               a level, then bids), every column
 *     SOURCES   source labels by id
 *     UPDATES   applied balance.update keys (engine.ts updateKey format), u16 length + UTF-8
 *               each — the encoding of the engines' key logs (balance/update-keys.ts), copied as is
 * decodeSnapshot dispatches on the header's version, so a later release keeps reading these.
 */
import { endianness } from 'node:os';
import { isEncoded, keyCount } from '../balance/update-keys.js';
import { defineLayout } from '../wire/layout.js';
import { crc32c } from './crc32c.js';
import { isEpoch, readStrings, readU64, writeU64 } from './format.js';
import type { BalancesImage, BookImage, SnapshotImage } from './snapshot-image.js';

export const SNAPSHOT_VERSION = 1;
/** "VSNP" as a little-endian u32. */
export const SNAPSHOT_MAGIC = 0x504e5356;

export const SNAPSHOT_HEADER = defineLayout([
  ['magic', 'u32'], ['version', 'u16'], ['reserved', 'u16'], ['epoch', 'i64'], ['bodyBytes', 'i64'], ['bodyCrc', 'u32'], ['headerCrc', 'u32'],
] as const);
const SECTION_HEAD = defineLayout([['kind', 'u32'], ['count', 'u32'], ['bytes', 'i64']] as const);
const Section = { NAMES: 1, COUNTERS: 2, BALANCES: 3, BOOK: 4, SOURCES: 5, UPDATES: 6 } as const;

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

function requireLittleEndian(): void {
  if (endianness() !== 'LE') throw new SnapshotError('snapshots are written and read on little-endian hosts only');
}

const BOOK_COLUMNS = [
  'id', 'user', 'side', 'price', 'amount', 'left', 'dealStock', 'takerFee', 'makerFee',
  'freeze', 'dealMoney', 'dealFee', 'ctime', 'mtime', 'source',
] as const satisfies readonly (keyof BookImage)[];

type Column = Float64Array | Uint32Array | Uint8Array | BigInt64Array | Int32Array;

const pad8 = (n: number): number => (n + 7) & ~7;
const utf8 = new TextEncoder();

/** Accumulates sections into one growing buffer. */
class SectionWriter {
  bytes: Uint8Array;
  view: DataView;
  length = 0;

  /** `expected`: the size it will likely reach (growing by doubling copies everything each time). */
  constructor(expected: number) {
    this.bytes = new Uint8Array(Math.max(1 << 16, expected));
    this.view = new DataView(this.bytes.buffer);
  }

  ensure(extra: number): void {
    if (this.length + extra <= this.bytes.byteLength) return;
    let size = this.bytes.byteLength * 2;
    while (size < this.length + extra) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  /** Starts a section; returns where its head is, to finish with end(). */
  begin(kind: number, count: number): number {
    this.ensure(SECTION_HEAD.size);
    const at = this.length;
    this.view.setUint32(at + SECTION_HEAD.at.kind, kind, true);
    this.view.setUint32(at + SECTION_HEAD.at.count, count, true);
    this.length += SECTION_HEAD.size;
    return at;
  }

  end(head: number): void {
    const bytes = this.length - head - SECTION_HEAD.size;
    this.align();
    writeU64(this.view, head + SECTION_HEAD.at.bytes, bytes);
  }

  align(): void {
    const to = pad8(this.length);
    this.ensure(to - this.length);
    this.bytes.fill(0, this.length, to);
    this.length = to;
  }

  u32(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, n, true);
    this.length += 4;
  }

  f64(n: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, n, true);
    this.length += 8;
  }

  column(c: Column): void {
    this.ensure(c.byteLength + 8);
    this.bytes.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), this.length);
    this.length += c.byteLength;
    this.align();
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.byteLength);
    this.bytes.set(bytes, this.length);
    this.length += bytes.byteLength;
  }

  strings(list: readonly string[]): void {
    for (const s of list) {
      this.ensure(2 + s.length * 3);
      const written = utf8.encodeInto(s, this.bytes.subarray(this.length + 2)).written;
      if (written > 0xffff) throw new RangeError('a snapshot string is longer than 65535 bytes');
      this.view.setUint16(this.length, written, true);
      this.length += 2 + written;
    }
  }
}

/** The snapshot file's bytes. Allocates the whole file in memory. */
export function encodeSnapshot(image: SnapshotImage): Uint8Array {
  requireLittleEndian();
  const w = new SectionWriter(expectedBytes(image));
  w.length = SNAPSHOT_HEADER.size;
  w.ensure(0);

  let head = w.begin(Section.NAMES, image.assets.length + image.markets.length);
  w.u32(image.assets.length);
  w.u32(image.markets.length);
  w.strings(image.assets);
  w.strings(image.markets);
  w.end(head);

  head = w.begin(Section.COUNTERS, 2);
  w.f64(image.nextOrderId);
  w.f64(image.nextDealId);
  w.end(head);

  const b = image.balances;
  head = w.begin(Section.BALANCES, b.users.length);
  w.u32(b.assetCount);
  w.u32(0);
  w.column(b.users);
  w.column(b.cells);
  w.end(head);

  for (const book of image.books) {
    head = w.begin(Section.BOOK, book.count);
    w.u32(book.market);
    w.u32(0);
    for (const name of BOOK_COLUMNS) w.column(book[name]);
    w.end(head);
  }

  head = w.begin(Section.SOURCES, image.sources.length);
  w.strings(image.sources);
  w.end(head);

  const keys = image.updateKeys;
  head = w.begin(Section.UPDATES, keyCount(keys));
  if (isEncoded(keys)) for (const run of keys.runs) w.raw(run); // already in this section's encoding
  else w.strings(keys);
  w.end(head);

  const out = w.bytes.subarray(0, w.length);
  const v = w.view;
  const h = SNAPSHOT_HEADER.at;
  out.fill(0, 0, SNAPSHOT_HEADER.size);
  v.setUint32(h.magic, SNAPSHOT_MAGIC, true);
  v.setUint16(h.version, SNAPSHOT_VERSION, true);
  writeU64(v, h.epoch, image.epoch);
  writeU64(v, h.bodyBytes, w.length - SNAPSHOT_HEADER.size);
  v.setUint32(h.bodyCrc, crc32c(out.subarray(SNAPSHOT_HEADER.size)), true);
  v.setUint32(h.headerCrc, crc32c(out.subarray(0, h.headerCrc)), true);
  return out;
}

/** The encoded size of `image`'s columns and keys plus room for names, labels and section heads. */
function expectedBytes(image: SnapshotImage): number {
  let n = 1 << 16;
  n += image.balances.users.byteLength + image.balances.cells.byteLength;
  for (const book of image.books) for (const name of BOOK_COLUMNS) n += book[name].byteLength + 8;
  const keys = image.updateKeys;
  if (isEncoded(keys)) for (const run of keys.runs) n += run.byteLength;
  else for (const key of keys) n += 2 + key.length * 3;
  for (const label of image.sources) n += 2 + label.length * 3;
  return n;
}

/** Decodes and checks a snapshot file's bytes. Throws SnapshotError when anything is wrong. */
export function decodeSnapshot(bytes: Uint8Array): SnapshotImage {
  requireLittleEndian();
  if (bytes.byteLength < SNAPSHOT_HEADER.size) throw new SnapshotError('snapshot shorter than its header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = SNAPSHOT_HEADER.at;
  if (v.getUint32(h.magic, true) !== SNAPSHOT_MAGIC) throw new SnapshotError('not a snapshot (bad magic)');
  if (v.getUint32(h.headerCrc, true) !== crc32c(bytes.subarray(0, h.headerCrc))) throw new SnapshotError('snapshot header checksum mismatch');
  const version = v.getUint16(h.version, true);
  switch (version) {
    case 1:
      return decodeV1(bytes, v);
    default:
      throw new SnapshotError(`snapshot format version ${version} is not supported (this release reads ${SNAPSHOT_VERSION})`);
  }
}

function decodeV1(bytes: Uint8Array, v: DataView): SnapshotImage {
  const h = SNAPSHOT_HEADER.at;
  const epoch = readU64(v, h.epoch);
  const bodyBytes = readU64(v, h.bodyBytes);
  if (!isEpoch(epoch)) throw new SnapshotError('snapshot epoch out of range');
  if (SNAPSHOT_HEADER.size + bodyBytes !== bytes.byteLength) throw new SnapshotError(`snapshot is ${bytes.byteLength} bytes, header says ${SNAPSHOT_HEADER.size + bodyBytes}`);
  if (v.getUint32(h.bodyCrc, true) !== crc32c(bytes.subarray(SNAPSHOT_HEADER.size))) throw new SnapshotError('snapshot body checksum mismatch');

  let assets: string[] | null = null;
  let markets: string[] = [];
  let nextOrderId = 1;
  let nextDealId = 1;
  let balances: BalancesImage | null = null;
  const books: BookImage[] = [];
  let sources: string[] = [];
  let updateKeys: string[] = [];
  for (let at = SNAPSHOT_HEADER.size; at < bytes.byteLength;) {
    if (at + SECTION_HEAD.size > bytes.byteLength) throw new SnapshotError('truncated section head');
    const kind = v.getUint32(at + SECTION_HEAD.at.kind, true);
    const count = v.getUint32(at + SECTION_HEAD.at.count, true);
    const size = readU64(v, at + SECTION_HEAD.at.bytes);
    const data = at + SECTION_HEAD.size;
    if (!(data + size <= bytes.byteLength)) throw new SnapshotError('truncated section');
    const reader = new ColumnReader(bytes, data);
    switch (kind) {
      case Section.NAMES: {
        const assetCount = v.getUint32(data, true);
        const marketCount = v.getUint32(data + 4, true);
        const names = readStrings(bytes, data + 8, assetCount + marketCount);
        assets = names.slice(0, assetCount);
        markets = names.slice(assetCount);
        break;
      }
      case Section.COUNTERS:
        nextOrderId = v.getFloat64(data, true);
        nextDealId = v.getFloat64(data + 8, true);
        break;
      case Section.BALANCES: {
        const assetCount = v.getUint32(data, true);
        reader.at = data + 8;
        const users = reader.u32(count);
        balances = { assetCount, users, cells: reader.i64(count * assetCount * 2) };
        break;
      }
      case Section.BOOK: {
        reader.at = data + 8;
        books.push({
          market: v.getUint32(data, true), count,
          id: reader.f64(count), user: reader.u32(count), side: reader.u8(count), price: reader.f64(count),
          amount: reader.f64(count), left: reader.f64(count), dealStock: reader.f64(count),
          takerFee: reader.f64(count), makerFee: reader.f64(count),
          freeze: reader.i64(count), dealMoney: reader.i64(count), dealFee: reader.i64(count),
          ctime: reader.f64(count), mtime: reader.f64(count), source: reader.i32(count),
        });
        break;
      }
      case Section.SOURCES:
        sources = readStrings(bytes, data, count);
        break;
      case Section.UPDATES:
        updateKeys = readStrings(bytes, data, count);
        break;
      default:
        throw new SnapshotError(`unknown snapshot section ${kind}`);
    }
    if (reader.at > data + size) throw new SnapshotError(`section ${kind} overruns its size`);
    at = data + pad8(size);
  }
  if (assets === null || balances === null) throw new SnapshotError('snapshot lacks names or balances');
  return { epoch, assets, markets, nextOrderId, nextDealId, balances, books, sources, updateKeys };
}

/** Copies columns out of the file's bytes (into fresh, aligned arrays). */
class ColumnReader {
  constructor(private readonly bytes: Uint8Array, public at: number) {}

  private take(bytes: number): ArrayBuffer {
    if (this.at + bytes > this.bytes.byteLength) throw new SnapshotError('snapshot column overruns the file');
    const out = this.bytes.slice(this.at, this.at + bytes).buffer;
    this.at = pad8(this.at + bytes);
    return out;
  }

  u8(n: number): Uint8Array {
    return new Uint8Array(this.take(n));
  }

  u32(n: number): Uint32Array {
    return new Uint32Array(this.take(n * 4));
  }

  i32(n: number): Int32Array {
    return new Int32Array(this.take(n * 4));
  }

  f64(n: number): Float64Array {
    return new Float64Array(this.take(n * 8));
  }

  i64(n: number): BigInt64Array {
    return new BigInt64Array(this.take(n * 8));
  }
}
