/**
 * What a snapshot copies of the state at an epoch boundary: raw typed arrays, nothing walked or
 * encoded (that happens later, on another thread: snapshot-image.ts engineImageOf).
 *
 *   copyEngine(engine)   per book: every order column over slots [0, highWater) and the FIFO links,
 *                        each side's level heads best first (O(price levels)); the source labels;
 *                        a mark of the balance.update key log (O(1 MiB chunks): the keys are not
 *                        copied, the log only grows); the id counters
 *   copyBalances(table)  the cells and the row → user map of the rows in use
 *
 * Both copy at once (one memcpy per array: tests, tools, single-threaded captures). The router's
 * snapshots pause the shards only to arm the same copies lazily (lazy-copy.ts), in O(chunks):
 *   armEngineCopy(engine, into)      a shard, for its books (the rest as copyEngine, taken now)
 *   armBalancesCopy(table, lazy, into)  the router, for the balance table (balanceCopySpec)
 * and the snapshot writer's thread copies the chunks (finishCopies) while matching goes on; the
 * book and balance code guards each slot and row before changing it (OrderColumns.guard,
 * BalanceTable's guard), copying its chunk first if the writer has not reached it yet.
 *
 * Where the copies go: without CopyBuffers, fresh arrays. With CopyBuffers (what shards and the
 * router keep), SharedArrayBuffers sized for the structure's capacity, kept and reused by every
 * snapshot, and paged in ahead of need outside the pause (warmEngineBuffers between a shard's
 * batches, warmBalanceBuffers by the router before it asks for the pause): a memcpy into memory
 * that is already mapped runs at memory speed, while fresh memory first takes a page fault per
 * 4 KiB (measured here: 64 MB in ~10 ms against ~60 ms). Pages more than a quarter past the part
 * in use stay untouched (virtual memory only), and so does the part a lazy copy is armed over
 * (CopyBuffers.copying). Being shared, the copies reach the writer thread without a second copy;
 * the owner must not copy into them again before that writer is done (the router takes one
 * snapshot at a time).
 */
import type { BalanceTable } from '../balance/table.js';
import type { EncodedKeys } from '../balance/update-keys.js';
import type { OrderBook } from '../book/order-book.js';
import type { PriceLevels } from '../book/price-levels.js';
import type { Engine } from '../engine.js';
import { CHUNK_SHIFT, LazyCopy, lazyCopyState, type LazyColumn, type LazyCopySpec } from './lazy-copy.js';
import type { BalancesImage, OrderFieldColumns } from './snapshot-image.js';

/** One book as copied: columns indexed by slot (length = the book's high-water mark). */
export interface BookCopy extends OrderFieldColumns {
  readonly market: number;
  /** Resting orders (slots in use). */
  readonly orders: number;
  /** FIFO link to the next order of the same level (NIL at a level's tail). */
  readonly next: Int32Array;
  /** Head slot of each live level, best level first. */
  readonly askHeads: Int32Array;
  readonly bidHeads: Int32Array;
}

/** One engine (shard) as copied, besides the shared balance table. */
export interface EngineCopy {
  readonly books: readonly BookCopy[];
  readonly sources: readonly string[];
  readonly updateKeys: EncodedKeys;
  readonly nextOrderId: number;
  readonly nextDealId: number;
  /** Lazy copies (armEngineCopy) the books' columns become whole only once finished; none for copyEngine. */
  readonly pending: readonly LazyCopySpec[];
}

type Column = Float64Array | Uint32Array | Uint8Array | Int32Array | BigInt64Array;

interface Kept {
  readonly buffer: SharedArrayBuffer;
  /** Bytes from the start known to be paged in (copied into or warmed). */
  touched: number;
}

/**
 * Destination buffers kept across snapshots, one per copied array (keyed by name), each a
 * SharedArrayBuffer for the array's whole capacity. One owner (a shard, or the router for the
 * balance table); not thread-safe. `warm…()` pages them in ahead of need, in small steps outside
 * the pause, so that no copy takes page faults (the first snapshot of a process included).
 */
export class CopyBuffers {
  private readonly kept = new Map<string, Kept>();
  /** Per structure (a book's market, or -1 for the balance table): elements every buffer of it is warm to. */
  private readonly warmedTo = new Map<number, number>();
  private readonly states = new Map<string, Int32Array>();

