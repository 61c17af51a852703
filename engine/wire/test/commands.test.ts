/**
 * Round trip of every command record: CommandWriter → a real RingProducer/RingConsumer pair (one
 * thread) → ShardDispatcher against an Engine → reply into a BufferSink, decoded with readReply;
 * the command's events go through the shard loop's EVENTS records and come back with readEvents.
 * Every field must survive: request id, user, market, time, ids, amounts, source labels,
 * business/detail strings, and the codes of the error cases. A second group checks the layout
 * table itself (no overlapping fields, natural and 8-byte alignment, a shared command head), so
 * that the offsets cannot drift from what the writers and readers assume.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import { SIDE_ASK, SIDE_BID, TYPE_LIMIT, TYPE_MARKET } from '../../book/order-columns.js';
import { Code } from '../../codes.js';
import * as eventLayouts from '../../core/events.js';
import { EventKind, OrderEvent, type BalanceRecord, type DealRecord, type EventRecord, type OrderEventRecord } from '../../core/events.js';
import type { OrderView } from '../../core/order-view.js';
import { Engine } from '../../engine.js';
import { depth } from '../../queries.js';
import { CommandWriter } from '../../router/command-writer.js';
import { readEvents, readReply, readRequestId, type CommandReply } from '../../router/replies.js';
import { DepthBoard } from '../../shard/depth-board.js';
import { ShardDispatcher } from '../../shard/dispatch.js';
import { ShardLoop } from '../../shard/loop.js';
import { ReplyWriter } from '../../shard/reply-writer.js';
import * as commands from '../commands.js';
import {
  BALANCE_UPDATE, COMMAND_HEAD, EVENTS_HEAD, FLAG_SOURCE_TEXT, Op, REPLY_HEAD, ReplyKind,
} from '../commands.js';
import type { FieldType, Layout } from '../layout.js';
import { NIL, RingBuffer, RingConsumer, RingProducer } from '../ring.js';
import { BufferSink } from '../sink.js';

// Default config: assets BCH 0, BTC 1, LTC 2, ETH 3, USDT 4; markets BTCBCH 0, LTCBCH 1, ETHBCH 2, BTCUSDT 3.
// BTCBCH: lots and ticks of 10^-8, balances of 10^-12 (10^4 units per lot), fee ticks of 10^-4.
const BCH = 0;
const BTC = 1;
const ETH = 3;
const BTCBCH = 0;
const LTCBCH = 1;
const BTCUSDT = 3; // not held by the engine under test
const UNITS_PER_LOT = 10_000n;
/** Microseconds, above 2^50: a lossy encoding of `time` would show. */
const T0 = 1_700_000_000_123_457;
/** User ids above 2^31, so that a signed encoding would show. */
const ALICE = 0xfffffff0;
const BOB = 0x80000001;
const COIN = 10n ** 12n;

const config = validateConfig({
  ...defaultConfig,
  engine: { max_users: 64, max_orders_per_market: 64, max_levels_per_side: 32, depth_levels: 16 },
});

interface Decoded {
  readonly reply: CommandReply;
  /** Request id and opcode as the reply record carries them. */
  readonly request: number;
  readonly op: number;
  /** The command record's head as the shard read it. */
  readonly head: { op: number; flags: number; market: number; user: number; request: number; time: number };
}

/**
 * One shard's wire, in one thread: a command ring written by a CommandWriter, a dispatcher that
 * replies into a BufferSink, and the shard loop's event encoding into a reply ring.
 */
class Wire {
  readonly engine = new Engine(config, { markets: [0, 1, 2] });
  readonly writer: CommandWriter;
  private readonly commands: RingConsumer;
  private readonly dispatcher = new ShardDispatcher(this.engine);
  private readonly eventWriter: ReplyWriter;
  private readonly eventReader: RingConsumer;
  private nextRequest = 2 ** 40 + 1; // large, so that a narrow encoding of request ids would show
  /** EVENTS records the last batch produced. */
  eventRecords = 0;

