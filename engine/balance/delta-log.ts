/**
 * The balance changes one command made, coalesced per (row, asset): what the journal records so
 * that replay adds the same amounts whatever order shards ran in (additions commute).
 * Allocation-free on the common path: the sums are int64 columns updated through their 32-bit
 * words in doubles (book/int64-words.ts), falling back to bigint beyond 2^53. A command touches
 * a handful of cells (a deal: buyer, seller, fee account), so entries are found by a linear scan.
 */
import { addInt64 } from '../book/int64-words.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class DeltaLog {
  count = 0;
  rows: Int32Array;
  assets: Int32Array;
  available: BigInt64Array;
  frozen: BigInt64Array;
  /** `available` and `frozen` as (low, high) 32-bit word pairs. */
  availableWords: Uint32Array;
  frozenWords: Uint32Array;

  constructor(private capacity = 64) {
    this.rows = new Int32Array(capacity);
    this.assets = new Int32Array(capacity);
    this.available = new BigInt64Array(capacity);
    this.frozen = new BigInt64Array(capacity);
    this.availableWords = new Uint32Array(this.available.buffer);
    this.frozenWords = new Uint32Array(this.frozen.buffer);
  }

  add(row: number, asset: number, available: bigint, frozen: bigint): void {
    const i = this.entry(row, asset);
    if (available !== 0n) addTo(this.available, this.availableWords, i, available);
    if (frozen !== 0n) addTo(this.frozen, this.frozenWords, i, frozen);
  }

  /** add() of safe integers (no bigint). */
  addUnits(row: number, asset: number, available: number, frozen: number): void {
    const i = this.entry(row, asset);
    if (available !== 0) addInt64(this.available, this.availableWords, i, available);
    if (frozen !== 0) addInt64(this.frozen, this.frozenWords, i, frozen);
  }

  reset(): void {
    this.count = 0;
  }

  /** The entry of (row, asset), appended with zero sums when new. */
  private entry(row: number, asset: number): number {
    for (let i = 0; i < this.count; i++) {
      if (this.rows[i] === row && this.assets[i] === asset) return i;
    }
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.rows[i] = row;
    this.assets[i] = asset;
    const w = i * 2;
    this.availableWords[w] = 0;
    this.availableWords[w + 1] = 0;
    this.frozenWords[w] = 0;
    this.frozenWords[w + 1] = 0;
    return i;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const rows = new Int32Array(capacity);
    const assets = new Int32Array(capacity);
    const available = new BigInt64Array(capacity);
    const frozen = new BigInt64Array(capacity);
    rows.set(this.rows);
    assets.set(this.assets);
    available.set(this.available);
    frozen.set(this.frozen);
    this.rows = rows;
    this.assets = assets;
    this.available = available;
    this.frozen = frozen;
    this.availableWords = new Uint32Array(available.buffer);
    this.frozenWords = new Uint32Array(frozen.buffer);
    this.capacity = capacity;
  }
}

function addTo(column: BigInt64Array, words: Uint32Array, i: number, units: bigint): void {
  if (units <= MAX_SAFE && units >= -MAX_SAFE) addInt64(column, words, i, Number(units));
  else column[i] = column[i]! + units;
}
