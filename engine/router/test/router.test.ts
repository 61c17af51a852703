/**
 * The sharded engine end to end, through real shard workers: two shards with markets on known
 * shards (engine.assignment), deposits, limit orders that rest and cross, market orders, cancels,
 * pending orders of one market and merged across shards, order/book/summary queries, depth read
 * from the shared board right after an acknowledgement, events in order per shard, ids unique
 * across shards, balance.update idempotency, and a stop that drains what is in flight. Plus the
 * market → shard assignment's stability.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import type { Config, ConfigInput } from '../../../conf/schema.js';
import { SIDE_ASK, SIDE_BID, TYPE_LIMIT, TYPE_MARKET } from '../../book/order-columns.js';
import { Code } from '../../codes.js';
import { eventRecordSize, EventKind, OrderEvent, type BalanceRecord, type DealRecord, type EventRecord, type OrderEventRecord } from '../../core/events.js';
import type { OrderView } from '../../core/order-view.js';
import { dealMoney } from '../../money/specs.js';
import type { Depth, DepthLevel } from '../../queries.js';
import { assignShards } from '../assignment.js';
import { Router, type CommandReply } from '../router.js';
import {
  BCH, BTC, BTCBCH, COIN, ETH, ETHBCH, LOT, LTC, LTCBCH, T0, UNITS_PER_LOT, balanceOf, recordEvents, totalOf, twoShards,
  until, withRouter, WORKER_TEST,
} from './harness.js';

const FEE_ACCOUNT = 0;
/** Stock balance units in one whole BTC amount (LOT lots). */
const LOT_UNITS = BigInt(LOT) * UNITS_PER_LOT;

/** Runs a command, waits for the `count` events it causes, and returns both. */
async function run(log: EventRecord[], command: () => Promise<CommandReply>, count: number): Promise<{ reply: CommandReply; events: EventRecord[] }> {
  const from = log.length;
  const reply = await command();
  await until(() => log.length >= from + count, `${count} events`);
  assert.equal(log.length, from + count, 'no more events than expected');
  return { reply, events: log.slice(from) };
}

function ok(reply: CommandReply, what: string): OrderView {
  assert.equal(reply.code, Code.OK, what);
  assert.equal(reply.orders.length, 1, what);
  return reply.orders[0]!;
}

/** "DEAL" or "PUT"/"UPDATE"/"FINISH" with the order id, for comparing event sequences. */
function label(e: EventRecord): string {
  if (e.kind === EventKind.DEAL) return `DEAL ${e.askOrder}/${e.bidOrder}`;
  if (e.kind === EventKind.ORDER) return `${['', 'PUT', 'UPDATE', 'FINISH'][e.event]} ${e.order.id}`;
  return `BALANCE ${(e as BalanceRecord).user}`;
}

async function deposit(router: Router, user: number, assets: readonly number[], units: bigint, firstId: number): Promise<void> {
  for (const [i, asset] of assets.entries()) {
    const reply = await router.updateBalance(user, asset, 'deposit', firstId + i, units, 'initial', T0);
    assert.equal(reply.code, Code.OK, `deposit of ${user}`);
  }
}

// ---- assignment ------------------------------------------------------------------------------

const LTCBTC = { name: 'LTCBTC', stock: { name: 'LTC', prec: 8 }, money: { name: 'BTC', prec: 8 }, fee_prec: 4, min_amount: '0.001' };
const ETHBTC = { name: 'ETHBTC', stock: { name: 'ETH', prec: 8 }, money: { name: 'BTC', prec: 8 }, fee_prec: 4, min_amount: '0.001' };

function configWith(markets: ConfigInput['markets'], engine: NonNullable<ConfigInput['engine']> = {}): Readonly<Config> {
  return validateConfig({ ...defaultConfig, markets, engine: { shards: 4, ...engine } });
}

function shardsByName(config: Readonly<Config>): Map<string, number> {
  const shards = assignShards(config);
  return new Map(config.markets.map((m, i) => [m.name, shards[i]!]));
}

