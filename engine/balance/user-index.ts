/**
 * Sparse 32-bit user ids → dense balance-table rows, in a SharedArrayBuffer that every thread reads.
 *
 * Open addressing with linear probing over two Int32Arrays: `keys` (the user id, bit-cast to int32)
 * and `rows` (row + 1; 0 = empty slot, CLAIMED = an insert in progress). The table is sized at
 * creation for `maxUsers` at a load factor of at most one half, so it never rehashes: rows are
 * handed out from a shared counter as users appear, and the memory behind unused slots is never
 * touched (the OS commits SharedArrayBuffer pages lazily).
 *
 * Concurrency: any thread may insert. A slot is claimed with compareExchange(0 → CLAIMED), the key is
 * written, and the row is published with Atomics.store; a reader that finds CLAIMED waits for the
 * publication. Entries are never removed, so a published mapping never changes.
 */

const EMPTY = 0;
const CLAIMED = -1;
/** Header cells (Int32): the next free row. */
const HEADER_NEXT_ROW = 0;
const HEADER_CELLS = 16; // a 64-byte line of its own

export interface UserIndexBuffers {
  readonly header: SharedArrayBuffer;
  readonly keys: SharedArrayBuffer;
  readonly rows: SharedArrayBuffer;
  /** Row → user id (Uint32), for records that must name users rather than rows. */
  readonly rowUsers: SharedArrayBuffer;
  readonly maxUsers: number;
}

export class UserIndex {
  readonly maxUsers: number;
  private readonly header: Int32Array;
  private readonly keys: Int32Array;
  private readonly rows: Int32Array;
  private readonly rowUsers: Uint32Array;
  private readonly mask: number;
  /** Fibonacci hashing keeps the top log2(capacity) bits of the product. */
  private readonly shift: number;

  constructor(buffers: UserIndexBuffers) {
    this.maxUsers = buffers.maxUsers;
    this.header = new Int32Array(buffers.header);
    this.keys = new Int32Array(buffers.keys);
    this.rows = new Int32Array(buffers.rows);
    this.rowUsers = new Uint32Array(buffers.rowUsers);
    this.mask = this.rows.length - 1;
    this.shift = 32 - Math.log2(this.rows.length);
  }

  static allocate(maxUsers: number): UserIndexBuffers {
    let capacity = 16;
    while (capacity < maxUsers * 2) capacity *= 2;
    return {
      header: new SharedArrayBuffer(HEADER_CELLS * 4),
      keys: new SharedArrayBuffer(capacity * 4),
      rows: new SharedArrayBuffer(capacity * 4),
      rowUsers: new SharedArrayBuffer(maxUsers * 4),
      maxUsers,
    };
  }

  /** Rows handed out so far. */
  get size(): number {
    return Math.min(Atomics.load(this.header, HEADER_NEXT_ROW), this.maxUsers);
  }

  /** The row of `userId`, or -1 when the user has none yet. */
  find(userId: number): number {
    const key = userId | 0;
    let slot = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      let row = Atomics.load(this.rows, slot);
      if (row === EMPTY) return -1;
      while (row === CLAIMED) row = Atomics.load(this.rows, slot); // an insert is publishing; it takes a few instructions
      if (this.keys[slot] === key) return row - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The row of `userId`, creating it when needed; -1 when the table is full. */
  findOrInsert(userId: number): number {
    const key = userId | 0;
    let slot = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      let row = Atomics.load(this.rows, slot);
      if (row === EMPTY) {
        if (Atomics.compareExchange(this.rows, slot, EMPTY, CLAIMED) !== EMPTY) continue; // lost the race: look again
        const newRow = Atomics.add(this.header, HEADER_NEXT_ROW, 1);
        if (newRow >= this.maxUsers) {
          Atomics.sub(this.header, HEADER_NEXT_ROW, 1);
          Atomics.store(this.rows, slot, EMPTY);
          return -1;
        }
        this.keys[slot] = key;
        this.rowUsers[newRow] = key >>> 0;
        Atomics.store(this.rows, slot, newRow + 1);
        return newRow;
      }
      while (row === CLAIMED) row = Atomics.load(this.rows, slot);
      if (this.keys[slot] === key) return row - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The user id of a row handed out by this index. */
  userOf(row: number): number {
    return this.rowUsers[row]!;
  }

  /** The user ids of rows [0, rows), as a view of the shared map (not a copy): snapshots copy it. */
  rowUserIds(rows: number): Uint32Array {
    return this.rowUsers.subarray(0, rows);
  }

  /** Calls `visit(userId, row)` for every user. Allocation-free; for queries and snapshots. */
  forEach(visit: (userId: number, row: number) => void): void {
    for (let slot = 0; slot < this.rows.length; slot++) {
      const row = Atomics.load(this.rows, slot);
      if (row > 0) visit(this.keys[slot]! >>> 0, row - 1);
    }
  }
}