  constructor(ringBytes = 1 << 16, eventBytes = 1 << 16) {
    const ring = RingBuffer.allocate(ringBytes);
    this.writer = new CommandWriter(new RingProducer(ring));
    this.commands = new RingConsumer(ring);
    const events = RingBuffer.allocate(eventBytes);
    const board = new DepthBoard(DepthBoard.allocate(config.markets.length, 16));
    let loop: ShardLoop | null = null;
    // `stopping` is true: a full event ring throws instead of waiting for a reader that never comes.
    this.eventWriter = new ReplyWriter(new RingProducer(events), () => loop?.flushBeforeReplies(), () => true);
    loop = new ShardLoop(this.engine, this.commands, this.eventWriter, board);
    this.eventReader = new RingConsumer(events);
  }

  /** Writes commands (each gets the next request id), then reads and executes them as one batch. */
  batch(writes: readonly ((w: CommandWriter, request: number) => boolean)[]): { results: Decoded[]; events: EventRecord[] } {
    for (const write of writes) assert.ok(write(this.writer, this.nextRequest++), 'the command fits the ring');
    assert.ok(this.commands.available() > 0);
    const results: Decoded[] = [];
    for (let at = this.commands.next(); at !== NIL; at = this.commands.next()) {
      const v = this.commands.view;
      const h = COMMAND_HEAD.at;
      const head = {
        op: v.getUint8(at + h.op), flags: v.getUint8(at + h.flags), market: v.getUint16(at + h.market, true),
        user: v.getUint32(at + h.user, true), request: v.getFloat64(at + h.request, true), time: v.getFloat64(at + h.time, true),
      };
      const sink = new BufferSink();
      this.dispatcher.execute(v, at, sink);
      assert.equal(sink.records.length, 1, 'one reply record per command');
      const r = sink.records[0]!;
      assert.equal(sink.view.getUint8(r + REPLY_HEAD.at.kind), ReplyKind.RESULT);
      results.push({
        reply: readReply(sink.view, r, sink.length - r), request: readRequestId(sink.view, r),
        op: sink.view.getUint8(r + REPLY_HEAD.at.op), head,
      });
    }
    this.commands.release();
    assert.equal(results.length, writes.length, 'every command came back out of the ring');
    return { results, events: this.drainEvents() };
  }

  /** One command: its decoded reply and its events. */
  run(write: (w: CommandWriter, request: number) => boolean): Decoded & { events: EventRecord[] } {
    const { results, events } = this.batch([write]);
    return { ...results[0]!, events };
  }

  /** Ends the batch as the shard loop does (EVENTS records into the reply ring) and decodes them. */
  private drainEvents(): EventRecord[] {
    this.eventWriter.publish();
    const events: EventRecord[] = [];
    this.eventRecords = this.eventReader.poll((view, at) => {
      assert.equal(view.getUint8(at + EVENTS_HEAD.at.kind), ReplyKind.EVENTS);
      events.push(...readEvents(view, at));
    });
    return events.filter((e) => e.kind !== EventKind.DELTA); // journal records, when the engine writes them, are not under test here
  }

  /** Deposits through the wire. */
  deposit(user: number, asset: number, units: bigint, businessId: number): void {
    const { reply } = this.run((w, r) => w.balanceUpdate(r, T0, user, asset, 'deposit', businessId, units, ''));
    assert.equal(reply.code, Code.OK);
  }
}

const utf8 = new TextEncoder();

function only<T>(items: readonly T[]): T {
  assert.equal(items.length, 1);
  return items[0]!;
}

function orderEvent(e: EventRecord | undefined): OrderEventRecord {
  assert.equal(e?.kind, EventKind.ORDER);
  return e;
}

/** Every field of an order, for deepEqual (OrderView is a class: compare plain copies; its money fields are accessors). */
function fields(o: OrderView): Record<string, unknown> {
  const plain: Record<string, unknown> = { ...o };
  delete plain.money;
  delete plain.moneyWords;
  return { ...plain, amountMoney: o.amountMoney, leftMoney: o.leftMoney, dealMoney: o.dealMoney, dealFee: o.dealFee, freeze: o.freeze };
}

