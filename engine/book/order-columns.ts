/**
 * Resting orders of one book as struct-of-arrays columns, preallocated, with a free list of slots.
 * A slot is a row in every column; NIL marks "no slot" in every link column.
 *
 * The columns a snapshot copies live in SharedArrayBuffers, so that the snapshot writer's thread
 * can copy them while the shard goes on matching (journal/lazy-copy.ts); whoever changes one of
 * them must call guard(slot) first.
 */
import type { LazyCopy } from '../journal/lazy-copy.js';

export const NIL = -1;

export const SIDE_ASK = 1;
export const SIDE_BID = 2;
export const TYPE_LIMIT = 1;
export const TYPE_MARKET = 2;

/** Offsets of an order's links in `OrderColumns.links`, and the Int32s per order there. */
export const LINK_PREV = 0;
export const LINK_LEVEL = 1;
export const LINK_USER_NEXT = 2;
export const LINK_USER_PREV = 3;
export const LINK_STRIDE = 4;

export class OrderColumns {
  readonly capacity: number;
  /** Engine-wide order id. */
  readonly id: Float64Array;
  /** 32-bit user id and its balance-table row. */
  readonly user: Uint32Array;
  readonly row: Int32Array;
  readonly side: Uint8Array;
  /** Price in ticks; amount, left and deal_stock in lots. */
  readonly price: Float64Array;
  readonly amount: Float64Array;
  readonly left: Float64Array;
  readonly dealStock: Float64Array;
  /** Fee rates in fee ticks. */
  readonly takerFee: Float64Array;
  readonly makerFee: Float64Array;
  /** Units of the frozen asset this order still holds (stock for an ask, money for a bid). */
  readonly freeze: BigInt64Array;
  /** Σ money units traded; Σ fee units paid (in the asset this order receives). */
  readonly dealMoney: BigInt64Array;
  readonly dealFee: BigInt64Array;
  /** The three int64 columns above as pairs of 32-bit words (low, high): copied without a bigint. */
  readonly freezeWords: Uint32Array;
  readonly dealMoneyWords: Uint32Array;
  readonly dealFeeWords: Uint32Array;
  /** Create and update times, microseconds since the epoch. */
  readonly ctime: Float64Array;
  readonly mtime: Float64Array;
  /** Index into the engine's table of source strings. */
  readonly source: Int32Array;
  /** FIFO link to the next order of the order's price level (the free list reuses it). */
  readonly next: Int32Array;
  /**
   * The links only the book follows, side by side per order (offsets LINK_*: one cache line
   * instead of four when linking or unlinking): the previous order in the level, the level, and
   * the links in the owner's list of pending orders in this book, newest first.
   */
  readonly links: Int32Array;

  /**
   * The snapshot copy of these columns that the shard armed last (journal/snapshot-copy.ts
   * armEngineCopy), or null: see guard().
   */
  lazyCopy: LazyCopy | null = null;

  private freeHead: number;
  private used: number;
  /** Slots ever handed out: every slot in use is below it (the free list starts in slot order). */
  private touched: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    const shared = (bytesPerElement: number): SharedArrayBuffer => new SharedArrayBuffer(capacity * bytesPerElement);
    this.id = new Float64Array(shared(8));
    this.user = new Uint32Array(shared(4));
    this.row = new Int32Array(capacity);
    this.side = new Uint8Array(shared(1));
    this.price = new Float64Array(shared(8));
    this.amount = new Float64Array(shared(8));
    this.left = new Float64Array(shared(8));
    this.dealStock = new Float64Array(shared(8));
    this.takerFee = new Float64Array(shared(8));
    this.makerFee = new Float64Array(shared(8));
    this.freeze = new BigInt64Array(shared(8));
    this.dealMoney = new BigInt64Array(shared(8));
    this.dealFee = new BigInt64Array(shared(8));
    this.freezeWords = new Uint32Array(this.freeze.buffer);
    this.dealMoneyWords = new Uint32Array(this.dealMoney.buffer);
    this.dealFeeWords = new Uint32Array(this.dealFee.buffer);
    this.ctime = new Float64Array(shared(8));
    this.mtime = new Float64Array(shared(8));
    this.source = new Int32Array(shared(4));
    this.next = new Int32Array(shared(4));
    this.links = new Int32Array(capacity * LINK_STRIDE);
    for (let i = 0; i < capacity; i++) this.next[i] = i + 1 < capacity ? i + 1 : NIL;
    this.freeHead = capacity > 0 ? 0 : NIL;
    this.used = 0;
    this.touched = 0;
  }

  /**
   * Call before changing any column a snapshot copies (every column but `row` and `links`) of
   * `slot`: while a snapshot copy is under way, the slot's chunk is copied first.
   */
  guard(slot: number): void {
    const lazy = this.lazyCopy;
    if (lazy !== null && slot < lazy.guardBelow) lazy.ensure(slot);
  }

  /** The next older pending order of the same user in this book, or NIL. */
  olderOfUser(slot: number): number {
    return this.links[slot * LINK_STRIDE + LINK_USER_NEXT]!;
  }

  /** Slots in use. */
  get size(): number {
    return this.used;
  }

  /** One past the highest slot ever allocated: copying slots [0, highWater) copies every order. */
  get highWater(): number {
    return this.touched;
  }

  /** Takes a free slot, or NIL when the book is full. */
  allocate(): number {
    const slot = this.freeHead;
    if (slot === NIL) return NIL;
    this.freeHead = this.next[slot]!;
    this.used++;
    if (slot >= this.touched) this.touched = slot + 1;
    return slot;
  }

  free(slot: number): void {
    this.guard(slot);
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
    this.used--;
  }
}
