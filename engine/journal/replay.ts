/**
 * Rebuilds engine state from journal frames. The journal logs outcomes, so replay re-executes
 * nothing: it applies what each record says happened.
 *  - ORDER PUT / UPDATE carry an order's whole resting state: insert it, or overwrite the order
 *    with that id in place (its place in the FIFO kept, the level's total kept in step);
 *    ORDER FINISH removes it (a FINISH of a taker that never rested finds nothing: no-op).
 *  - DELTA adds (Δavailable, Δfrozen) to (user, asset). Additions commute, so the shards' logs
 *    may be replayed one after the other in any order and give the same balances. Cells are
 *    added modulo 2^64 (BigInt64Array stores wrap), which is exact for the final value even when
 *    an interleaving shows an intermediate sum outside int64. Supply is recomputed at the end.
 *  - BALANCE restores the balance.update idempotency key (user, asset, business, business id).
 *  - DEAL and ORDER ids move the id counters past the largest id seen.
 *  - SOURCES registers source labels under their ids in every engine.
 *
 * Targets are engines over ONE fresh balance table (one per shard, or a single engine holding
 * every market). An ORDER record goes to the engine that holds its market.
 */
import type { BalanceTable } from '../balance/table.js';
import { NIL } from '../book/order-columns.js';
import type { OrderBook } from '../book/order-book.js';
import { BALANCE_RECORD, DEAL_RECORD, DELTA_RECORD, EventKind, ORDER_RECORD, OrderEvent } from '../core/events.js';
import type { Engine } from '../engine.js';
import { EVENTS_HEAD } from '../wire/commands.js';
import { PayloadKind, readSourcesPayload, readStrings } from './format.js';
import { listSegments } from './segment-files.js';
import { ShardLogReader, type JournalFrame, type JournalLog, type ShardLogSummary, type TailCut } from './segment-reader.js';

/** Which engine (index into the targets) keeps the idempotency keys of a user's balance.update. */
export type UpdateOwner = (user: number) => number;

/** The router's rule: balance.update of user u goes to shard u mod shards. */
export const byUserModulo = (engines: number): UpdateOwner => (user) => (user >>> 0) % engines;

export interface ReplayStats {
  frames: number;
  /** Event records applied. */
  events: number;
  /** Distinct epochs replayed. */
  epochs: number;
  /** Lowest and highest epoch replayed, or -1. */
  firstEpoch: number;
  lastEpoch: number;
  /** Largest order and deal id seen (0 when none). */
  maxOrderId: number;
  maxDealId: number;
}

const O = ORDER_RECORD.at;
const B = BALANCE_RECORD.at;
const D = DELTA_RECORD.at;

/** Applies frames to a set of engines; call finish() once after the last frame. */
export class Replayer {
  readonly stats: ReplayStats = { frames: 0, events: 0, epochs: 0, firstEpoch: -1, lastEpoch: -1, maxOrderId: 0, maxDealId: 0 };
  /** The book of each market among the targets, or null. */
  private readonly bookOf: (OrderBook | null)[];
  private readonly seenEpochs = new Set<number>();
  private readonly assetCount: number;

  constructor(
    readonly engines: readonly Engine[],
    private readonly updateOwner: UpdateOwner = byUserModulo(engines.length),
  ) {
    const first = engines[0];
    if (first === undefined) throw new Error('replay needs at least one engine');
    for (const engine of engines) {
      if (engine.balances.cells.buffer !== first.balances.cells.buffer) throw new Error('replay targets must share one balance table');
    }
    this.assetCount = first.balances.assetCount;
    this.bookOf = first.specs.markets.map((m) => {
      for (const engine of engines) {
        const book = engine.books[m.index];
        if (book !== null && book !== undefined) return book;
      }
      return null;
    });
  }

  /** Applies one frame (as the segment reader hands it). */
  applyFrame(frame: JournalFrame): void {
    this.applyPayload(frame.bytes, frame.view, frame.payloadAt, frame.payloadBytes, frame.epoch);
  }

  /** Applies a checked payload (format.ts payloadIsValid) found at `at` in `bytes`. */
  applyPayload(bytes: Uint8Array, view: DataView, at: number, length: number, epoch: number): void {
    const stats = this.stats;
    stats.frames++;
    if (!this.seenEpochs.has(epoch)) {
      this.seenEpochs.add(epoch);
      stats.epochs++;
    }
    if (stats.firstEpoch < 0 || epoch < stats.firstEpoch) stats.firstEpoch = epoch;
    if (epoch > stats.lastEpoch) stats.lastEpoch = epoch;
    switch (bytes[at]) {
      case PayloadKind.EVENTS: {
        const eventBytes = view.getUint32(at + EVENTS_HEAD.at.eventBytes, true);
        const stringCount = view.getUint32(at + EVENTS_HEAD.at.strings, true);
        const start = at + EVENTS_HEAD.size;
        const strings = stringCount === 0 ? NO_STRINGS : readStrings(bytes, start + eventBytes, stringCount);
        this.applyEvents(bytes, view, start, start + eventBytes, strings);
        return;
      }
      case PayloadKind.SOURCES: {
        for (const { id, label } of readSourcesPayload(bytes.subarray(at, at + length))) {
          for (const engine of this.engines) engine.registerSource(id, label);
        }
        return;
      }
      case PayloadKind.SEAL:
      case PayloadKind.CLOSE:
        return;
      default:
        throw new Error(`replay: unknown payload kind ${bytes[at]}`);
    }
  }