test('place limit: request id, user, market, time, amounts, fees and the source label survive', () => {
  const wire = new Wire();
  wire.deposit(ALICE, BTC, 10n * COIN, 1);
  const out = wire.run((w, r) => w.placeLimit(r, T0, ALICE, BTCBCH, SIDE_ASK, 123_456_789, 987_654_321, 20, 10, 7, utf8.encode('web ✓')));
  assert.equal(out.head.op, Op.PLACE_LIMIT);
  assert.equal(out.head.flags, FLAG_SOURCE_TEXT, 'the first command with a label carries its text');
  assert.deepEqual(
    { market: out.head.market, user: out.head.user, request: out.head.request, time: out.head.time },
    { market: BTCBCH, user: ALICE, request: out.request, time: T0 },
  );
  assert.equal(out.request, 2 ** 40 + 2);
  assert.equal(out.op, Op.PLACE_LIMIT);
  assert.equal(out.reply.code, Code.OK);
  assert.equal(out.reply.total, 1);
  assert.equal(out.reply.summary, null);
  const order = only(out.reply.orders);
  assert.deepEqual(fields(order), {
    id: 1, market: BTCBCH, side: SIDE_ASK, type: TYPE_LIMIT, user: ALICE, ctime: T0, mtime: T0,
    price: 987_654_321, amount: 123_456_789, left: 123_456_789, dealStock: 0, amountMoney: 0n, leftMoney: 0n,
    takerFee: 20, makerFee: 10, dealMoney: 0n, dealFee: 0n, freeze: 123_456_789n * UNITS_PER_LOT, source: 7,
  });
  assert.equal(wire.engine.sourceName(7), 'web ✓', 'the shard registered the label under the router’s id');
  const put = orderEvent(only(out.events));
  assert.equal(put.event, OrderEvent.PUT);
  assert.deepEqual(fields(put.order), fields(order));

  // The same label again: no text on the wire, same id.
  const again = wire.run((w, r) => w.placeLimit(r, T0 + 1, ALICE, BTCBCH, SIDE_ASK, 100_000, 987_654_322, 0, 0, 7, utf8.encode('web ✓')));
  assert.equal(again.head.flags, 0);
  assert.equal(again.reply.orders[0]?.source, 7);
  assert.equal(again.reply.orders[0]?.id, 2);
  assert.equal(again.reply.orders[0]?.ctime, T0 + 1);
});

test('place limit that crosses: DEAL, maker UPDATE, taker FINISH with every field', () => {
  const wire = new Wire();
  wire.deposit(ALICE, BTC, 10n * COIN, 1);
  wire.deposit(BOB, BCH, 10n * COIN, 2);
  const maker = wire.run((w, r) => w.placeLimit(r, T0, ALICE, BTCBCH, SIDE_ASK, 300_000_000, 200_000_000, 0, 10, 0, new Uint8Array()));
  assert.equal(maker.reply.code, Code.OK);
  const taker = wire.run((w, r) => w.placeLimit(r, T0 + 5, BOB, BTCBCH, SIDE_BID, 100_000_000, 250_000_000, 20, 0, 0, new Uint8Array()));
  assert.equal(taker.reply.code, Code.OK);
  const order = only(taker.reply.orders);
  // 1 BTC at the maker's 2 BCH: 2·10^12 units of money; fees: ask (maker) 10 ticks of money, bid (taker) 20 ticks of stock.
  const value = 2n * COIN;
  const askFee = (value * 10n + 9_999n) / 10_000n;
  const bidFee = (COIN * 20n + 9_999n) / 10_000n;
  assert.deepEqual(
    { left: order.left, dealStock: order.dealStock, dealMoney: order.dealMoney, dealFee: order.dealFee, freeze: order.freeze, mtime: order.mtime },
    { left: 0, dealStock: 100_000_000, dealMoney: value, dealFee: bidFee, freeze: 0n, mtime: T0 + 5 },
  );
  assert.deepEqual(taker.events.map((e) => e.kind), [EventKind.DEAL, EventKind.ORDER, EventKind.ORDER]);
  const deal = taker.events[0] as DealRecord;
  assert.deepEqual(deal, {
    kind: EventKind.DEAL, id: 1, time: T0 + 5, market: BTCBCH, takerSide: SIDE_BID, price: 200_000_000, amount: 100_000_000,
    askOrder: 1, bidOrder: 2, askUser: ALICE, bidUser: BOB, dealMoney: value, askFee, bidFee,
  });
  const makerUpdate = orderEvent(taker.events[1]);
  assert.equal(makerUpdate.event, OrderEvent.UPDATE);
  assert.deepEqual(
    { id: makerUpdate.order.id, user: makerUpdate.order.user, left: makerUpdate.order.left, dealFee: makerUpdate.order.dealFee },
    { id: 1, user: ALICE, left: 200_000_000, dealFee: askFee },
  );
  const takerFinish = orderEvent(taker.events[2]);
  assert.equal(takerFinish.event, OrderEvent.FINISH);
  assert.deepEqual(fields(takerFinish.order), fields(order));
});