test('assignment: same config, same shards; explicit entries win; adding or removing markets moves no other', () => {
  const base = configWith(defaultConfig.markets);
  const shards = assignShards(base);
  assert.deepEqual(shards, assignShards(configWith(defaultConfig.markets)), 'a fresh copy of the config assigns the same');
  assert.equal(shards.length, base.markets.length);
  assert.ok(shards.every((s) => Number.isInteger(s) && s >= 0 && s < 4));

  const target = (shards[LTCBCH]! + 1) % 4;
  const explicit = assignShards(configWith(defaultConfig.markets, { assignment: { LTCBCH: target } }));
  assert.equal(explicit[LTCBCH], target, 'the explicit entry wins');
  assert.deepEqual(explicit.filter((_, i) => i !== LTCBCH), shards.filter((_, i) => i !== LTCBCH), 'and moves nothing else');

  const before = shardsByName(base);
  const grown = shardsByName(configWith([LTCBTC, ...defaultConfig.markets, ETHBTC]));
  const shrunk = shardsByName(configWith(defaultConfig.markets.filter((m) => m.name !== 'LTCBCH')));
  for (const [name, shard] of before) {
    assert.equal(grown.get(name), shard, `${name} stays put when markets are added (even in front of it)`);
    if (name !== 'LTCBCH') assert.equal(shrunk.get(name), shard, `${name} stays put when a market is removed`);
  }

  // The hash spreads markets: 32 markets over 4 shards use every shard.
  const many = Array.from({ length: 32 }, (_, i) => ({ ...LTCBTC, name: `M${i}BTC` }));
  assert.equal(new Set(assignShards(configWith(many))).size, 4);
  // One shard: everything on shard 0.
  assert.deepEqual(assignShards(configWith(many, { shards: 1 })), many.map(() => 0));
});

// ---- end to end ------------------------------------------------------------------------------

