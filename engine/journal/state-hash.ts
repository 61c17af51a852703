/**
 * A deterministic SHA-256 over engine state, so that "the same state" is checkable: live versus
 * replayed, snapshot + tail versus the full journal, one release versus the next.
 *
 * It covers, in this order: the id counters (optional), every asset's supply, every non-zero
 * balance sorted by (user, asset), every market's book in book order (per side, levels best
 * first with price, total and count, then the level's orders FIFO with every column and the
 * order's source label) and the applied balance.update keys, sorted. Balance-table rows and order
 * slots are not hashed, so the hash does not depend on the order users got rows in, nor on which
 * engine (shard) holds which market.
 */
import { createHash, type Hash } from 'node:crypto';
import { NIL } from '../book/order-columns.js';
import type { OrderBook } from '../book/order-book.js';
import type { PriceLevels } from '../book/price-levels.js';
import type { Engine } from '../engine.js';

export interface StateHashOptions {
  /**
   * Hash the id counters (next order id, next deal id; the largest over the engines). Default
   * true. Shards that take ids in blocks from a shared counter may each be in the middle of a
   * block, so compare live and replayed multi-shard state with ids: false and check the ids apart.
   */
  readonly ids?: boolean;
}

/** Feeds fixed-size fields to a hash through a reused buffer. */
class Feeder {
  private readonly bytes = new Uint8Array(1 << 16);
  private readonly view = new DataView(this.bytes.buffer);
  private at = 0;
  private readonly utf8 = new TextEncoder();

  constructor(private readonly hash: Hash) {}

  private room(n: number): number {
    if (this.at + n > this.bytes.byteLength) this.flush();
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(n: number): void {
    this.view.setUint8(this.room(1), n);
  }

  u32(n: number): void {
    this.view.setUint32(this.room(4), n, true);
  }

  i32(n: number): void {
    this.view.setInt32(this.room(4), n, true);
  }

  f64(n: number): void {
    this.view.setFloat64(this.room(8), n, true);
  }

  i64(n: bigint): void {
    this.view.setBigInt64(this.room(8), n, true);
  }

  str(s: string): void {
    const most = 4 + s.length * 3;
    if (most > this.bytes.byteLength) {
      const bytes = this.utf8.encode(s);
      this.u32(bytes.byteLength);
      this.flush();
      this.hash.update(bytes);
      return;
    }
    if (this.at + most > this.bytes.byteLength) this.flush();
    const written = this.utf8.encodeInto(s, this.bytes.subarray(this.at + 4)).written;
    this.view.setUint32(this.at, written, true);
    this.at += 4 + written;
  }

  flush(): void {
    if (this.at > 0) this.hash.update(this.bytes.subarray(0, this.at));
    this.at = 0;
  }
}

/** Hex SHA-256 of the state of engines that share one balance table. */
export function stateHash(engines: readonly Engine[], options: StateHashOptions = {}): string {
  const first = engines[0];
  if (first === undefined) throw new Error('stateHash needs at least one engine');
  const hash = createHash('sha256');
  const f = new Feeder(hash);
  f.str('viaduct-state/1');

  if (options.ids ?? true) {
    f.f64(Math.max(...engines.map((e) => e.nextOrderId)));
    f.f64(Math.max(...engines.map((e) => e.nextDealId)));
  }

  const table = first.balances;
  const assets = table.assetCount;
  f.u32(assets);
  for (let asset = 0; asset < assets; asset++) f.i64(Atomics.load(table.supply, asset));

  const users: number[] = [];
  const rowOf = new Map<number, number>();
  table.users.forEach((user, row) => {
    users.push(user);
    rowOf.set(user, row);
  });
  users.sort((a, b) => a - b);
  for (const user of users) {
    const row = rowOf.get(user)!;
    for (let asset = 0; asset < assets; asset++) {
      const available = table.available(row, asset);
      const frozen = table.frozen(row, asset);
      if (available === 0n && frozen === 0n) continue;
      f.u32(user);
      f.u32(asset);
      f.i64(available);
      f.i64(frozen);
    }
  }
  f.u32(0xffffffff); // end of balances

  for (const market of first.specs.markets) {
    const holder = engines.find((e) => (e.books[market.index] ?? null) !== null);
    const book = holder?.books[market.index] ?? null;
    if (holder === undefined || book === null) continue;
    f.u32(market.index);
    hashSide(f, book, book.asks, holder);
    hashSide(f, book, book.bids, holder);
  }
  f.u32(0xffffffff); // end of books

  const keys = engines.flatMap((e) => e.appliedUpdateKeys()).sort();
  f.u32(keys.length);
  for (const key of keys) f.str(key);

  f.flush();
  return hash.digest('hex');
}

function hashSide(f: Feeder, book: OrderBook, levels: PriceLevels, engine: Engine): void {
  const o = book.orders;
  f.u32(levels.size);
  for (let k = 0; k < levels.size; k++) {
    const level = levels.nth(k);
    f.f64(levels.price[level]!);
    f.f64(levels.total[level]!);
    f.u32(levels.count[level]!);
    for (let slot = levels.head[level]!; slot !== NIL; slot = o.next[slot]!) {
      f.f64(o.id[slot]!);
      f.u32(o.user[slot]!);
      f.u8(o.side[slot]!);
      f.f64(o.price[slot]!);
      f.f64(o.amount[slot]!);
      f.f64(o.left[slot]!);
      f.f64(o.dealStock[slot]!);
      f.f64(o.takerFee[slot]!);
      f.f64(o.makerFee[slot]!);
      f.i64(o.freeze[slot]!);
      f.i64(o.dealMoney[slot]!);
      f.i64(o.dealFee[slot]!);
      f.f64(o.ctime[slot]!);
      f.f64(o.mtime[slot]!);
      f.i32(o.source[slot]!);
      f.str(engine.sourceName(o.source[slot]!));
    }
  }
}