test('place market, with and without the source text', () => {
  const wire = new Wire();
  wire.deposit(ALICE, BTC, 10n * COIN, 1);
  wire.deposit(BOB, BCH, 10n * COIN, 2);
  wire.deposit(BOB, BTC, 10n * COIN, 3);
  wire.run((w, r) => w.placeLimit(r, T0, ALICE, BTCBCH, SIDE_ASK, 300_000_000, 200_000_000, 0, 0, 0, new Uint8Array()));

  // Market bid: amount is money with stock_prec decimals — 1 BCH buys 0.5 BTC at 2.
  const bid = wire.run((w, r) => w.placeMarket(r, T0 + 9, BOB, BTCBCH, SIDE_BID, 100_000_000, 15, 3, utf8.encode('api·v2')));
  assert.equal(bid.head.op, Op.PLACE_MARKET);
  assert.equal(bid.head.flags, FLAG_SOURCE_TEXT);
  assert.equal(bid.head.time, T0 + 9);
  assert.equal(bid.reply.code, Code.OK);
  const o = only(bid.reply.orders);
  assert.deepEqual(
    { type: o.type, side: o.side, user: o.user, market: o.market, amount: o.amount, amountMoney: o.amountMoney, leftMoney: o.leftMoney, dealStock: o.dealStock, takerFee: o.takerFee, source: o.source, ctime: o.ctime },
    { type: TYPE_MARKET, side: SIDE_BID, user: BOB, market: BTCBCH, amount: 0, amountMoney: COIN, leftMoney: 0n, dealStock: 50_000_000, takerFee: 15, source: 3, ctime: T0 + 9 },
  );
  assert.equal(wire.engine.sourceName(3), 'api·v2');
  assert.deepEqual(bid.events.map((e) => (e.kind === EventKind.ORDER ? `order${e.event}` : `kind${e.kind}`)), ['kind2', 'order2', 'order3']);

  // Market ask with the label the shard already knows: no text.
  wire.deposit(ALICE, BCH, 10n * COIN, 4);
  wire.run((w, r) => w.placeLimit(r, T0, ALICE, BTCBCH, SIDE_BID, 100_000_000, 150_000_000, 0, 0, 0, new Uint8Array()));
  const ask = wire.run((w, r) => w.placeMarket(r, T0 + 10, BOB, BTCBCH, SIDE_ASK, 40_000_000, 0, 3, utf8.encode('api·v2')));
  assert.equal(ask.head.flags, 0);
  assert.equal(ask.reply.code, Code.OK);
  assert.deepEqual(
    { side: ask.reply.orders[0]?.side, amount: ask.reply.orders[0]?.amount, left: ask.reply.orders[0]?.left, source: ask.reply.orders[0]?.source },
    { side: SIDE_ASK, amount: 40_000_000, left: 0, source: 3 },
  );

  // An error code survives, with no order and no event.
  const empty = wire.run((w, r) => w.placeMarket(r, T0, BOB, LTCBCH, SIDE_BID, 100_000_000, 0, 0, new Uint8Array()));
  assert.deepEqual({ code: empty.reply.code, orders: empty.reply.orders.length, events: empty.events.length }, { code: Code.NO_ENOUGH_TRADER, orders: 0, events: 0 });
  const unheld = wire.run((w, r) => w.placeMarket(r, T0, BOB, BTCUSDT, SIDE_BID, 100_000_000, 0, 0, new Uint8Array()));
  assert.equal(unheld.reply.code, Code.UNKNOWN_MARKET);
});