  /** Copies from[0, n) into the buffer kept as `key` (made for `capacity` elements on first use); returns the copy. */
  copy<T extends Column>(key: string, from: T, n: number, capacity: number): T {
    const kept = this.take(key, Math.max(n, capacity) * from.BYTES_PER_ELEMENT);
    const to = new (from.constructor as new (buffer: SharedArrayBuffer, at: number, length: number) => T)(kept.buffer, 0, n);
    to.set(from.subarray(0, n) as never);
    kept.touched = Math.max(kept.touched, to.byteLength);
    return to;
  }

  /**
   * Pages in the buffer kept as `key` (made for `capacity` elements of `bytesPerElement` on first
   * use) up to `elements`, writing zeros over at most `budget` bytes past what is paged in already.
   * Returns the budget left.
   */
  warm(key: string, bytesPerElement: number, elements: number, capacity: number, budget: number): number {
    const kept = this.take(key, capacity * bytesPerElement);
    const to = Math.min(kept.buffer.byteLength, elements * bytesPerElement, kept.touched + budget);
    if (to <= kept.touched) return budget;
    new Uint8Array(kept.buffer, kept.touched, to - kept.touched).fill(0);
    const used = to - kept.touched;
    kept.touched = to;
    return budget - used;
  }

  /** The buffer kept as `key` (made for `capacity` elements on first use) as a whole array of `like`'s type. */
  whole<T extends Column>(key: string, like: T, capacity: number): T {
    const kept = this.take(key, capacity * like.BYTES_PER_ELEMENT);
    return new (like.constructor as new (buffer: SharedArrayBuffer, at: number, length: number) => T)(kept.buffer, 0, capacity);
  }

  /**
   * A lazy copy armed over the first `bytes` of the buffer kept as `key`: warm() must leave them
   * alone (the copy writes them, maybe on another thread while the owner warms between batches).
   */
  copying(key: string, bytes: number): void {
    const kept = this.take(key, bytes);
    kept.touched = Math.max(kept.touched, bytes);
  }

  /** The lazy-copy state kept as `key` (lazy-copy.ts), made for up to `maxUnits` units in chunks of 2^shift on first use. */
  lazyState(key: string, maxUnits: number, shift: number): Int32Array {
    let state = this.states.get(key);
    if (state === undefined) {
      state = lazyCopyState(maxUnits, shift);
      this.states.set(key, state);
    }
    return state;
  }

  /** Elements the buffers of structure `id` are all warm to. */
  warmed(id: number): number {
    return this.warmedTo.get(id) ?? 0;
  }

  markWarmed(id: number, elements: number): void {
    this.warmedTo.set(id, elements);
  }

  /** Allocates the buffer kept as `key` now (see reserveEngineBuffers), unless one that large is kept already. */
  reserve(key: string, bytes: number): void {
    this.take(key, bytes);
  }

  private take(key: string, bytes: number): Kept {
    let kept = this.kept.get(key);
    if (kept === undefined || kept.buffer.byteLength < bytes) {
      kept = { buffer: new SharedArrayBuffer(bytes), touched: 0 };
      this.kept.set(key, kept);
    }
    return kept;
  }
}

/** Where warming aims: a quarter (and a few pages) past what is in use, within the capacity. */
function warmTarget(used: number, capacity: number): number {
  return Math.min(capacity, used + (used >> 2) + 1024);
}

/** Bytes per element of each book column, by the name it is kept under. */
const BOOK_COLUMN_BYTES: readonly (readonly [string, number])[] = [
  ['id', 8], ['user', 4], ['side', 1], ['price', 8], ['amount', 8], ['left', 8], ['dealStock', 8],
  ['takerFee', 8], ['makerFee', 8], ['freeze', 8], ['dealMoney', 8], ['dealFee', 8], ['ctime', 8],
  ['mtime', 8], ['source', 4], ['next', 4],
];

/**
 * Allocates every buffer a snapshot of `engine`'s books will copy into, at full capacity, without
 * touching them. Call it at start-up, before anything large was allocated and freed: later, the C
 * allocator serves big blocks from memory it must clear first (its mmap threshold grows with the
 * blocks freed), and a shard that allocated its copy buffers while serving stalled for 10–25 ms.
 */