  /** Applies the event records in bytes[start, end); `strings` is their strings table. */
  applyEvents(bytes: Uint8Array, view: DataView, start: number, end: number, strings: readonly string[]): void {
    const stats = this.stats;
    for (let r = start; r < end;) {
      switch (bytes[r]) {
        case EventKind.ORDER:
          this.order(view, r);
          r += ORDER_RECORD.size;
          break;
        case EventKind.DEAL: {
          const id = view.getFloat64(r + DEAL_RECORD.at.id, true);
          if (id > stats.maxDealId) stats.maxDealId = id;
          r += DEAL_RECORD.size;
          break;
        }
        case EventKind.BALANCE: {
          const user = view.getUint32(r + B.user, true);
          const engine = this.engines[this.updateOwner(user)];
          if (engine === undefined) throw new Error(`replay: no engine keeps the balance.update keys of user ${user}`);
          engine.restoreAppliedUpdate(
            user, view.getUint16(r + B.asset, true), strings[view.getInt32(r + B.business, true)] ?? '', view.getFloat64(r + B.businessId, true),
          );
          r += BALANCE_RECORD.size;
          break;
        }
        case EventKind.DELTA:
          this.delta(view.getUint32(r + D.user, true), view.getUint16(r + D.asset, true),
            view.getBigInt64(r + D.available, true), view.getBigInt64(r + D.frozen, true));
          r += DELTA_RECORD.size;
          break;
        default:
          throw new Error(`replay: unknown event kind ${bytes[r]} at byte ${r}`);
      }
      stats.events++;
    }
  }

  /** Recomputes every asset's supply and moves the id counters past the largest ids seen. */
  finish(): void {
    recomputeSupply(this.engines[0]!.balances);
    for (const engine of this.engines) {
      engine.orderIds.advanceTo(this.stats.maxOrderId + 1);
      engine.dealIds.advanceTo(this.stats.maxDealId + 1);
    }
  }

  private delta(user: number, asset: number, available: bigint, frozen: bigint): void {
    if (asset >= this.assetCount) throw new Error(`replay: unknown asset ${asset}`);
    const balances = this.engines[0]!.balances;
    const row = balances.users.findOrInsert(user);
    if (row < 0) throw new Error('replay: the balance table is full (raise engine.max_users)');
    const at = (row * this.assetCount + asset) * 2;
    const cells = balances.cells;
    cells[at] = cells[at]! + available;
    cells[at + 1] = cells[at + 1]! + frozen;
  }

  private order(view: DataView, r: number): void {
    const id = view.getFloat64(r + O.id, true);
    if (id > this.stats.maxOrderId) this.stats.maxOrderId = id;
    const market = view.getUint16(r + O.market, true);
    const book = this.bookOf[market];
    if (book === null || book === undefined) throw new Error(`replay: no engine holds market ${market}`);
    const event = view.getUint8(r + O.event);
    const slot = book.find(id);
    if (event === OrderEvent.FINISH) {
      if (slot !== NIL) book.remove(slot);
      return;
    }
    const o = book.orders;
    if (slot !== NIL) {
      if (o.side[slot] === view.getUint8(r + O.side) && o.price[slot] === view.getFloat64(r + O.price, true)
        && o.user[slot] === view.getUint32(r + O.user, true)) {
        // Same order, new progress: keep its place; reduce() keeps the level's total in step with `left`.
        book.reduce(slot, o.left[slot]! - view.getFloat64(r + O.left, true));
        fillColumns(book, slot, view, r);
        return;
      }
      book.remove(slot); // never written by the engine; replace rather than corrupt the level
    }
    const fresh = o.allocate();
    if (fresh === NIL) throw new Error(`replay: the book of market ${market} is full (raise engine.max_orders_per_market)`);
    const user = view.getUint32(r + O.user, true);
    o.id[fresh] = id;
    o.user[fresh] = user;
    o.row[fresh] = this.engines[0]!.balances.users.findOrInsert(user);
    o.side[fresh] = view.getUint8(r + O.side);
    o.price[fresh] = view.getFloat64(r + O.price, true);
    o.left[fresh] = view.getFloat64(r + O.left, true);
    fillColumns(book, fresh, view, r);
    if (o.row[fresh] < 0 || !book.insert(fresh)) {
      o.free(fresh);
      throw new Error(`replay: no room for order ${id} in market ${market} (balance table or price levels full)`);
    }
  }
}