test('cancel: own order, another user’s, an unknown id, a market held elsewhere', () => {
  const wire = new Wire();
  wire.deposit(ALICE, BCH, 10n * COIN, 1);
  const placed = wire.run((w, r) => w.placeLimit(r, T0, ALICE, LTCBCH, SIDE_BID, 150_000_000, 100_000_000, 1, 2, 0, new Uint8Array()));
  const id = placed.reply.orders[0]!.id;
  const frozen = placed.reply.orders[0]!.freeze;
  assert.equal(frozen, (150_000_000n * 100_000_000n) / 10_000n);

  const other = wire.run((w, r) => w.cancel(r, T0 + 1, BOB, LTCBCH, id));
  assert.deepEqual({ code: other.reply.code, events: other.events.length }, { code: Code.USER_NOT_MATCH, events: 0 });
  const unknown = wire.run((w, r) => w.cancel(r, T0 + 1, ALICE, LTCBCH, id + 1000));
  assert.equal(unknown.reply.code, Code.ORDER_NOT_FOUND);
  const elsewhere = wire.run((w, r) => w.cancel(r, T0 + 1, ALICE, BTCUSDT, id));
  assert.equal(elsewhere.reply.code, Code.UNKNOWN_MARKET);

  const own = wire.run((w, r) => w.cancel(r, T0 + 2, ALICE, LTCBCH, id));
  assert.equal(own.head.op, Op.CANCEL);
  assert.deepEqual({ user: own.head.user, market: own.head.market, time: own.head.time }, { user: ALICE, market: LTCBCH, time: T0 + 2 });
  assert.equal(own.reply.code, Code.OK);
  const order = only(own.reply.orders);
  assert.deepEqual(
    { id: order.id, user: order.user, market: order.market, left: order.left, amount: order.amount, price: order.price, takerFee: order.takerFee, makerFee: order.makerFee, freeze: order.freeze },
    { id, user: ALICE, market: LTCBCH, left: 150_000_000, amount: 150_000_000, price: 100_000_000, takerFee: 1, makerFee: 2, freeze: 0n },
  );
  const finish = orderEvent(only(own.events));
  assert.equal(finish.event, OrderEvent.FINISH);
  assert.equal(finish.order.id, id);
  assert.equal(wire.engine.balances.frozen(wire.engine.balances.users.find(ALICE), BCH), 0n);
  assert.equal(wire.run((w, r) => w.cancel(r, T0 + 3, ALICE, LTCBCH, id)).reply.code, Code.ORDER_NOT_FOUND);
});

test('balance update: UTF-8 business and detail, large ids and amounts, negative changes, error codes', () => {
  const wire = new Wire();
  const business = 'dépôt ✓';
  const detail = '{"memo":"日本語 ✓ 🚀","n":1}';
  const businessId = Number.MAX_SAFE_INTEGER;
  const change = 123_456_789_012_345_678n;
  const out = wire.run((w, r) => w.balanceUpdate(r, T0, ALICE, ETH, business, businessId, change, detail));
  assert.equal(out.head.op, Op.BALANCE_UPDATE);
  assert.deepEqual({ user: out.head.user, time: out.head.time }, { user: ALICE, time: T0 });
  assert.deepEqual({ code: out.reply.code, orders: out.reply.orders.length, summary: out.reply.summary }, { code: Code.OK, orders: 0, summary: null });
  assert.equal(out.op, Op.BALANCE_UPDATE);
  const event = only(out.events) as BalanceRecord;
  assert.deepEqual(event, {
    kind: EventKind.BALANCE, user: ALICE, asset: ETH, business, businessId, detail, time: T0,
    change, available: change, frozen: 0n,
  });

  const repeat = wire.run((w, r) => w.balanceUpdate(r, T0 + 1, ALICE, ETH, business, businessId, change, detail));
  assert.deepEqual({ code: repeat.reply.code, events: repeat.events.length }, { code: Code.REPEAT_UPDATE, events: 0 });
  const short = wire.run((w, r) => w.balanceUpdate(r, T0 + 1, ALICE, ETH, 'withdraw', 1, -change - 1n, ''));
  assert.equal(short.reply.code, Code.BALANCE_NOT_ENOUGH);
  const unknownAsset = wire.run((w, r) => w.balanceUpdate(r, T0 + 1, ALICE, 99, 'deposit', 1, 1n, ''));
  assert.equal(unknownAsset.reply.code, Code.UNKNOWN_ASSET);
  const longBusiness = wire.run((w, r) => w.balanceUpdate(r, T0 + 1, ALICE, ETH, 'é'.repeat(16), 1, 1n, ''));
  assert.equal(longBusiness.reply.code, Code.INVALID_ARGUMENT, '32 UTF-8 bytes is more than the 30 a label may have');

  const withdraw = wire.run((w, r) => w.balanceUpdate(r, T0 + 2, ALICE, ETH, 'withdraw', 2, -change + 1n, ''));
  assert.equal(withdraw.reply.code, Code.OK);
  const w2 = only(withdraw.events) as BalanceRecord;
  assert.deepEqual({ change: w2.change, available: w2.available, business: w2.business, detail: w2.detail }, { change: -change + 1n, available: 1n, business: 'withdraw', detail: '' });
});