test('limit orders rest and cross, market orders trade, events arrive in order per shard, money is conserved', WORKER_TEST, async () => {
  await withRouter(twoShards(), async (router) => {
    assert.deepEqual(router.shardOfMarket, [0, 1, 1, 0]);
    assert.deepEqual(router.shardOfMarket, assignShards(router.config));
    assert.ok(router.running);
    const log = recordEvents(router);
    const A = 101;
    const B = 102;
    const C = 103;
    for (const [i, user] of [A, B, C].entries()) await deposit(router, user, [BCH, BTC, LTC], 100n * COIN, 10 * i);
    await until(() => log.length === 9, 'the deposits’ events');
    assert.ok(log.every((e): boolean => e.kind === EventKind.BALANCE));
    const first = log[0] as BalanceRecord;
    assert.deepEqual({ user: first.user, asset: first.asset, change: first.change, business: first.business, detail: first.detail }, {
      user: A, asset: BCH, change: 100n * COIN, business: 'deposit', detail: 'initial',
    });
    assert.deepEqual(balanceOf(router, B, LTC), { available: 100n * COIN, frozen: 0n });

    // Two asks rest on BTCBCH (shard 0).
    const ask1 = await run(log, () => router.placeLimit(A, BTCBCH, SIDE_ASK, 2 * LOT, 3 * LOT, 10, 5, 'web', T0 + 1), 1);
    const a1 = ok(ask1.reply, 'ask 1');
    assert.deepEqual(
      { type: a1.type, side: a1.side, user: a1.user, market: a1.market, amount: a1.amount, left: a1.left, price: a1.price, ctime: a1.ctime, freeze: a1.freeze },
      { type: TYPE_LIMIT, side: SIDE_ASK, user: A, market: BTCBCH, amount: 2 * LOT, left: 2 * LOT, price: 3 * LOT, ctime: T0 + 1, freeze: 2n * LOT_UNITS },
    );
    assert.equal(router.sourceName(a1.source), 'web');
    assert.deepEqual(ask1.events.map(label), [`PUT ${a1.id}`]);
    assert.deepEqual(balanceOf(router, A, BTC), { available: 98n * COIN, frozen: 2n * COIN });
    const a2 = ok((await run(log, () => router.placeLimit(A, BTCBCH, SIDE_ASK, LOT, 310_000_000, 10, 5, 'web', T0 + 2), 1)).reply, 'ask 2');

    // A bid sweeps the first level and part of the second: DEAL, maker FINISH, DEAL, maker UPDATE, taker FINISH.
    const bid = await run(log, () => router.placeLimit(B, BTCBCH, SIDE_BID, 250_000_000, 310_000_000, 20, 0, 'api', T0 + 3), 5);
    const b = ok(bid.reply, 'bid');
    assert.deepEqual(bid.events.map(label), [
      `DEAL ${a1.id}/${b.id}`, `FINISH ${a1.id}`, `DEAL ${a2.id}/${b.id}`, `UPDATE ${a2.id}`, `FINISH ${b.id}`,
    ]);
    const [deal1, deal2] = [bid.events[0] as DealRecord, bid.events[2] as DealRecord];
    assert.deepEqual(
      { price: deal1.price, amount: deal1.amount, takerSide: deal1.takerSide, askUser: deal1.askUser, bidUser: deal1.bidUser, time: deal1.time, market: deal1.market },
      { price: 3 * LOT, amount: 2 * LOT, takerSide: SIDE_BID, askUser: A, bidUser: B, time: T0 + 3, market: BTCBCH },
    );
    assert.deepEqual({ price: deal2.price, amount: deal2.amount }, { price: 310_000_000, amount: 50_000_000 });
    assert.deepEqual({ left: b.left, dealStock: b.dealStock, freeze: b.freeze }, { left: 0, dealStock: 250_000_000, freeze: 0n });
    assert.equal((bid.events[3] as OrderEventRecord).order.left, 50_000_000);
    assert.equal(balanceOf(router, B, BCH).frozen, 0n, 'the bid’s price improvement went back to available');

    // On LTCBCH (shard 1): a resting bid, then a market ask into it.
    const restingBid = ok((await run(log, () => router.placeLimit(C, LTCBCH, SIDE_BID, 5 * LOT, 50_000_000, 0, 10, '', T0 + 4), 1)).reply, 'LTC bid');
    const sell = await run(log, () => router.placeMarket(A, LTCBCH, SIDE_ASK, 2 * LOT, 20, 'bot', T0 + 5), 3);
    const s = ok(sell.reply, 'market ask');
    assert.deepEqual(sell.events.map(label), [`DEAL ${s.id}/${restingBid.id}`, `UPDATE ${restingBid.id}`, `FINISH ${s.id}`]);
    assert.deepEqual({ type: s.type, left: s.left, dealStock: s.dealStock, market: s.market }, { type: TYPE_MARKET, left: 0, dealStock: 2 * LOT, market: LTCBCH });
    assert.equal(router.sourceName(s.source), 'bot');

    // A market bid spends 1 BCH on what is left of ask 2 (0.5 BTC at 3.1): 0.32258064 BTC.
    const buy = await run(log, () => router.placeMarket(C, BTCBCH, SIDE_BID, LOT, 0, '', T0 + 6), 3);
    const m = ok(buy.reply, 'market bid');
    const spec = router.specs.markets[BTCBCH]!;
    assert.deepEqual({ dealStock: m.dealStock, dealMoney: m.dealMoney, amountMoney: m.amountMoney }, {
      dealStock: 32_258_064, dealMoney: dealMoney(spec, 310_000_000, 32_258_064), amountMoney: COIN,
    });
    assert.deepEqual(buy.events.map(label), [`DEAL ${a2.id}/${m.id}`, `UPDATE ${a2.id}`, `FINISH ${m.id}`]);

    // No counterparty: an error code and no event.
    const none = await run(log, () => router.placeMarket(B, LTCBCH, SIDE_BID, LOT, 0, '', T0 + 7), 0);
    assert.deepEqual({ code: none.reply.code, orders: none.reply.orders.length }, { code: Code.NO_ENOUGH_TRADER, orders: 0 });
    assert.equal((await router.placeLimit(A, 99, SIDE_ASK, LOT, LOT, 0, 0, '', T0)).code, Code.UNKNOWN_MARKET);

    // Per shard, deal ids increase in delivery order, and each order's events go PUT → UPDATE… → FINISH.
    for (const shard of [0, 1]) {
      const deals = log.filter((e): e is DealRecord => e.kind === EventKind.DEAL && router.shardOfMarket[e.market] === shard).map((e) => e.id);
      assert.ok(deals.length > 0);
      assert.deepEqual(deals, [...deals].sort((x, y) => x - y));
    }
    const lastEvent = new Map<number, number>();
    for (const e of log) {
      if (e.kind !== EventKind.ORDER) continue;
      const previous = lastEvent.get(e.order.id);
      assert.ok(previous !== OrderEvent.FINISH, `order ${e.order.id} has an event after FINISH`);
      if (e.event === OrderEvent.PUT) assert.equal(previous, undefined, 'PUT comes first');
      lastEvent.set(e.order.id, e.event);
    }

    // Conservation: every unit deposited is somewhere, fees included; the fee account holds exactly the fees.
    for (const asset of [BCH, BTC, LTC]) {
      assert.equal(totalOf(router, asset), 300n * COIN, `asset ${asset}`);
      assert.equal(router.balances.supply[asset], 300n * COIN);
    }
    const deals = log.filter((e): e is DealRecord => e.kind === EventKind.DEAL);
    assert.equal(balanceOf(router, FEE_ACCOUNT, BCH).available, deals.reduce((n, d) => n + d.askFee, 0n));
    assert.equal(balanceOf(router, FEE_ACCOUNT, BTC).available + balanceOf(router, FEE_ACCOUNT, LTC).available, deals.reduce((n, d) => n + d.bidFee, 0n));
  });
});

