/**
 * The balance table: user × asset → (available, frozen), int64 units, in a SharedArrayBuffer that
 * every shard and gateway thread maps. Shards may move the money of the same user at the same
 * time, so every access to a row's cells happens under that row's lock (an Int32 spin lock in a
 * shared array, taken with Atomics.compareExchange and released with Atomics.store; the critical
 * sections are a few loads and stores long). Under the lock, cells are read and written through
 * 32-bit words in doubles whenever values stay within ±(2^53 − 1) — no bigint, no allocation —
 * and as bigint otherwise (book/int64-words.ts):
 *  - reserve (available → frozen) and withdraw check and subtract under one lock, so they fail
 *    cleanly when the available balance is short and no cell is ever negative, not even for an
 *    instant, to any reader (readers take the lock too);
 *  - settlement spends frozen funds its own orders reserved and credits the other side.
 *
 * Snapshots copy the cells lazily while the shards go on (journal/lazy-copy.ts): every method
 * that changes a row guards it first (`guard`), which copies the row's chunk if a copy is under
 * way and has not reached it.
 *
 * Overflow: `supply[asset]` is the sum of every balance of that asset (fee account included).
 * Trading moves money but never changes it; deposits are refused when they would take it past
 * INT64_MAX. Every balance is at most its asset's supply, so no cell and no sum can overflow.
 */
import { addInt64, unitsAt } from '../book/int64-words.js';
import type { LazyCopy } from '../journal/lazy-copy.js';
import type { DeltaLog } from './delta-log.js';
import { UserIndex, type UserIndexBuffers } from './user-index.js';

