/**
 * Back-pressure and failure. With the smallest rings (engine.ring_bytes 4096) a flood of commands
 * sent without waiting fills a shard's command ring: the excess is answered BUSY at once, nothing
 * is lost (every promise resolves, OK + BUSY + business errors = sent, money is conserved), and
 * commands succeed again once the flood is over. Records that cannot fit a small ring (a long
 * page, a long balance.update detail) are answered without taking the shard down. A shard that
 * dies makes the router fail cleanly: running false, error set, pending and new requests answered
 * ENGINE_STOPPED, and stop() still completes — also when the shard dies during stop().
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIDE_ASK, SIDE_BID } from '../../book/order-columns.js';
import { Code, type CodeValue } from '../../codes.js';
import { Router, type CommandReply } from '../router.js';
import {
  BCH, BTC, BTCBCH, COIN, LOT, LTC, LTCBCH, Rng, T0, balanceOf, negativeCell, totalOf, twoShards, until, withRouter, WORKER_TEST,
} from './harness.js';

const TINY = twoShards({ ring_bytes: 4096 });
const USERS = [11, 12, 13, 14, 15, 16, 17, 18];

async function fund(router: Router, assets: readonly number[], units: bigint): Promise<Map<number, bigint>> {
  const supply = new Map<number, bigint>();
  let id = 1;
  for (const user of USERS) {
    for (const asset of assets) {
      assert.equal((await router.updateBalance(user, asset, 'deposit', id++, units, '', T0)).code, Code.OK);
      supply.set(asset, (supply.get(asset) ?? 0n) + units);
    }
  }
  return supply;
}

/** One random command on `market`: limit orders around 1.0 that often cross, market orders, cancels, small pages. */
function randomCommand(router: Router, rng: Rng, market: number, i: number): Promise<CommandReply> {
  const user = rng.pick(USERS);
  const side = rng.below(2) === 0 ? SIDE_ASK : SIDE_BID;
  const roll = rng.below(10);
  if (roll < 6) return router.placeLimit(user, market, side, rng.between(1, 5) * 1_000_000, LOT + rng.between(-3, 3) * 1_000_000, 10, 5, '', T0 + i);
  if (roll < 8) return router.placeMarket(user, market, side, rng.between(1, 5) * 1_000_000, 10, '', T0 + i);
  if (roll < 9) return router.cancel(user, market, 1 + rng.below(3000), T0 + i);
  return router.pending(user, market, 0, 5);
}

