/**
 * The balance changes one command made, coalesced per (row, asset): what the journal records so
 * that replay adds the same amounts whatever order shards ran in (additions commute).
 * Allocation-free on the common path: the sums are int64 columns updated through their 32-bit
 * words in doubles (book/int64-words.ts), falling back to bigint beyond 2^53. Entries are found
 * through a small open-addressing table whose slots carry the generation they were written in,
 * so reset() is O(1) and a command that sweeps hundreds of makers stays linear (a scan of the
 * entries was O(n²) there).
 */
import { addInt64 } from '../book/int64-words.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Buckets of the lookup table per entry of capacity (at most half full). */
const BUCKETS_PER_ENTRY = 2;

export class DeltaLog {
  count = 0;
  rows: Int32Array;
  assets: Int32Array;
  available: BigInt64Array;
  frozen: BigInt64Array;
  /** `available` and `frozen` as (low, high) 32-bit word pairs. */
  availableWords: Uint32Array;
  frozenWords: Uint32Array;

  /** Lookup table: per bucket, an entry index, valid only when the bucket's generation is the current one. */
  private buckets: Int32Array;
  private bucketGenerations: Int32Array;
  private generation = 1;

  /** `capacity`: entries before the first growth, a power of two. */
  constructor(private capacity = 64) {
    if (capacity <= 0 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`capacity ${capacity} is not a power of two`);
    this.rows = new Int32Array(capacity);
    this.assets = new Int32Array(capacity);
    this.available = new BigInt64Array(capacity);
    this.frozen = new BigInt64Array(capacity);
    this.availableWords = new Uint32Array(this.available.buffer);
    this.frozenWords = new Uint32Array(this.frozen.buffer);
    this.buckets = new Int32Array(capacity * BUCKETS_PER_ENTRY);
    this.bucketGenerations = new Int32Array(capacity * BUCKETS_PER_ENTRY);
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
    this.generation++; // every bucket is stale at once
    if (this.generation === 0x7fffffff) {
      this.generation = 1;
      this.bucketGenerations.fill(0);
    }
  }

  /** The entry of (row, asset), appended with zero sums when new. */
  private entry(row: number, asset: number): number {
    const mask = this.buckets.length - 1;
    let b = bucketOf(row, asset) & mask;
    while (this.bucketGenerations[b] === this.generation) {
      const i = this.buckets[b]!;
      if (this.rows[i] === row && this.assets[i] === asset) return i;
      b = (b + 1) & mask;
    }
    if (this.count === this.capacity) {
      this.grow();
      return this.entry(row, asset); // the table was rebuilt: find the free bucket again
    }
    const i = this.count++;
    this.rows[i] = row;
    this.assets[i] = asset;
    const w = i * 2;
    this.availableWords[w] = 0;
    this.availableWords[w + 1] = 0;
    this.frozenWords[w] = 0;
    this.frozenWords[w + 1] = 0;
    this.buckets[b] = i;
    this.bucketGenerations[b] = this.generation;
    return i;
  }

  /** Puts entry `i` into the table being rebuilt: its first free bucket from home. */
  private place(i: number): void {
    const mask = this.buckets.length - 1;
    let b = bucketOf(this.rows[i]!, this.assets[i]!) & mask;
    while (this.bucketGenerations[b] === this.generation) b = (b + 1) & mask;
    this.buckets[b] = i;
    this.bucketGenerations[b] = this.generation;
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
    this.buckets = new Int32Array(capacity * BUCKETS_PER_ENTRY);
    this.bucketGenerations = new Int32Array(capacity * BUCKETS_PER_ENTRY);
    for (let i = 0; i < this.count; i++) this.place(i);
  }
}

/** A hash of (row, asset) (rows are dense from 0, assets few). */
function bucketOf(row: number, asset: number): number {
  return Math.imul(row * 31 + asset, 0x9e3779b1) >>> 16;
}

function addTo(column: BigInt64Array, words: Uint32Array, i: number, units: bigint): void {
  if (units <= MAX_SAFE && units >= -MAX_SAFE) addInt64(column, words, i, Number(units));
  else column[i] = column[i]! + units;
}
