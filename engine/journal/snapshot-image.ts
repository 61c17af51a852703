/**
 * The in-memory image of a snapshot and how to take it. capture*() copies the state into plain
 * typed arrays while the shards are paused at an epoch boundary: the balance cells in one slice,
 * each book in one walk (O(resting orders)), the labels and keys as arrays. The image is
 * structured-cloneable, so a shard can post its part (EngineImage) to the thread that writes.
 */
import type { BalanceTable } from '../balance/table.js';
import { NIL } from '../book/order-columns.js';
import type { OrderBook } from '../book/order-book.js';
import type { PriceLevels } from '../book/price-levels.js';
import type { Engine } from '../engine.js';
import type { Specs } from '../money/specs.js';
import { isEpoch } from './format.js';

/** One market's resting orders, column by column, in book order. */
export interface BookImage {
  readonly market: number;
  readonly count: number;
  readonly id: Float64Array;
  readonly user: Uint32Array;
  readonly side: Uint8Array;
  readonly price: Float64Array;
  readonly amount: Float64Array;
  readonly left: Float64Array;
  readonly dealStock: Float64Array;
  readonly takerFee: Float64Array;
  readonly makerFee: Float64Array;
  readonly freeze: BigInt64Array;
  readonly dealMoney: BigInt64Array;
  readonly dealFee: BigInt64Array;
  readonly ctime: Float64Array;
  readonly mtime: Float64Array;
  readonly source: Int32Array;
}

export interface BalancesImage {
  readonly assetCount: number;
  /** User id of each row. */
  readonly users: Uint32Array;
  /** [(row × assetCount + asset) × 2] available, [+1] frozen. */
  readonly cells: BigInt64Array;
}

/** What one engine (shard) contributes besides the shared balance table. */
export interface EngineImage {
  readonly books: readonly BookImage[];
  readonly sources: readonly string[];
  readonly updateKeys: readonly string[];
  readonly nextOrderId: number;
  readonly nextDealId: number;
}

export interface SnapshotImage {
  readonly epoch: number;
  readonly assets: readonly string[];
  readonly markets: readonly string[];
  /** Above every order and deal id handed out before the snapshot. */
  readonly nextOrderId: number;
  readonly nextDealId: number;
  readonly balances: BalancesImage;
  readonly books: readonly BookImage[];
  readonly sources: readonly string[];
  readonly updateKeys: readonly string[];
}

/** Copies the balance table: one slice of the cells and the row → user map. */
export function captureBalances(table: BalanceTable): BalancesImage {
  const rows = table.users.size;
  const users = new Uint32Array(rows);
  for (let row = 0; row < rows; row++) users[row] = table.users.userOf(row);
  return { assetCount: table.assetCount, users, cells: table.cells.slice(0, rows * table.assetCount * 2) };
}

/** Copies one engine's books, source labels, idempotency keys and id counters. */
export function captureEngine(engine: Engine): EngineImage {
  const books: BookImage[] = [];
  engine.books.forEach((book, market) => {
    if (book !== null) books.push(captureBook(book, market));
  });
  const sources: string[] = [];
  for (let id = 0; id < engine.sourceCount; id++) sources.push(engine.sourceName(id));
  return { books, sources, updateKeys: engine.appliedUpdateKeys(), nextOrderId: engine.nextOrderId, nextDealId: engine.nextDealId };
}

/** Puts the parts together: every engine must hold different markets over the same balance table. */
export function composeSnapshot(epoch: number, engine: { readonly specs: Specs }, balances: BalancesImage, parts: readonly EngineImage[]): SnapshotImage {
  if (!isEpoch(epoch)) throw new RangeError(`bad epoch ${epoch}`);
  const sources: string[] = [];
  for (const part of parts) {
    part.sources.forEach((label, id) => {
      if (sources[id] === undefined || sources[id] === '') sources[id] = label;
    });
  }
  for (let id = 0; id < sources.length; id++) sources[id] ??= '';
  return {
    epoch,
    assets: engine.specs.assets.map((a) => a.name),
    markets: engine.specs.markets.map((m) => m.name),
    nextOrderId: Math.max(1, ...parts.map((p) => p.nextOrderId)),
    nextDealId: Math.max(1, ...parts.map((p) => p.nextDealId)),
    balances,
    books: parts.flatMap((p) => p.books).sort((a, b) => a.market - b.market),
    sources,
    updateKeys: parts.flatMap((p) => p.updateKeys),
  };
}

/** Captures engines that share one balance table (all shards, paused at the epoch boundary). */
export function captureSnapshot(engines: readonly Engine[], epoch: number): SnapshotImage {
  const first = engines[0];
  if (first === undefined) throw new Error('a snapshot needs at least one engine');
  return composeSnapshot(epoch, first, captureBalances(first.balances), engines.map(captureEngine));
}

function captureBook(book: OrderBook, market: number): BookImage {
  const o = book.orders;
  const n = o.size;
  // The slots in book order (one walk of the links), then each column gathered in turn: a pass
  // over one column at a time touches far fewer cache lines than copying whole orders.
  const slots = new Int32Array(n);
  const at = bookOrder(book.asks, o.next, slots, 0);
  if (bookOrder(book.bids, o.next, slots, at) !== n) throw new Error(`book of market ${market} is inconsistent`);
  return {
    market, count: n,
    id: gather(o.id, slots, new Float64Array(n)),
    user: gather(o.user, slots, new Uint32Array(n)),
    side: gather(o.side, slots, new Uint8Array(n)),
    price: gather(o.price, slots, new Float64Array(n)),
    amount: gather(o.amount, slots, new Float64Array(n)),
    left: gather(o.left, slots, new Float64Array(n)),
    dealStock: gather(o.dealStock, slots, new Float64Array(n)),
    takerFee: gather(o.takerFee, slots, new Float64Array(n)),
    makerFee: gather(o.makerFee, slots, new Float64Array(n)),
    freeze: gather64(o.freeze, slots, new BigInt64Array(n)),
    dealMoney: gather64(o.dealMoney, slots, new BigInt64Array(n)),
    dealFee: gather64(o.dealFee, slots, new BigInt64Array(n)),
    ctime: gather(o.ctime, slots, new Float64Array(n)),
    mtime: gather(o.mtime, slots, new Float64Array(n)),
    source: gather(o.source, slots, new Int32Array(n)),
  };
}

/** Writes the slots of one side in book order (best level first, FIFO within a level) from `start`; returns the end. */
function bookOrder(levels: PriceLevels, next: Int32Array, out: Int32Array, start: number): number {
  let i = start;
  for (let k = 0; k < levels.size; k++) {
    for (let slot = levels.head[levels.nth(k)]!; slot !== NIL; slot = next[slot]!) out[i++] = slot;
  }
  return i;
}

type NumberColumn = Float64Array | Uint32Array | Uint8Array | Int32Array;

function gather<T extends NumberColumn>(from: T, slots: Int32Array, to: T): T {
  for (let i = 0; i < slots.length; i++) to[i] = from[slots[i]!]!;
  return to;
}


/** As gather, for int64 columns, copied as int32 pairs so that no bigint is allocated. */
function gather64(from: BigInt64Array, slots: Int32Array, to: BigInt64Array): BigInt64Array {
  const src = new Int32Array(from.buffer, from.byteOffset, from.length * 2);
  const dst = new Int32Array(to.buffer, to.byteOffset, to.length * 2);
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]! * 2;
    dst[i * 2] = src[s]!;
    dst[i * 2 + 1] = src[s + 1]!;
  }
  return to;
}