test('queries: pending, order, book, summary, depth, and their error codes', () => {
  const wire = new Wire();
  wire.deposit(ALICE, BTC, 10n * COIN, 1);
  wire.deposit(BOB, BTC, 10n * COIN, 2);
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) {
    const user = i % 2 === 0 ? ALICE : BOB;
    const out = wire.run((w, r) => w.placeLimit(r, T0 + i, user, BTCBCH, SIDE_ASK, 1_000_000 * (i + 1), 200_000_000 + (i % 3) * 1_000_000, 0, 0, 0, new Uint8Array()));
    ids.push(out.reply.orders[0]!.id);
  }

  const pending = wire.run((w, r) => w.queryPending(r, ALICE, BTCBCH, 1, 5));
  assert.equal(pending.head.op, Op.QUERY_PENDING);
  assert.equal(pending.head.user, ALICE);
  assert.equal(pending.reply.code, Code.OK);
  assert.equal(pending.reply.total, 3, 'ALICE has orders 0, 2 and 4');
  assert.deepEqual(pending.reply.orders.map((o) => o.id), [ids[2], ids[0]], 'newest first, after skipping one');
  assert.equal(pending.events.length, 0);

  const order = wire.run((w, r) => w.queryOrder(r, BTCBCH, ids[3]!));
  assert.equal(order.reply.code, Code.OK);
  assert.deepEqual(
    { id: order.reply.orders[0]?.id, user: order.reply.orders[0]?.user, amount: order.reply.orders[0]?.amount, ctime: order.reply.orders[0]?.ctime },
    { id: ids[3], user: BOB, amount: 4_000_000, ctime: T0 + 3 },
  );
  assert.equal(wire.run((w, r) => w.queryOrder(r, BTCBCH, 999_999)).reply.code, Code.ORDER_NOT_FOUND);
  assert.equal(wire.run((w, r) => w.queryOrder(r, BTCUSDT, ids[3]!)).reply.code, Code.ORDER_NOT_FOUND);

  // Asks by priority: price 2.00 (orders 0, 3), 2.01 (1, 4), 2.02 (2).
  const book = wire.run((w, r) => w.queryBook(r, BTCBCH, SIDE_ASK, 1, 3));
  assert.equal(book.reply.total, 5);
  assert.deepEqual(book.reply.orders.map((o) => o.id), [ids[3], ids[1], ids[4]]);
  assert.deepEqual(wire.run((w, r) => w.queryBook(r, BTCBCH, SIDE_BID, 0, 10)).reply, { code: Code.OK, total: 0, orders: [], summary: null });

  const summary = wire.run((w, r) => w.querySummary(r, BTCBCH));
  assert.equal(summary.head.op, Op.QUERY_SUMMARY);
  assert.deepEqual(summary.reply.summary, { askCount: 5, bidCount: 0, askAmount: 15_000_000n, bidAmount: 0n });

  for (const interval of [0, 1_000_000, 5_000_000]) {
    const d = wire.run((w, r) => w.queryDepth(r, BTCBCH, 10, interval));
    assert.equal(d.head.op, Op.QUERY_DEPTH);
    assert.equal(d.reply.code, Code.OK);
    assert.deepEqual(d.reply.depth, depth(wire.engine, BTCBCH, 10, interval), `interval ${interval}`);
  }

  for (const [name, write] of [
    ['pending', (w: CommandWriter, r: number) => w.queryPending(r, ALICE, BTCUSDT, 0, 10)],
    ['book', (w: CommandWriter, r: number) => w.queryBook(r, BTCUSDT, SIDE_ASK, 0, 10)],
    ['summary', (w: CommandWriter, r: number) => w.querySummary(r, BTCUSDT)],
    ['depth', (w: CommandWriter, r: number) => w.queryDepth(r, BTCUSDT, 10, 0)],
  ] as const) {
    const out = wire.run(write);
    assert.equal(out.reply.code, Code.UNKNOWN_MARKET, name);
    assert.equal(out.reply.summary, null, name);
  }
});

