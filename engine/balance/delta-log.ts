/**
 * The balance changes one command made, coalesced per (row, asset): what the journal records so
 * that replay adds the same amounts whatever order shards ran in (additions commute).
 * Allocation-free; a command touches a handful of cells (a deal: buyer, seller, fee account).
 */
export class DeltaLog {
  count = 0;
  readonly rows: Int32Array;
  readonly assets: Int32Array;
  readonly available: BigInt64Array;
  readonly frozen: BigInt64Array;

  constructor(private capacity = 64) {
    this.rows = new Int32Array(capacity);
    this.assets = new Int32Array(capacity);
    this.available = new BigInt64Array(capacity);
    this.frozen = new BigInt64Array(capacity);
  }

  add(row: number, asset: number, available: bigint, frozen: bigint): void {
    for (let i = 0; i < this.count; i++) {
      if (this.rows[i] === row && this.assets[i] === asset) {
        this.available[i] = this.available[i]! + available;
        this.frozen[i] = this.frozen[i]! + frozen;
        return;
      }
    }
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.rows[i] = row;
    this.assets[i] = asset;
    this.available[i] = available;
    this.frozen[i] = frozen;
  }

  reset(): void {
    this.count = 0;
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
    Object.assign(this, { rows, assets, available, frozen, capacity });
  }
}