test('cancel: own order, another user’s (USER_NOT_MATCH), unknown ids (ORDER_NOT_FOUND), on both shards', WORKER_TEST, async () => {
  await withRouter(twoShards(), async (router) => {
    const log = recordEvents(router);
    const A = 301;
    const B = 302;
    await deposit(router, A, [BCH, BTC], 10n * COIN, 1);
    await deposit(router, B, [BCH], 10n * COIN, 1);
    const bid = ok(await router.placeLimit(A, LTCBCH, SIDE_BID, LOT, 50_000_000, 0, 0, '', T0), 'bid on shard 1');
    const ask = ok(await router.placeLimit(A, BTCBCH, SIDE_ASK, LOT, 4 * LOT, 0, 0, '', T0), 'ask on shard 0');
    const frozenBch = (BigInt(LOT) * 50_000_000n) / UNITS_PER_LOT;
    assert.deepEqual(balanceOf(router, A, BCH), { available: 10n * COIN - frozenBch, frozen: frozenBch });

    assert.equal((await router.cancel(B, LTCBCH, bid.id, T0 + 1)).code, Code.USER_NOT_MATCH);
    assert.equal((await router.cancel(B, BTCBCH, ask.id, T0 + 1)).code, Code.USER_NOT_MATCH);
    assert.equal((await router.cancel(A, LTCBCH, bid.id + 100_000, T0 + 1)).code, Code.ORDER_NOT_FOUND);
    assert.equal((await router.cancel(A, BTCBCH, bid.id, T0 + 1)).code, Code.ORDER_NOT_FOUND, 'the id lives in the other shard’s market');
    assert.equal((await router.cancel(A, 99, bid.id, T0 + 1)).code, Code.UNKNOWN_MARKET);
    assert.deepEqual(balanceOf(router, A, BCH).frozen, frozenBch, 'failed cancels change nothing');

    const from = log.length;
    const cancelled = ok(await router.cancel(A, LTCBCH, bid.id, T0 + 2), 'own cancel');
    assert.deepEqual({ id: cancelled.id, left: cancelled.left, freeze: cancelled.freeze, user: cancelled.user }, { id: bid.id, left: LOT, freeze: 0n, user: A });
    await until(() => log.length > from, 'the cancel’s event');
    assert.deepEqual(log.slice(from).map(label), [`FINISH ${bid.id}`]);
    assert.deepEqual(balanceOf(router, A, BCH), { available: 10n * COIN, frozen: 0n });
    assert.equal((await router.cancel(A, LTCBCH, bid.id, T0 + 3)).code, Code.ORDER_NOT_FOUND, 'a second cancel');
    assert.equal((await router.order(LTCBCH, bid.id)).code, Code.ORDER_NOT_FOUND);

    ok(await router.cancel(A, BTCBCH, ask.id, T0 + 3), 'cancel on shard 0');
    assert.deepEqual(balanceOf(router, A, BTC), { available: 10n * COIN, frozen: 0n });
  });
});