export function reserveEngineBuffers(engine: Engine, into: CopyBuffers): void {
  engine.books.forEach((book, market) => {
    if (book === null) return;
    for (const [name, bytes] of BOOK_COLUMN_BYTES) into.reserve(`${market}.${name}`, book.orders.capacity * bytes);
  });
}

/** CopyBuffers keys of the balance table's copies, in the order of balanceCopySpec's columns (as warmBalanceBuffers and copyBalances name them). */
const BALANCE_COPY_KEYS = ['cells', 'users'] as const;

/**
 * The balance table's lazy copy (its cells and row → user map, by row) into `into`'s buffers, which
 * it allocates (call it at start-up, as reserveEngineBuffers). Made once by the router; every
 * thread's BalanceTable gets a LazyCopy over it (shared memory), the router arms it in each pause.
 */
export function balanceCopySpec(table: BalanceTable, into: CopyBuffers, shift = CHUNK_SHIFT): LazyCopySpec {
  const maxRows = table.users.maxUsers;
  const perRow = table.assetCount * 2;
  const users = table.users.rowUserIds(maxRows);
  const [cellsKey, usersKey] = BALANCE_COPY_KEYS;
  return {
    columns: [
      { from: table.cells, to: into.whole(cellsKey, table.cells, maxRows * perRow), per: perRow },
      { from: users, to: into.whole(usersKey, users, maxRows), per: 1 },
    ],
    state: into.lazyState('balances', maxRows, shift),
    shift,
  };
}

/**
 * Between snapshots (a shard between batches): pages in the copy buffers of `engine`'s books up to
 * a quarter past their high-water marks, `budget` bytes at most per call. O(books) when they are
 * warm already, which is nearly always: only a growing book needs more.
 */
export function warmEngineBuffers(engine: Engine, into: CopyBuffers, budget: number): void {
  const books = engine.books;
  for (let market = 0; market < books.length; market++) {
    const book = books[market];
    if (book === null || book === undefined) continue;
    const o = book.orders;
    if (o.highWater <= into.warmed(market)) continue;
    const target = warmTarget(o.highWater, o.capacity);
    for (const [name, bytes] of BOOK_COLUMN_BYTES) {
      budget = into.warm(`${market}.${name}`, bytes, target, o.capacity, budget);
      if (budget <= 0) return;
    }
    into.markWarmed(market, target);
  }
}

/**
 * Pages in the balance table's copy buffers up to a quarter past the rows in use, `budget` bytes
 * at most; true once they are warm (the router calls it in steps before requesting the pause).
 */
export function warmBalanceBuffers(table: BalanceTable, into: CopyBuffers, budget: number): boolean {
  const rows = table.users.size;
  if (rows <= into.warmed(-1)) return true;
  const maxRows = table.users.maxUsers;
  const target = warmTarget(rows, maxRows);
  const perRow = table.assetCount * 2;
  budget = into.warm('users', 4, target, maxRows, budget);
  if (budget > 0) budget = into.warm('cells', 8, target * perRow, maxRows * perRow, budget);
  if (budget <= 0) return false;
  into.markWarmed(-1, target);
  return true;
}

function copyOf<T extends Column>(into: CopyBuffers | null, key: string, from: T, n: number, capacity: number): T {
  return into === null ? (from.slice(0, n) as T) : into.copy(key, from, n, capacity);
}

/**
 * Copies what a snapshot needs of one engine, into `into` (reused) or fresh arrays (null).
 * O(order slots in use + price levels + labels); no walk of the orders.
 */
export function copyEngine(engine: Engine, into: CopyBuffers | null = null): EngineCopy {
  const books: BookCopy[] = [];
  engine.books.forEach((book, market) => {
    if (book === null) return;
    const o = book.orders;
    books.push(copyBook(book, market, (name, from) => copyOf(into, `${market}.${name}`, from, o.highWater, o.capacity)));
  });
  return { books, sources: sourcesOf(engine), updateKeys: engine.encodedUpdateKeys(), nextOrderId: engine.nextOrderId, nextDealId: engine.nextDealId, pending: [] };
}

/**
 * In a snapshot pause (a shard between batches, every shard paused): what copyEngine copies, but
 * each book's columns lazily (lazy-copy.ts: armed here in O(chunks), copied chunk by chunk by the
 * snapshot writer's thread, and by this shard before it changes a slot not copied yet). The level
 * heads, labels, key-log mark and ids are taken now (O(price levels + books)). The books' arrays
 * in the result hold the state of now once every spec in `pending` is finished.
 */
