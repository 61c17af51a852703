/**
 * One market's order book: order columns, the two sides' price levels, the order-id index and
 * each user's list of pending orders (newest first). It only keeps the structure consistent;
 * matching and money live in engine/core.
 */
import {
  LINK_LEVEL, LINK_PREV, LINK_STRIDE, LINK_USER_NEXT, LINK_USER_PREV, NIL, OrderColumns, SIDE_ASK,
} from './order-columns.js';
import { OrderIdIndex } from './order-id-index.js';
import { PriceLevels } from './price-levels.js';

export class OrderBook {
  readonly orders: OrderColumns;
  readonly asks: PriceLevels;
  readonly bids: PriceLevels;
  private readonly byId: OrderIdIndex;
  /**
   * By balance-table row: the user's newest pending order slot + 1 (0 = none) and how many
   * pending orders the user has in this book. Zero-initialised, so untouched pages cost nothing.
   */
  private readonly userHead: Int32Array;
  private readonly userCount: Int32Array;

  constructor(maxOrders: number, maxLevelsPerSide: number, maxUsers: number) {
    this.orders = new OrderColumns(maxOrders);
    this.asks = new PriceLevels(-1, maxLevelsPerSide);
    this.bids = new PriceLevels(1, maxLevelsPerSide);
    this.byId = new OrderIdIndex(maxOrders);
    this.userHead = new Int32Array(maxUsers);
    this.userCount = new Int32Array(maxUsers);
  }

  levels(side: number): PriceLevels {
    return side === SIDE_ASK ? this.asks : this.bids;
  }

  /** Slot of a pending order, or NIL. */
  find(orderId: number): number {
    return this.byId.get(orderId);
  }

  /**
   * Links a slot whose columns are filled in (id, user, side, price, left, ...; the caller guarded
   * it first: OrderColumns.guard) at the back of its price level. False, changing nothing, when the side has no free level.
   */
  insert(slot: number, knownLevel: number = NIL): boolean {
    const o = this.orders;
    const levels = this.levels(o.side[slot]!);
    // `knownLevel`: the level of this price the caller found (with find()) while the side was unchanged.
    const level = knownLevel !== NIL ? knownLevel : levels.findOrCreate(o.price[slot]!);
    if (level === NIL) return false;
    const links = o.links;
    const at = slot * LINK_STRIDE;
    const tail = levels.tail[level]!;
    if (tail !== NIL) o.guard(tail); // the caller guarded `slot` before filling in its columns
    links[at + LINK_LEVEL] = level;
    links[at + LINK_PREV] = tail;
    o.next[slot] = NIL;
    if (tail === NIL) levels.head[level] = slot;
    else o.next[tail] = slot;
    levels.tail[level] = slot;
    levels.total[level] = levels.total[level]! + o.left[slot]!;
    levels.count[level] = levels.count[level]! + 1;
    this.byId.set(o.id[slot]!, slot);

    const row = o.row[slot]!;
    const head = this.userHead[row]! - 1;
    links[at + LINK_USER_PREV] = NIL;
    links[at + LINK_USER_NEXT] = head;
    if (head !== NIL) links[head * LINK_STRIDE + LINK_USER_PREV] = slot;
    this.userHead[row] = slot + 1;
    this.userCount[row] = this.userCount[row]! + 1;
    return true;
  }

  /** A resting order traded `lots`: keeps the level's total in step with the order's left. */
  reduce(slot: number, lots: number): void {
    const o = this.orders;
    o.guard(slot);
    o.left[slot] = o.left[slot]! - lots;
    const levels = this.levels(o.side[slot]!);
    const level = o.links[slot * LINK_STRIDE + LINK_LEVEL]!;
    levels.total[level] = levels.total[level]! - lots;
  }

  /** Unlinks a pending order from every structure and frees its slot. */
  remove(slot: number): void {
    const o = this.orders;
    const levels = this.levels(o.side[slot]!);
    const links = o.links;
    const at = slot * LINK_STRIDE;
    const level = links[at + LINK_LEVEL]!;
    const prev = links[at + LINK_PREV]!;
    const next = o.next[slot]!;
    if (prev === NIL) levels.head[level] = next;
    else {
      o.guard(prev);
      o.next[prev] = next;
    }
    if (next === NIL) levels.tail[level] = prev;
    else links[next * LINK_STRIDE + LINK_PREV] = prev;
    levels.total[level] = levels.total[level]! - o.left[slot]!;
    levels.count[level] = levels.count[level]! - 1;
    if (levels.count[level] === 0) levels.remove(level);
    this.byId.delete(o.id[slot]!);

    const row = o.row[slot]!;
    const userPrev = links[at + LINK_USER_PREV]!;
    const userNext = links[at + LINK_USER_NEXT]!;
    if (userPrev === NIL) this.userHead[row] = userNext + 1;
    else links[userPrev * LINK_STRIDE + LINK_USER_NEXT] = userNext;
    if (userNext !== NIL) links[userNext * LINK_STRIDE + LINK_USER_PREV] = userPrev;
    this.userCount[row] = this.userCount[row]! - 1;
    o.free(slot); // guards the slot
  }

  /** Number of pending orders in this book of the user at balance-table `row`. */
  pendingCount(row: number): number {
    return row < 0 ? 0 : this.userCount[row] ?? 0;
  }

  /** Newest pending order slot of the user at `row`, or NIL; follow `orders.olderOfUser` for older ones. */
  newestOf(row: number): number {
    return row < 0 ? NIL : (this.userHead[row] ?? 0) - 1;
  }

  /** Number of resting orders on one side. */
  orderCount(side: number): number {
    const levels = this.levels(side);
    let count = 0;
    for (let i = 0; i < levels.size; i++) count += levels.count[levels.nth(i)]!;
    return count;
  }
}