test('pending: one market newest first; pendingAcross merges both shards newest first with the right total', WORKER_TEST, async () => {
  await withRouter(twoShards(), async (router) => {
    const D = 401;
    const E = 402;
    await deposit(router, D, [BCH], 10n * COIN, 1);
    await deposit(router, E, [BCH], 10n * COIN, 1);
    // D alternates between BTCBCH (shard 0) and LTCBCH (shard 1); E's orders must not show up.
    const placed: OrderView[] = [];
    for (let i = 0; i < 6; i++) {
      const market = i % 2 === 0 ? BTCBCH : LTCBCH;
      placed.push(ok(await router.placeLimit(D, market, SIDE_BID, (i + 1) * 1_000_000, 10_000_000 + i * 1000, 0, 0, '', T0 + 100 + i), `order ${i}`));
      ok(await router.placeLimit(E, market, SIDE_BID, 1_000_000, 10_000_000, 0, 0, '', T0 + 100 + i), `E's order ${i}`);
    }
    const ids = (r: CommandReply): number[] => r.orders.map((o) => o.id);
    const p = placed.map((o) => o.id);

    const btc = await router.pending(D, BTCBCH, 0, 10);
    assert.deepEqual({ code: btc.code, total: btc.total, ids: ids(btc) }, { code: Code.OK, total: 3, ids: [p[4], p[2], p[0]] });
    const ltc = await router.pending(D, LTCBCH, 1, 10);
    assert.deepEqual({ total: ltc.total, ids: ids(ltc) }, { total: 3, ids: [p[3], p[1]] });
    assert.deepEqual(ltc.orders[0]?.amount, 4_000_000);

    const all = await router.pendingAcross(D, [BTCBCH, LTCBCH], 0, 10);
    assert.deepEqual({ code: all.code, total: all.total, ids: ids(all) }, { code: Code.OK, total: 6, ids: [p[5], p[4], p[3], p[2], p[1], p[0]] });
    assert.deepEqual(all.orders.map((o) => o.ctime), [105, 104, 103, 102, 101, 100].map((t) => T0 + t), 'newest first');
    const page = await router.pendingAcross(D, [BTCBCH, LTCBCH], 1, 3);
    assert.deepEqual({ total: page.total, ids: ids(page) }, { total: 6, ids: [p[4], p[3], p[2]] });
    const tail = await router.pendingAcross(D, [LTCBCH, BTCBCH], 5, 10);
    assert.deepEqual({ total: tail.total, ids: ids(tail) }, { total: 6, ids: [p[0]] });
    const one = await router.pendingAcross(D, [LTCBCH], 0, 2);
    assert.deepEqual({ total: one.total, ids: ids(one) }, { total: 3, ids: [p[5], p[3]] });
    const nobody = await router.pendingAcross(999, [BTCBCH, LTCBCH], 0, 10);
    assert.deepEqual({ code: nobody.code, total: nobody.total, orders: nobody.orders.length }, { code: Code.OK, total: 0, orders: 0 });
    assert.equal((await router.pendingAcross(D, [BTCBCH, 99], 0, 10)).code, Code.UNKNOWN_MARKET);
  });
});

/** Depth as order.depth defines it, from the book's orders (the reference the board is checked against). */
function referenceDepth(orders: readonly OrderView[], side: number, limit: number, interval: number): DepthLevel[] {
  const out: { price: number; amount: bigint }[] = [];
  for (const o of orders) {
    let price = o.price;
    if (interval > 0 && price % interval !== 0) price = side === SIDE_ASK ? price - (price % interval) + interval : price - (price % interval);
    const last = out[out.length - 1];
    if (last !== undefined && last.price === price) last.amount += BigInt(o.left);
    else out.push({ price, amount: BigInt(o.left) });
  }
  return out.slice(0, limit);
}

async function bookDepth(router: Router, market: number, limit: number, interval: number): Promise<Depth> {
  const asks = await router.book(market, SIDE_ASK, 0, 1000);
  const bids = await router.book(market, SIDE_BID, 0, 1000);
  return { asks: referenceDepth(asks.orders, SIDE_ASK, limit, interval), bids: referenceDepth(bids.orders, SIDE_BID, limit, interval) };
}