test('an unknown opcode is answered INVALID_ARGUMENT with its request id', () => {
  const ring = RingBuffer.allocate(1 << 12);
  const producer = new RingProducer(ring);
  const consumer = new RingConsumer(ring);
  const at = producer.tryClaim(COMMAND_HEAD.size);
  producer.view.setUint8(at + COMMAND_HEAD.at.op, 99);
  producer.view.setFloat64(at + COMMAND_HEAD.at.request, 12345, true);
  producer.publish();
  const sink = new BufferSink();
  consumer.poll((view, offset) => new ShardDispatcher(new Engine(config)).execute(view, offset, sink));
  const r = only(sink.records);
  assert.equal(readRequestId(sink.view, r), 12345);
  assert.equal(readReply(sink.view, r, sink.length - r).code, Code.INVALID_ARGUMENT);
});

test('a batch whose event strings exceed one record still delivers every event with its strings', () => {
  // 400 balance updates with ~200-byte details: ~82 KB of strings, more than one record of a 128 KB ring holds.
  const wire = new Wire(1 << 17, 1 << 17);
  const writes = Array.from({ length: 400 }, (_, i) => (w: CommandWriter, r: number) =>
    w.balanceUpdate(r, T0 + i, 1 + (i % 7), BCH, `dep-${i}`, i, BigInt(i + 1), `${i}:`.padEnd(100, '·').slice(0, 100)));
  const { results, events } = wire.batch(writes);
  assert.ok(results.every((r) => r.reply.code === Code.OK));
  assert.equal(events.length, 400);
  assert.ok(wire.eventRecords >= 2, `the events were split over ${wire.eventRecords} records`);
  events.forEach((e, i) => {
    assert.equal(e.kind, EventKind.BALANCE);
    const b = e;
    assert.deepEqual({ business: b.business, detail: b.detail, change: b.change, time: b.time }, {
      business: `dep-${i}`, detail: `${i}:`.padEnd(100, '·').slice(0, 100), change: BigInt(i + 1), time: T0 + i,
    });
  });
});

test('command records are written with the head and tail the layouts promise', () => {
  const ring = RingBuffer.allocate(1 << 12);
  const writer = new CommandWriter(new RingProducer(ring));
  const consumer = new RingConsumer(ring);
  assert.ok(writer.balanceUpdate(9, T0, ALICE, ETH, 'ab', 5, -7n, 'xyz'));
  consumer.available();
  const at = consumer.next();
  const v = consumer.view;
  const f = BALANCE_UPDATE.at;
  assert.equal(consumer.recordLength, commands.align8(BALANCE_UPDATE.size + 5));
  assert.deepEqual(
    [v.getUint16(at + f.asset, true), v.getUint16(at + f.businessBytes, true), v.getUint32(at + f.detailBytes, true), v.getFloat64(at + f.businessId, true), v.getBigInt64(at + f.change, true)],
    [ETH, 2, 3, 5, -7n],
  );
  assert.equal(new TextDecoder().decode(new Uint8Array(ring.data, at + BALANCE_UPDATE.size, 5)), 'abxyz');
});