export const INT64_MAX = (1n << 63n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_32 = 4294967296;
/** High words of values with |value| < 2^53. */
const HIGH_LIMIT = 0x200000;

export interface BalanceTableBuffers {
  readonly cells: SharedArrayBuffer;
  readonly supply: SharedArrayBuffer;
  /** One Int32 lock per row. */
  readonly locks: SharedArrayBuffer;
  readonly users: UserIndexBuffers;
  readonly assetCount: number;
}

export class BalanceTable {
  readonly users: UserIndex;
  readonly assetCount: number;
  /**
   * [(row × assetCount + asset) × 2] = available, [… + 1] = frozen. Read and write them only
   * through this class (under the row's lock), or while no shard runs (snapshots, replay).
   */
  readonly cells: BigInt64Array;
  /** Per asset: Σ available + frozen over all rows. Atomics. */
  readonly supply: BigInt64Array;
  /** When set, every change made through this instance is also added here (for the journal). */
  deltas: DeltaLog | null = null;
  /** The snapshot copy of the cells and row → user map shared by every thread, or null (no journal). */
  lazyCopy: LazyCopy | null = null;
  private readonly words: Uint32Array;
  private readonly locks: Int32Array;

  constructor(readonly buffers: BalanceTableBuffers) {
    this.users = new UserIndex(buffers.users);
    this.assetCount = buffers.assetCount;
    this.cells = new BigInt64Array(buffers.cells);
    this.words = new Uint32Array(buffers.cells);
    this.supply = new BigInt64Array(buffers.supply);
    this.locks = new Int32Array(buffers.locks);
  }

  static allocate(maxUsers: number, assetCount: number): BalanceTableBuffers {
    return {
      cells: new SharedArrayBuffer(maxUsers * assetCount * 2 * 8),
      supply: new SharedArrayBuffer(Math.max(8, assetCount * 8)),
      locks: new SharedArrayBuffer(Math.max(4, maxUsers * 4)),
      users: UserIndex.allocate(maxUsers),
      assetCount,
    };
  }

  /** Index of the available cell of (row, asset); frozen is the next one. */
  cell(row: number, asset: number): number {
    return (row * this.assetCount + asset) * 2;
  }

  available(row: number, asset: number): bigint {
    this.lock(row);
    const value = this.cells[this.cell(row, asset)]!;
    this.unlock(row);
    return value;
  }

  frozen(row: number, asset: number): bigint {
    this.lock(row);
    const value = this.cells[this.cell(row, asset) + 1]!;
    this.unlock(row);
    return value;
  }

  /** True when the available balance of (row, asset) is at least `units` (a non-negative safe integer). */
  hasAvailable(row: number, asset: number, units: number): boolean {
    this.lock(row);
    const ok = this.atLeast(this.cell(row, asset), units);
    this.unlock(row);
    return ok;
  }

  /** Adds new money to the system (a deposit). False when the asset's supply would leave int64. */
  deposit(row: number, asset: number, units: bigint): boolean {
    for (;;) {
      const old = Atomics.load(this.supply, asset);
      const next = old + units;
      if (next > INT64_MAX) return false;
      if (Atomics.compareExchange(this.supply, asset, old, next) === old) break;
    }
    this.guard(row);
    const at = this.cell(row, asset);
    this.lock(row);
    this.cells[at] = this.cells[at]! + units;
    this.unlock(row);
    this.deltas?.add(row, asset, units, 0n);
    return true;
  }

  /** Takes money out of the system (a withdrawal). False, changing nothing, when available is short. */
  withdraw(row: number, asset: number, units: bigint): boolean {
    this.guard(row);
    const at = this.cell(row, asset);
    this.lock(row);
    const ok = this.cells[at]! >= units;
    if (ok) this.cells[at] = this.cells[at]! - units;
    this.unlock(row);
    if (!ok) return false;
    Atomics.sub(this.supply, asset, units);
    this.deltas?.add(row, asset, -units, 0n);
    return true;
  }

  /** available → frozen. False, changing nothing, when available is short. */
  reserve(row: number, asset: number, units: bigint): boolean {
    if (units <= MAX_SAFE) return this.reserveUnits(row, asset, Number(units));
    this.guard(row);
    const at = this.cell(row, asset);
    this.lock(row);
    const ok = this.cells[at]! >= units;
    if (ok) {
      this.cells[at] = this.cells[at]! - units;
      this.cells[at + 1] = this.cells[at + 1]! + units;
    }
    this.unlock(row);
    if (ok) this.deltas?.add(row, asset, -units, units);
    return ok;
  }

  /** reserve() of a non-negative safe integer number of units. */
  reserveUnits(row: number, asset: number, units: number): boolean {
    this.guard(row);
    const at = this.cell(row, asset);
    this.lock(row);
    const ok = this.atLeast(at, units);
    if (ok) {
      addInt64(this.cells, this.words, at, -units);
      addInt64(this.cells, this.words, at + 1, units);
    }
    this.unlock(row);
    if (ok) this.deltas?.addUnits(row, asset, -units, units);
    return ok;
  }

  /** frozen → available, for funds this caller reserved earlier. */
  release(row: number, asset: number, units: bigint): void {
    if (units <= MAX_SAFE) {
      this.releaseUnits(row, asset, Number(units));
      return;
    }
    this.guard(row);
    const at = this.cell(row, asset);
    this.lock(row);
    this.cells[at + 1] = this.cells[at + 1]! - units;
    this.cells[at] = this.cells[at]! + units;
    this.unlock(row);
    this.deltas?.add(row, asset, units, -units);
  }

  releaseUnits(row: number, asset: number, units: number): void {
    this.guard(row);
    const at = this.cell(row, asset);
    this.lock(row);
    addInt64(this.cells, this.words, at + 1, -units);
    addInt64(this.cells, this.words, at, units);
    this.unlock(row);
    this.deltas?.addUnits(row, asset, units, -units);
  }

  /**
   * release() of what element `i` of an int64 column holds (an order's freeze), read through its
   * word view `words`: no bigint below 2^53. Nothing happens when it holds 0.
   */
  releaseHeld(row: number, asset: number, column: BigInt64Array, words: Uint32Array, i: number): void {
    const units = unitsAt(words, i);
    if (units > 0) this.releaseUnits(row, asset, units);
    else if (units < 0) this.release(row, asset, column[i]!);
  }

  /** Frozen funds leave the user (the paying leg of a deal). */
  spendFrozen(row: number, asset: number, units: bigint): void {
    if (units <= MAX_SAFE) {
      this.spendFrozenUnits(row, asset, Number(units));
      return;
    }
    this.guard(row);
    const at = this.cell(row, asset) + 1;
    this.lock(row);
    this.cells[at] = this.cells[at]! - units;
    this.unlock(row);
    this.deltas?.add(row, asset, 0n, -units);
  }

  spendFrozenUnits(row: number, asset: number, units: number): void {
    this.guard(row);
    this.lock(row);
    addInt64(this.cells, this.words, this.cell(row, asset) + 1, -units);
    this.unlock(row);
    this.deltas?.addUnits(row, asset, 0, -units);
  }

  /** Funds arrive in the user's available balance (the receiving leg of a deal, or a fee). */
  credit(row: number, asset: number, units: bigint): void {
    if (units <= MAX_SAFE) {
      this.creditUnits(row, asset, Number(units));
      return;
    }
    this.guard(row);
    const at = this.cell(row, asset);
    this.lock(row);
    this.cells[at] = this.cells[at]! + units;
    this.unlock(row);
    this.deltas?.add(row, asset, units, 0n);
  }

  creditUnits(row: number, asset: number, units: number): void {
    this.guard(row);
    this.lock(row);
    addInt64(this.cells, this.words, this.cell(row, asset), units);
    this.unlock(row);
    this.deltas?.addUnits(row, asset, units, 0);
  }

  /** creditUnits() of two assets of one row under one lock (a fee account's fees of a command); a 0 is skipped. */
  creditTwoUnits(row: number, first: number, firstUnits: number, second: number, secondUnits: number): void {
    this.guard(row);
    this.lock(row);
    if (firstUnits !== 0) addInt64(this.cells, this.words, this.cell(row, first), firstUnits);
    if (secondUnits !== 0) addInt64(this.cells, this.words, this.cell(row, second), secondUnits);
    this.unlock(row);
    if (this.deltas !== null) {
      if (firstUnits !== 0) this.deltas.addUnits(row, first, firstUnits, 0);
      if (secondUnits !== 0) this.deltas.addUnits(row, second, secondUnits, 0);
    }
  }

  /**
   * Both legs of one side of a deal under one lock: `paid` units of `paidAsset` leave the row's
   * frozen funds, `received` units of `receivedAsset` arrive in its available balance.
   */
  settleUnits(row: number, paidAsset: number, paid: number, receivedAsset: number, received: number): void {
    this.guard(row);
    this.lock(row);
    if (paid !== 0) addInt64(this.cells, this.words, this.cell(row, paidAsset) + 1, -paid);
    if (received !== 0) addInt64(this.cells, this.words, this.cell(row, receivedAsset), received);
    this.unlock(row);
    if (this.deltas !== null) this.recordSettle(this.deltas, row, paidAsset, paid, receivedAsset, received);
  }

  /** settleUnits()' changes into the delta log (apart, to keep settleUnits small enough for V8 to inline). */
  private recordSettle(deltas: DeltaLog, row: number, paidAsset: number, paid: number, receivedAsset: number, received: number): void {
    if (paid !== 0) deltas.addUnits(row, paidAsset, 0, -paid);
    if (received !== 0) deltas.addUnits(row, receivedAsset, received, 0);
  }

  /** True when the cell at `at` holds at least `units` (call under the row's lock). */
  private atLeast(at: number, units: number): boolean {
    const high = this.words[at * 2 + 1]! | 0;
    if (high > -HIGH_LIMIT && high < HIGH_LIMIT) return high * TWO_32 + this.words[at * 2]! >= units;
    return this.cells[at]! >= BigInt(units);
  }

  /** Before changing a row: a snapshot copy under way copies the row's chunk first. */
  private guard(row: number): void {
    const lazy = this.lazyCopy;
    if (lazy !== null && row < lazy.guardBelow) lazy.ensure(row);
  }

  private lock(row: number): void {
    if (Atomics.compareExchange(this.locks, row, 0, 1) !== 0) this.spin(row);
  }

  /** Waits out another thread's critical section (a few loads and stores: spinning is cheapest). */
  private spin(row: number): void {
    while (Atomics.compareExchange(this.locks, row, 0, 1) !== 0) {
      while (Atomics.load(this.locks, row) !== 0) { /* spin */ }
    }
  }

  private unlock(row: number): void {
    Atomics.store(this.locks, row, 0);
  }
}