test('a flood on a 4 KB ring: the excess is BUSY, nothing is lost, money is conserved, then commands succeed again', WORKER_TEST, async () => {
  await withRouter(TINY, async (router) => {
    const supply = await fund(router, [BCH, BTC], 1_000n * COIN);
    const rng = new Rng(7);
    const sent = 3000;
    const replies: Promise<CommandReply>[] = [];
    for (let i = 0; i < sent; i++) replies.push(randomCommand(router, rng, BTCBCH, i)); // never waits: one shard, flooded
    assert.equal(negativeCell(router), null);
    const codes = (await Promise.all(replies)).map((r) => r.code);

    const tally = new Map<CodeValue, number>();
    for (const code of codes) tally.set(code, (tally.get(code) ?? 0) + 1);
    const summary = JSON.stringify(Object.fromEntries(tally));
    const busy = tally.get(Code.BUSY) ?? 0;
    const okCount = tally.get(Code.OK) ?? 0;
    const business = [Code.BALANCE_NOT_ENOUGH, Code.NO_ENOUGH_TRADER, Code.ORDER_NOT_FOUND, Code.USER_NOT_MATCH, Code.AMOUNT_TOO_SMALL]
      .reduce((n, code) => n + (tally.get(code) ?? 0), 0);
    assert.equal(codes.length, sent, 'every promise resolved');
    assert.equal(okCount + busy + business, sent, `only OK, BUSY and business errors: ${summary}`);
    assert.ok(busy > 0, `a 4 KB ring cannot take ${sent} commands at once: ${summary}`);
    assert.ok(busy < sent && okCount > 0, `the shard executed what fitted: ${summary}`);
    assert.ok(router.running);

    for (const [asset, units] of supply) {
      assert.equal(totalOf(router, asset), units, `asset ${asset} conserved`);
      assert.equal(router.balances.supply[asset], units);
    }
    // Frozen funds are exactly what the resting orders hold.
    const spec = router.specs.markets[BTCBCH]!;
    for (const user of USERS) {
      const frozen = new Map<number, bigint>([[BCH, 0n], [BTC, 0n]]);
      for (let offset = 0; ; offset += 10) {
        const page = await router.pending(user, BTCBCH, offset, 10);
        assert.equal(page.code, Code.OK);
        for (const o of page.orders) {
          const asset = o.side === SIDE_ASK ? spec.stock.index : spec.money.index;
          frozen.set(asset, frozen.get(asset)! + o.freeze);
        }
        if (offset + 10 >= page.total) break;
      }
      for (const [asset, units] of frozen) assert.equal(balanceOf(router, user, asset).frozen, units, `user ${user} asset ${asset}`);
    }

    // The flood is over: commands go through again, on both shards.
    const after = await router.placeLimit(USERS[0]!, BTCBCH, SIDE_ASK, 1_000_000, 50 * LOT, 0, 0, '', T0 + sent);
    assert.equal(after.code, Code.OK);
    assert.equal((await router.cancel(USERS[0]!, BTCBCH, after.orders[0]!.id, T0 + sent + 1)).code, Code.OK);
    assert.equal((await router.updateBalance(USERS[1]!, LTC, 'deposit', 99, COIN, '', T0)).code, Code.OK);
    assert.equal((await router.pending(USERS[1]!, LTCBCH, 0, 10)).code, Code.OK);
  });
});

test('a flood of balance updates with long details on a 4 KB ring keeps the shard alive and loses nothing', WORKER_TEST, async () => {
  await withRouter(TINY, async (router) => {
    const detail = '{"memo":"' + 'ü'.repeat(20) + '"}'; // 51 UTF-8 bytes
    const replies: Promise<CommandReply>[] = [];
    for (let i = 0; i < 1000; i++) replies.push(router.updateBalance(USERS[i % 2]!, BCH, 'deposit', i, COIN, detail, T0 + i));
    const codes = (await Promise.all(replies)).map((r) => r.code);
    assert.ok(router.running, `the shard survived: ${String(router.error)}`);
    const ok = codes.filter((c) => c === Code.OK).length;
    assert.equal(ok + codes.filter((c) => c === Code.BUSY).length, codes.length);
    assert.ok(ok > 0);
    assert.equal(totalOf(router, BCH), BigInt(ok) * COIN);
    assert.equal((await router.updateBalance(USERS[0]!, BCH, 'deposit', 5000, COIN, detail, T0)).code, Code.OK);
  });
});

test('records too big for a 4 KB ring: long pages are cut to what fits, a huge balance.update detail is refused', WORKER_TEST, async () => {
  await withRouter(TINY, async (router) => {
    await fund(router, [BCH, BTC], 100n * COIN);
    const user = USERS[0]!;
    for (let i = 0; i < 40; i++) {
      assert.equal((await router.placeLimit(user, BTCBCH, SIDE_ASK, 1_000_000, 2 * LOT + i * 1_000_000, 0, 0, '', T0 + i)).code, Code.OK);
    }
    const page = await router.pending(user, BTCBCH, 0, 100);
    assert.equal(page.code, Code.OK);
    assert.equal(page.total, 40);
    assert.ok(page.orders.length > 0 && page.orders.length < 40, `${page.orders.length} orders fit one reply`);
    const book = await router.book(BTCBCH, SIDE_ASK, 0, 100);
    assert.deepEqual({ code: book.code, total: book.total }, { code: Code.OK, total: 40 });
    assert.ok(book.orders.length > 0);
    const across = await router.pendingAcross(user, [BTCBCH, LTCBCH], 0, 10);
    assert.deepEqual({ code: across.code, total: across.total, n: across.orders.length }, { code: Code.OK, total: 40, n: 10 });
    assert.ok(router.running, `the shard survived the long pages: ${String(router.error)}`);

    // A detail that fits the command ring but not the event it causes; one past the event encoding's limit.
    const refused = await router.updateBalance(user, BCH, 'deposit', 777, COIN, 'x'.repeat(1990), T0);
    assert.notEqual(refused.code, Code.OK);
    assert.notEqual(refused.code, Code.BUSY, 'a record that can never fit is not "busy"');
    assert.ok(router.running, `the shard survived the long detail: ${String(router.error)}`);
    assert.equal((await router.updateBalance(user, BCH, 'deposit', 778, COIN, 'x'.repeat(500), T0)).code, Code.OK);
    assert.equal((await router.placeLimit(user, BTCBCH, SIDE_BID, 1_000_000, LOT, 0, 0, '', T0)).code, Code.OK);
  });
});