test('order, book, summary; depth from the board is fresh right after the ack, merged and across shards', WORKER_TEST, async () => {
  await withRouter(twoShards(), async (router) => {
    const A = 501;
    const B = 502;
    await deposit(router, A, [BCH, BTC, LTC, ETH], 100n * COIN, 1);
    await deposit(router, B, [BCH, BTC, LTC, ETH], 100n * COIN, 1);
    const orders: [number, number, number, number, number][] = [ // user, market, side, amount, price
      [A, BTCBCH, SIDE_ASK, 1_000_000, 200_000_000], [B, BTCBCH, SIDE_ASK, 2_000_000, 201_000_000], [A, BTCBCH, SIDE_ASK, 3_000_000, 201_000_000],
      [B, BTCBCH, SIDE_ASK, 4_000_000, 207_000_000], [A, BTCBCH, SIDE_BID, 5_000_000, 190_000_000], [B, BTCBCH, SIDE_BID, 6_000_000, 194_000_000],
      [A, LTCBCH, SIDE_ASK, 7_000_000, 50_000_000], [B, LTCBCH, SIDE_BID, 8_000_000, 40_000_000], [A, LTCBCH, SIDE_BID, 9_000_000, 40_000_000],
    ];
    const placed: OrderView[] = [];
    for (const [i, [user, market, side, amount, price]] of orders.entries()) {
      const order = ok(await router.placeLimit(user, market, side, amount, price, 0, 0, '', T0 + i), `order ${i}`);
      placed.push(order);
      // Freshness: the acknowledged order is already in the published depth (no waiting).
      const d = router.depth(market, 50, 0);
      assert.ok(d !== null);
      const level = (side === SIDE_ASK ? d.asks : d.bids).find((l) => l.price === price);
      const expected = orders.slice(0, i + 1).filter((o) => o[1] === market && o[2] === side && o[4] === price).reduce((n, o) => n + BigInt(o[3]), 0n);
      assert.deepEqual(level, { price, amount: expected }, `order ${i} is visible in the depth as soon as it is acknowledged`);
    }

    // The board agrees with the books, plain and merged, on both shards.
    for (const market of [BTCBCH, LTCBCH]) {
      for (const [limit, interval] of [[50, 0], [2, 0], [50, 1_000_000], [50, 5_000_000], [1, 10_000_000], [50, 100 * LOT]]) {
        assert.deepEqual(router.depth(market, limit!, interval!), await bookDepth(router, market, limit!, interval!), `market ${market} limit ${limit} interval ${interval}`);
      }
    }
    assert.deepEqual(router.depth(BTCBCH, 10, 5_000_000), {
      asks: [{ price: 200_000_000, amount: 1_000_000n }, { price: 205_000_000, amount: 5_000_000n }, { price: 210_000_000, amount: 4_000_000n }],
      bids: [{ price: 190_000_000, amount: 11_000_000n }],
    });
    assert.deepEqual(router.depth(ETHBCH, 10, 0), { asks: [], bids: [] });
    assert.equal(router.depth(99, 10, 0), null);

    // order(): every field of a pending order; an unknown id.
    const o = await router.order(BTCBCH, placed[2]!.id);
    assert.equal(o.code, Code.OK);
    assert.deepEqual({ ...o.orders[0]! }, { ...placed[2]! });
    assert.equal((await router.order(BTCBCH, placed[7]!.id)).code, Code.ORDER_NOT_FOUND, 'an id from the other shard’s market');

    // book(): priority order (price, then time), pages, totals.
    const asks = await router.book(BTCBCH, SIDE_ASK, 0, 10);
    assert.deepEqual({ total: asks.total, ids: asks.orders.map((x) => x.id) }, { total: 4, ids: [placed[0]!.id, placed[1]!.id, placed[2]!.id, placed[3]!.id] });
    const page = await router.book(BTCBCH, SIDE_ASK, 2, 1);
    assert.deepEqual(page.orders.map((x) => x.id), [placed[2]!.id]);
    const ltcBids = await router.book(LTCBCH, SIDE_BID, 0, 10);
    assert.deepEqual(ltcBids.orders.map((x) => x.id), [placed[7]!.id, placed[8]!.id]);

    // summary(): counts and amounts per side.
    assert.deepEqual((await router.summary(BTCBCH)).summary, { askCount: 4, bidCount: 2, askAmount: 10_000_000n, bidAmount: 11_000_000n });
    assert.deepEqual((await router.summary(LTCBCH)).summary, { askCount: 1, bidCount: 2, askAmount: 7_000_000n, bidAmount: 17_000_000n });
    assert.equal((await router.summary(99)).code, Code.UNKNOWN_MARKET);

    // A trade and a cancel show in the depth as soon as they are acknowledged.
    ok(await router.placeLimit(B, BTCBCH, SIDE_BID, 1_500_000, 201_000_000, 0, 0, '', T0 + 20), 'crossing bid');
    assert.deepEqual(router.depth(BTCBCH, 2, 0)?.asks, [{ price: 201_000_000, amount: 4_500_000n }, { price: 207_000_000, amount: 4_000_000n }]);
    ok(await router.cancel(B, BTCBCH, placed[3]!.id, T0 + 21), 'cancel');
    assert.deepEqual(router.depth(BTCBCH, 10, 0)?.asks, [{ price: 201_000_000, amount: 4_500_000n }]);

    // A book deeper than the board (16 levels): short reads come from the board, long ones from the shard.
    for (let i = 0; i < 20; i++) ok(await router.placeLimit(A, ETHBCH, SIDE_ASK, 1_000_000, 100_000_000 + i * 10_000, 0, 0, '', T0 + 30 + i), `ETH ask ${i}`);
    assert.equal(router.depth(ETHBCH, 20, 0), null, 'the board cannot prove 20 levels');
    const board = router.fullDepth(ETHBCH, 10, 0);
    assert.ok(!(board instanceof Promise), '10 levels come straight from the board');
    assert.deepEqual(board, await bookDepth(router, ETHBCH, 10, 0));
    const deep = await router.fullDepth(ETHBCH, 20, 0);
    assert.equal(deep.asks.length, 20);
    assert.deepEqual(deep, await bookDepth(router, ETHBCH, 20, 0));
    assert.deepEqual(await router.fullDepth(ETHBCH, 50, 50_000), await bookDepth(router, ETHBCH, 50, 50_000));
  });
});