// ---- the layout table ------------------------------------------------------------------------

const FIELD_BYTES: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, i32: 4, f64: 8, i64: 8 };

function isLayout(value: unknown): value is Layout<string> {
  return typeof value === 'object' && value !== null && 'at' in value && 'types' in value && 'size' in value;
}

/** Every layout a module exports, by name. */
function layoutsOf(module: Record<string, unknown>): [string, Layout<string>][] {
  return Object.entries(module).filter((entry): entry is [string, Layout<string>] => isLayout(entry[1]));
}

const wireLayouts = layoutsOf(commands);
const allLayouts = [...wireLayouts, ...layoutsOf(eventLayouts)];

test('the layout table covers every record type', () => {
  const names = wireLayouts.map(([name]) => name).sort();
  for (const expected of ['COMMAND_HEAD', 'PLACE_LIMIT', 'PLACE_MARKET', 'CANCEL', 'BALANCE_UPDATE', 'QUERY_PENDING', 'QUERY_ORDER', 'QUERY_BOOK', 'QUERY_SUMMARY', 'REPLY_HEAD', 'SUMMARY_BODY', 'EVENTS_HEAD']) {
    assert.ok(names.includes(expected), `${expected} is exported`);
  }
  assert.ok(allLayouts.some(([name]) => name === 'ORDER_RECORD'));
});

test('no layout has overlapping fields; every field is naturally aligned; sizes are multiples of 8', () => {
  for (const [name, layout] of allLayouts) {
    const entries = Object.keys(layout.at).map((field) => ({
      field, at: layout.at[field]!, bytes: FIELD_BYTES[layout.types[field]!],
    }));
    assert.ok(entries.length > 0, name);
    entries.sort((a, b) => a.at - b.at);
    let end = 0;
    for (const e of entries) {
      assert.ok(Number.isInteger(e.at) && e.at >= 0, `${name}.${e.field} offset`);
      assert.equal(e.at % e.bytes, 0, `${name}.${e.field} at ${e.at} is not aligned to its ${e.bytes} bytes`);
      assert.ok(e.at >= end, `${name}.${e.field} at ${e.at} overlaps the field before it (ends at ${end})`);
      end = e.at + e.bytes;
    }
    assert.ok(end <= layout.size, `${name}: fields end at ${end}, past the size ${layout.size}`);
    assert.equal(layout.size % 8, 0, `${name}: size ${layout.size} is not a multiple of 8`);
    assert.ok(layout.size - end < 8, `${name}: ${layout.size - end} bytes of padding at the end`);
    assert.ok(Object.isFrozen(layout) && Object.isFrozen(layout.at), `${name} is frozen`);
  }
});

test('every command starts with the command head, at the same offsets and types', () => {
  const commandLayouts = wireLayouts.filter(([name]) => name === 'PLACE_LIMIT' || name === 'PLACE_MARKET' || name === 'CANCEL' || name === 'BALANCE_UPDATE' || name.startsWith('QUERY_'));
  assert.ok(commandLayouts.length >= 8);
  for (const [name, layout] of commandLayouts) {
    for (const field of Object.keys(COMMAND_HEAD.at) as (keyof typeof COMMAND_HEAD.at)[]) {
      assert.equal(layout.at[field], COMMAND_HEAD.at[field], `${name}.${field}`);
      assert.equal(layout.types[field], COMMAND_HEAD.types[field], `${name}.${field}`);
    }
    assert.ok(layout.size >= COMMAND_HEAD.size, name);
  }
});

test('opcodes are distinct bytes; reply kinds are distinct', () => {
  const ops = Object.values(Op);
  assert.equal(new Set(ops).size, ops.length);
  assert.ok(ops.every((op) => Number.isInteger(op) && op > 0 && op < 256));
  assert.notEqual(ReplyKind.RESULT, ReplyKind.EVENTS);
  assert.equal(REPLY_HEAD.at.kind, 0, 'the router tells replies from events by the first byte');
  assert.equal(EVENTS_HEAD.at.kind, 0);
});