test('a shard that dies: the router fails, pending and new requests get ENGINE_STOPPED, stop() completes', WORKER_TEST, async () => {
  const router = await Router.start(TINY);
  try {
    await fund(router, [BCH, BTC, LTC], 100n * COIN);
    const rng = new Rng(3);
    // Fill shard 0's rings: it blocks on its full reply ring until this thread drains, which it cannot before the kill.
    const settled: { code: CodeValue; running: boolean }[] = [];
    const replies: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const market = i % 4 === 3 ? LTCBCH : BTCBCH;
      replies.push(randomCommand(router, rng, market, i).then((r) => void settled.push({ code: r.code, running: router.running })));
    }
    void router.terminateShardForTest(0);
    await Promise.all(replies);

    await until(() => !router.running, 'the router to notice');
    assert.equal(router.running, false);
    assert.ok(router.error instanceof Error);
    assert.match(router.error.message, /shard 0/);
    assert.equal(settled.length, 200, 'every request was answered');
    const afterFailure = settled.filter((s) => !s.running);
    assert.ok(afterFailure.length > 0, 'some requests were pending when the shard died');
    assert.ok(afterFailure.every((s) => s.code === Code.ENGINE_STOPPED), 'answered ENGINE_STOPPED once failed');
    assert.ok(settled.filter((s) => s.running).every((s) => s.code !== Code.ENGINE_STOPPED), 'nothing ENGINE_STOPPED before the failure');

    const after = await Promise.all([
      router.placeLimit(USERS[0]!, BTCBCH, SIDE_ASK, LOT, LOT, 0, 0, '', T0),
      router.placeLimit(USERS[0]!, LTCBCH, SIDE_ASK, LOT, LOT, 0, 0, '', T0),
      router.cancel(USERS[0]!, LTCBCH, 1, T0),
      router.updateBalance(USERS[0]!, BCH, 'deposit', 12_345, COIN, '', T0),
      router.pending(USERS[0]!, LTCBCH, 0, 10),
      router.summary(BTCBCH),
    ]);
    assert.deepEqual(after.map((r) => r.code), after.map(() => Code.ENGINE_STOPPED), 'the healthy shard is not used either');
  } finally {
    await router.stop();
  }
  assert.equal(router.running, false);
  assert.ok(router.error !== null, 'stop() keeps the failure');
});

test('a shard that dies while stop() drains: stop() still completes and every request is answered', WORKER_TEST, async () => {
  const router = await Router.start(TINY);
  try {
    await fund(router, [BCH, BTC, LTC], 100n * COIN);
    const rng = new Rng(5);
    const replies: Promise<CommandReply>[] = [];
    for (let i = 0; i < 200; i++) replies.push(randomCommand(router, rng, i % 2 === 0 ? BTCBCH : LTCBCH, i));
    const stopping = router.stop();
    void router.terminateShardForTest(0);
    await stopping;
    const codes = (await Promise.all(replies)).map((r) => r.code);
    assert.equal(codes.length, 200);
    assert.equal(router.running, false);
  } finally {
    await router.stop();
  }
});
