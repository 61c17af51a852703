/**
 * The balance table: user × asset → (available, frozen), int64 units, in a SharedArrayBuffer that
 * every shard and gateway thread maps. All writes are Atomics, so shards may move the money of the
 * same user at the same time:
 *  - reserve (available → frozen) and withdraw use a compare-and-swap loop and fail cleanly when
 *    the available balance is short; the subtraction always happens before the matching addition,
 *    so no cell is ever negative, not even for an instant;
 *  - settlement spends frozen funds its own orders reserved and credits the other side.
 *
 * Overflow: `supply[asset]` is the sum of every balance of that asset (fee account included).
 * Trading moves money but never changes it; deposits are refused when they would take it past
 * INT64_MAX. Every balance is at most its asset's supply, so no cell and no sum can overflow.
 */
import type { DeltaLog } from './delta-log.js';
import { UserIndex, type UserIndexBuffers } from './user-index.js';

export const INT64_MAX = (1n << 63n) - 1n;

export interface BalanceTableBuffers {
  readonly cells: SharedArrayBuffer;
  readonly supply: SharedArrayBuffer;
  readonly users: UserIndexBuffers;
  readonly assetCount: number;
}

export class BalanceTable {
  readonly users: UserIndex;
  readonly assetCount: number;
  /** [(row × assetCount + asset) × 2] = available, [… + 1] = frozen. */
  readonly cells: BigInt64Array;
  /** Per asset: Σ available + frozen over all rows. */
  readonly supply: BigInt64Array;
  /** When set, every change made through this instance is also added here (for the journal). */
  deltas: DeltaLog | null = null;

  constructor(readonly buffers: BalanceTableBuffers) {
    this.users = new UserIndex(buffers.users);
    this.assetCount = buffers.assetCount;
    this.cells = new BigInt64Array(buffers.cells);
    this.supply = new BigInt64Array(buffers.supply);
  }

  static allocate(maxUsers: number, assetCount: number): BalanceTableBuffers {
    return {
      cells: new SharedArrayBuffer(maxUsers * assetCount * 2 * 8),
      supply: new SharedArrayBuffer(Math.max(8, assetCount * 8)),
      users: UserIndex.allocate(maxUsers),
      assetCount,
    };
  }

  /** Index of the available cell of (row, asset); frozen is the next one. */
  cell(row: number, asset: number): number {
    return (row * this.assetCount + asset) * 2;
  }

  available(row: number, asset: number): bigint {
    return Atomics.load(this.cells, this.cell(row, asset));
  }

  frozen(row: number, asset: number): bigint {
    return Atomics.load(this.cells, this.cell(row, asset) + 1);
  }

  /** Adds new money to the system (a deposit). False when the asset's supply would leave int64. */
  deposit(row: number, asset: number, units: bigint): boolean {
    for (;;) {
      const old = Atomics.load(this.supply, asset);
      const next = old + units;
      if (next > INT64_MAX) return false;
      if (Atomics.compareExchange(this.supply, asset, old, next) === old) break;
    }
    Atomics.add(this.cells, this.cell(row, asset), units);
    this.deltas?.add(row, asset, units, 0n);
    return true;
  }

  /** Takes money out of the system (a withdrawal). False, changing nothing, when available is short. */
  withdraw(row: number, asset: number, units: bigint): boolean {
    if (!this.takeAvailable(this.cell(row, asset), units)) return false;
    Atomics.sub(this.supply, asset, units);
    this.deltas?.add(row, asset, -units, 0n);
    return true;
  }

  /** available → frozen. False, changing nothing, when available is short. */
  reserve(row: number, asset: number, units: bigint): boolean {
    const at = this.cell(row, asset);
    if (!this.takeAvailable(at, units)) return false;
    Atomics.add(this.cells, at + 1, units);
    this.deltas?.add(row, asset, -units, units);
    return true;
  }

  /** frozen → available, for funds this caller reserved earlier. */
  release(row: number, asset: number, units: bigint): void {
    const at = this.cell(row, asset);
    Atomics.sub(this.cells, at + 1, units);
    Atomics.add(this.cells, at, units);
    this.deltas?.add(row, asset, units, -units);
  }

  /** Frozen funds leave the user (the paying leg of a deal). */
  spendFrozen(row: number, asset: number, units: bigint): void {
    Atomics.sub(this.cells, this.cell(row, asset) + 1, units);
    this.deltas?.add(row, asset, 0n, -units);
  }

  /** Funds arrive in the user's available balance (the receiving leg of a deal, or a fee). */
  credit(row: number, asset: number, units: bigint): void {
    Atomics.add(this.cells, this.cell(row, asset), units);
    this.deltas?.add(row, asset, units, 0n);
  }

  private takeAvailable(at: number, units: bigint): boolean {
    for (;;) {
      const old = Atomics.load(this.cells, at);
      if (old < units) return false;
      if (Atomics.compareExchange(this.cells, at, old, old - units) === old) return true;
    }
  }
}