test('order and deal ids are unique across shards and increase per market', WORKER_TEST, async () => {
  await withRouter(twoShards(), async (router) => {
    const log = recordEvents(router);
    // The same batches undecoded: their record kinds, in order, must be the decoded records' kinds.
    const rawKinds: number[] = [];
    router.onEventRecords((records) => {
      for (let at = 0; at < records.length; at += eventRecordSize(records, at)) if (records[at] !== EventKind.DELTA) rawKinds.push(records[at]!);
    });
    const users = [601, 602, 603, 604];
    for (const user of users) await deposit(router, user, [BCH, BTC, LTC, ETH], 100n * COIN, 1);
    const markets = [BTCBCH, LTCBCH, ETHBCH];
    // Sent without waiting, so that both shards work at once; each market's commands keep their order.
    const sent: { market: number; reply: Promise<CommandReply> }[] = [];
    for (let i = 0; i < 120; i++) {
      const market = markets[i % 3]!;
      const user = users[i % 4]!;
      const side = (i >> 2) % 2 === 0 ? SIDE_ASK : SIDE_BID;
      const price = 100_000_000 + ((i * 7) % 5) * 1_000_000 * (side === SIDE_ASK ? 1 : -1);
      sent.push({ market, reply: router.placeLimit(user, market, side, 1_000_000 + (i % 3) * 100_000, price, 10, 10, '', T0 + i) });
    }
    const replies = await Promise.all(sent.map((s) => s.reply));
    const ids = replies.map((r) => ok(r, 'place').id);
    assert.equal(new Set(ids).size, ids.length, 'order ids are unique across shards');
    for (const market of markets) {
      const own = ids.filter((_, i) => sent[i]!.market === market);
      assert.deepEqual(own, [...own].sort((x, y) => x - y), `ids of market ${market} increase in arrival order`);
    }
    await until(() => log.filter((e) => e.kind === EventKind.ORDER).length >= 120, 'the order events');
    const deals = log.filter((e): e is DealRecord => e.kind === EventKind.DEAL);
    assert.ok(new Set(deals.map((d) => router.shardOfMarket[d.market])).size === 2, 'orders crossed on both shards');
    const dealIds = deals.map((d) => d.id);
    assert.equal(new Set(dealIds).size, dealIds.length, 'deal ids are unique across shards');
    assert.deepEqual(rawKinds, log.map((e) => e.kind), 'onEventRecords sees the records onEvents decodes');
  });
});