export function armEngineCopy(engine: Engine, into: CopyBuffers, shift = CHUNK_SHIFT): EngineCopy {
  const books: BookCopy[] = [];
  const pending: LazyCopySpec[] = [];
  engine.books.forEach((book, market) => {
    if (book === null) return;
    const o = book.orders;
    const n = o.highWater;
    const columns: LazyColumn[] = [];
    books.push(copyBook(book, market, (name, from) => {
      const key = `${market}.${name}`;
      const to = into.whole(key, from, o.capacity);
      into.copying(key, n * from.BYTES_PER_ELEMENT);
      columns.push({ from, to, per: 1 });
      return to.subarray(0, n) as typeof from;
    }));
    const spec: LazyCopySpec = { columns, state: into.lazyState(`${market}`, o.capacity, shift), shift };
    const lazy = new LazyCopy(spec);
    lazy.arm(n);
    o.lazyCopy = lazy;
    pending.push(spec);
  });
  return { books, sources: sourcesOf(engine), updateKeys: engine.encodedUpdateKeys(), nextOrderId: engine.nextOrderId, nextDealId: engine.nextDealId, pending };
}

function sourcesOf(engine: Engine): string[] {
  const sources: string[] = [];
  for (let id = 0; id < engine.sourceCount; id++) sources.push(engine.sourceName(id));
  return sources;
}

/**
 * In a snapshot pause (the router, every shard paused): arms the balance table's lazy copy (made
 * by balanceCopySpec over `into`) at the rows in use. The image's arrays hold the table of now once `lazy` is
 * finished (the snapshot writer does it; shards copy a row's chunk before they change the row).
 */
export function armBalancesCopy(table: BalanceTable, lazy: LazyCopy, into: CopyBuffers): BalancesImage {
  const rows = table.users.size;
  const [cells, users] = lazy.spec.columns;
  if (cells === undefined || users === undefined) throw new Error('not a balance table copy (balanceCopySpec)');
  BALANCE_COPY_KEYS.forEach((key, i) => {
    const column = lazy.spec.columns[i]!;
    into.copying(key, rows * column.per * column.to.BYTES_PER_ELEMENT);
  });
  lazy.arm(rows);
  return {
    assetCount: table.assetCount,
    users: (users.to as Uint32Array).subarray(0, rows * users.per),
    cells: (cells.to as BigInt64Array).subarray(0, rows * cells.per),
  };
}

/**
 * Copies the balance table (its cells and row → user map: the file's shape already), into `into`
 * (reused) or fresh arrays (null). No thread may change the table meanwhile (every shard paused).
 */
export function copyBalances(table: BalanceTable, into: CopyBuffers | null = null): BalancesImage {
  const rows = table.users.size;
  const maxRows = table.users.maxUsers;
  const perRow = table.assetCount * 2;
  return {
    assetCount: table.assetCount,
    users: copyOf(into, 'users', table.users.rowUserIds(rows), rows, maxRows),
    cells: copyOf(into, 'cells', table.cells, rows * perRow, maxRows * perRow),
  };
}

/** A book's copy, each column's copy made by `c` (named as in BOOK_COLUMN_BYTES), the level heads taken now. */
function copyBook(book: OrderBook, market: number, c: <T extends Column>(name: string, from: T) => T): BookCopy {
  const o = book.orders;
  return {
    market, orders: o.size,
    id: c('id', o.id), user: c('user', o.user), side: c('side', o.side), price: c('price', o.price),
    amount: c('amount', o.amount), left: c('left', o.left), dealStock: c('dealStock', o.dealStock),
    takerFee: c('takerFee', o.takerFee), makerFee: c('makerFee', o.makerFee),
    freeze: c('freeze', o.freeze), dealMoney: c('dealMoney', o.dealMoney), dealFee: c('dealFee', o.dealFee),
    ctime: c('ctime', o.ctime), mtime: c('mtime', o.mtime), source: c('source', o.source),
    next: c('next', o.next),
    askHeads: levelHeads(book.asks), bidHeads: levelHeads(book.bids),
  };
}

function levelHeads(levels: PriceLevels): Int32Array {
  const heads = new Int32Array(levels.size);
  for (let k = 0; k < heads.length; k++) heads[k] = levels.head[levels.nth(k)]!;
  return heads;
}