const NO_STRINGS: readonly string[] = [];

/** Sets every asset's supply to Σ (available + frozen) over all rows (after cells were set directly). */
export function recomputeSupply(balances: BalanceTable): void {
  const cells = balances.cells;
  const rows = balances.users.size;
  const n = balances.assetCount;
  for (let asset = 0; asset < n; asset++) {
    let sum = 0n;
    for (let row = 0; row < rows; row++) {
      const at = (row * n + asset) * 2;
      sum += cells[at]! + cells[at + 1]!;
    }
    Atomics.store(balances.supply, asset, sum);
  }
}

/** Copies the columns an ORDER record can change (all but id, user, row, side, price, left). */
function fillColumns(book: OrderBook, slot: number, view: DataView, r: number): void {
  const o = book.orders;
  o.amount[slot] = view.getFloat64(r + O.amount, true);
  o.dealStock[slot] = view.getFloat64(r + O.dealStock, true);
  o.takerFee[slot] = view.getFloat64(r + O.takerFee, true);
  o.makerFee[slot] = view.getFloat64(r + O.makerFee, true);
  o.freeze[slot] = view.getBigInt64(r + O.freeze, true);
  o.dealMoney[slot] = view.getBigInt64(r + O.dealMoney, true);
  o.dealFee[slot] = view.getBigInt64(r + O.dealFee, true);
  o.ctime[slot] = view.getFloat64(r + O.ctime, true);
  o.mtime[slot] = view.getFloat64(r + O.mtime, true);
  o.source[slot] = view.getInt32(r + O.source, true);
}

export interface ReplayJournalOptions {
  /** Replay frames of epochs ≤ durableEpoch only (whole epochs: every frame of such an epoch). */
  readonly durableEpoch: number;
  /** Skip frames of epochs ≤ afterEpoch (already in the snapshot). Default: none skipped. */
  readonly afterEpoch?: number;
  readonly updateOwner?: UpdateOwner;
  readonly log?: JournalLog;
}

export interface JournalReplayReport {
  readonly stats: ReplayStats;
  /** Per shard, in shard order: what its journal held. */
  readonly shards: readonly ShardLogSummary[];
  /** Damaged tails found (reading stopped there). */
  readonly cuts: readonly TailCut[];
}

/**
 * Replays every shard's journal in `dir` into `engines` (over a fresh balance table, or one a
 * snapshot was just loaded into), then finishes (supply, id counters).
 *
 * Segments are replayed in the order of their first epoch over all shards, not one shard's log
 * after the other: a market may have lived in another shard in an earlier run (engine.shards or
 * engine.assignment changed across a restart), and its book events must still be applied in
 * epoch order. Every run starts a new segment in every shard's log above every epoch on disk, so
 * this order puts each run's segments after the previous run's; within a run a market lives in one
 * shard, and balance deltas commute.
 */
export function replayJournal(dir: string, engines: readonly Engine[], options: ReplayJournalOptions): JournalReplayReport {
  const replayer = new Replayer(engines, options.updateOwner);
  const after = options.afterEpoch ?? -1;
  const durable = options.durableEpoch;
  const visit = (frame: JournalFrame): void => {
    if (frame.epoch > after && frame.epoch <= durable) replayer.applyFrame(frame);
  };
  const readOptions = options.log === undefined ? {} : { log: options.log };
  const readers = [...listSegments(dir)].sort((a, b) => a[0] - b[0]).map(([shard, segments]) => new ShardLogReader(segments, shard, readOptions));
  for (;;) {
    let next: ShardLogReader | null = null;
    for (const reader of readers) if (!reader.done && (next === null || reader.nextFirstEpoch < next.nextFirstEpoch)) next = reader;
    if (next === null) break;
    next.readSegment(visit);
  }
  const shards: ShardLogSummary[] = readers.map((r) => r.summary());
  const cuts: TailCut[] = shards.flatMap((s) => (s.cut === null ? [] : [s.cut]));
  replayer.finish();
  return { stats: replayer.stats, shards, cuts };
}

/**
 * The last epoch that every shard sealed: recovery's durable epoch for a journal whose every shard
 * seals every epoch (SegmentWriter.seal) and that has no CLOSE frame (closes.ts, which covers
 * shards that sit epochs out). Null when no shard's journal holds a seal.
 */
export function completeEpoch(shards: Iterable<ShardLogSummary>): number | null {
  let min = Infinity;
  let any = false;
  for (const s of shards) {
    if (s.lastSealedEpoch >= 0) any = true;
    if (s.lastSealedEpoch < min) min = s.lastSealedEpoch;
  }
  return any ? min : null;
}