test('a repeated balance.update business id is refused, on both shards, also when sent concurrently', WORKER_TEST, async () => {
  await withRouter(twoShards(), async (router) => {
    for (const user of [701, 702]) { // one per shard (updates are routed by user id)
      assert.equal((await router.updateBalance(user, BCH, 'deposit', 5, COIN, 'first', T0)).code, Code.OK);
      assert.equal((await router.updateBalance(user, BCH, 'deposit', 5, 2n * COIN, 'again', T0 + 1)).code, Code.REPEAT_UPDATE);
      assert.deepEqual(balanceOf(router, user, BCH), { available: COIN, frozen: 0n }, 'the repeat changed nothing');
      assert.equal((await router.updateBalance(user, BCH, 'withdraw', 5, -COIN / 2n, '', T0 + 2)).code, Code.OK, 'another business');
      assert.equal((await router.updateBalance(user, BTC, 'deposit', 5, COIN, '', T0 + 3)).code, Code.OK, 'another asset');
      assert.equal((await router.updateBalance(user + 10, BCH, 'deposit', 5, COIN, '', T0 + 4)).code, Code.OK, 'another user');
      const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => router.updateBalance(user, LTC, 'deposit', 9, COIN, '', T0 + 10 + i)));
      assert.deepEqual(burst.map((r) => r.code).sort(), [Code.OK, ...Array.from({ length: 9 }, () => Code.REPEAT_UPDATE)].sort(), 'exactly one applies');
      assert.deepEqual(balanceOf(router, user, LTC), { available: COIN, frozen: 0n });
    }
    assert.equal(router.balances.supply[BCH], 4n * COIN - COIN);
    assert.equal(router.balances.supply[LTC], 2n * COIN);
  });
});

test('stop() answers everything in flight first; afterwards every command gets ENGINE_STOPPED', WORKER_TEST, async () => {
  const router = await Router.start(twoShards());
  try {
    const users = [801, 802, 803];
    for (const user of users) await deposit(router, user, [BCH, BTC, LTC], 100n * COIN, 1);
    const inFlight: Promise<CommandReply>[] = [];
    for (let i = 0; i < 300; i++) {
      const user = users[i % 3]!;
      const market = i % 2 === 0 ? BTCBCH : LTCBCH;
      const side = i % 4 < 2 ? SIDE_ASK : SIDE_BID;
      switch (i % 5) {
        case 0: inFlight.push(router.placeMarket(user, market, side, 1_000_000, 0, '', T0 + i)); break;
        case 1: inFlight.push(router.pending(user, market, 0, 10)); break;
        case 2: inFlight.push(router.updateBalance(user, BCH, 'deposit', 1000 + i, COIN, '', T0 + i)); break;
        default: inFlight.push(router.placeLimit(user, market, side, 1_000_000, 100_000_000 + (i % 7) * 100_000, 0, 0, '', T0 + i));
      }
    }
    const stopping = router.stop();
    assert.equal(router.running, false);
    assert.equal((await router.placeLimit(801, BTCBCH, SIDE_ASK, LOT, LOT, 0, 0, '', T0)).code, Code.ENGINE_STOPPED, 'refused while stopping');
    await stopping;
    const codes = (await Promise.all(inFlight)).map((r) => r.code);
    assert.equal(codes.length, 300);
    assert.ok(codes.every((c) => c !== Code.ENGINE_STOPPED && c !== Code.BUSY), `every command in flight was executed: ${[...new Set(codes)].join(',')}`);
    assert.ok(codes.filter((c) => c === Code.OK).length > 200);

    const after = await Promise.all([
      router.placeLimit(801, BTCBCH, SIDE_ASK, LOT, LOT, 0, 0, '', T0),
      router.placeMarket(801, LTCBCH, SIDE_BID, LOT, 0, '', T0),
      router.cancel(801, BTCBCH, 1, T0),
      router.updateBalance(801, BCH, 'deposit', 99_999, COIN, '', T0),
      router.pending(801, BTCBCH, 0, 10),
      router.pendingAcross(801, [BTCBCH, LTCBCH], 0, 10),
      router.order(BTCBCH, 1),
      router.book(BTCBCH, SIDE_ASK, 0, 10),
      router.summary(LTCBCH),
      router.placeLimit(801, 99, SIDE_ASK, LOT, LOT, 0, 0, '', T0),
    ]);
    assert.deepEqual(after.map((r) => r.code), after.map(() => Code.ENGINE_STOPPED));
    assert.equal(router.error, null, 'a clean stop is not a failure');
    for (const asset of [BCH, BTC, LTC]) assert.equal(totalOf(router, asset), router.balances.supply[asset]);
    await router.stop(); // a second stop is harmless
  } finally {
    await router.stop();
  }
});
