/**
 * The in-memory image of a snapshot: what the file holds (snapshot-codec.ts), books in book order.
 * It is derived from raw copies (snapshot-copy.ts) — taken in a few milliseconds while the shards
 * are paused — by one walk per book, later and on any thread (engineImageOf); capture*() do both
 * at once for a single thread (tests, recovery, tools). Images are structured-cloneable.
 */
import type { BalanceTable } from '../balance/table.js';
import { concatKeys, type UpdateKeys } from '../balance/update-keys.js';
import { NIL } from '../book/order-columns.js';
import type { Engine } from '../engine.js';
import type { Specs } from '../money/specs.js';
import { isEpoch } from './format.js';
import { copyBalances, copyEngine, type BookCopy, type EngineCopy } from './snapshot-copy.js';

/** The columns a snapshot keeps of each resting order (book/order-columns.ts, minus links and rows). */
export interface OrderFieldColumns {
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

/** One market's resting orders, column by column, in book order. */
export interface BookImage extends OrderFieldColumns {
  readonly market: number;
  readonly count: number;
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
  /** Strings, or (from a raw copy) the engine's encoded key log up to the copy. */
  readonly updateKeys: UpdateKeys;
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
  readonly updateKeys: UpdateKeys;
}

/** Names of the assets and markets, by index (what the indexes in a snapshot mean). */
export interface SnapshotNames {
  readonly assets: readonly string[];
  readonly markets: readonly string[];
}

export function namesOf(specs: Specs): SnapshotNames {
  return { assets: specs.assets.map((a) => a.name), markets: specs.markets.map((m) => m.name) };
}

/** Copies the balance table: a slice of the cells and of the row → user map. */
export function captureBalances(table: BalanceTable): BalancesImage {
  return copyBalances(table);
}

/** Copies one engine's books (in book order), source labels, idempotency keys (as strings) and id counters. */
export function captureEngine(engine: Engine): EngineImage {
  return { ...engineImageOf(copyEngine(engine)), updateKeys: engine.appliedUpdateKeys() };
}

/** The image of an engine from its raw copy: each book walked in book order, its columns gathered. */
export function engineImageOf(copy: EngineCopy): EngineImage {
  return {
    books: copy.books.map(bookImageOf), sources: copy.sources, updateKeys: copy.updateKeys,
    nextOrderId: copy.nextOrderId, nextDealId: copy.nextDealId,
  };
}

/** Puts the parts together: every engine must hold different markets over the same balance table. */
export function composeSnapshot(epoch: number, names: SnapshotNames, balances: BalancesImage, parts: readonly EngineImage[]): SnapshotImage {
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
    assets: names.assets,
    markets: names.markets,
    nextOrderId: Math.max(1, ...parts.map((p) => p.nextOrderId)),
    nextDealId: Math.max(1, ...parts.map((p) => p.nextDealId)),
    balances,
    books: parts.flatMap((p) => p.books).sort((a, b) => a.market - b.market),
    sources,
    updateKeys: concatKeys(parts.map((p) => p.updateKeys)),
  };
}

/** Captures engines that share one balance table (all shards, paused at the epoch boundary). */
export function captureSnapshot(engines: readonly Engine[], epoch: number): SnapshotImage {
  const first = engines[0];
  if (first === undefined) throw new Error('a snapshot needs at least one engine');
  return composeSnapshot(epoch, namesOf(first.specs), captureBalances(first.balances), engines.map(captureEngine));
}

function bookImageOf(b: BookCopy): BookImage {
  const n = b.orders;
  // The slots in book order (one walk of the links), then each column gathered in turn: a pass
  // over one column at a time touches far fewer cache lines than copying whole orders.
  const slots = new Int32Array(n);
  const at = bookOrder(b.askHeads, b.next, slots, 0);
  if (bookOrder(b.bidHeads, b.next, slots, at) !== n) throw new Error(`book of market ${b.market} is inconsistent`);
  return {
    market: b.market, count: n,
    id: gather(b.id, slots, new Float64Array(n)),
    user: gather(b.user, slots, new Uint32Array(n)),
    side: gather(b.side, slots, new Uint8Array(n)),
    price: gather(b.price, slots, new Float64Array(n)),
    amount: gather(b.amount, slots, new Float64Array(n)),
    left: gather(b.left, slots, new Float64Array(n)),
    dealStock: gather(b.dealStock, slots, new Float64Array(n)),
    takerFee: gather(b.takerFee, slots, new Float64Array(n)),
    makerFee: gather(b.makerFee, slots, new Float64Array(n)),
    freeze: gather64(b.freeze, slots, new BigInt64Array(n)),
    dealMoney: gather64(b.dealMoney, slots, new BigInt64Array(n)),
    dealFee: gather64(b.dealFee, slots, new BigInt64Array(n)),
    ctime: gather(b.ctime, slots, new Float64Array(n)),
    mtime: gather(b.mtime, slots, new Float64Array(n)),
    source: gather(b.source, slots, new Int32Array(n)),
  };
}

/** Writes the slots of one side in book order (best level first, FIFO within a level) from `start`; returns the end. */
function bookOrder(heads: Int32Array, next: Int32Array, out: Int32Array, start: number): number {
  let i = start;
  for (let k = 0; k < heads.length; k++) {
    for (let slot = heads[k]!; slot !== NIL; slot = next[slot]!) {
      if (i >= out.length) return out.length + 1; // more linked than resting: inconsistent (the caller throws)
      out[i++] = slot;
    }
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
