/**
 * Conservation under concurrency: two shards whose markets share assets (BCH and BTC and ETH are
 * each traded on both shards), fifty users with modest deposits, and a seeded random stream of
 * thousands of limit, market and cancel commands (with a few deposits and withdrawals) sent in
 * bursts, so that both shards reserve and settle the same users' balances at the same time.
 *
 * While it runs, the main thread keeps reading the shared balance table: no cell is ever negative.
 * Afterwards, for every asset, Σ available + frozen over all users (fee account included) equals
 * deposits − withdrawals and the table's supply counter; every order acknowledged as resting is
 * still pending, filled, or cancelled; and every user's frozen balance of every asset equals the
 * freeze of that user's resting orders.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { validateConfig } from '../../../conf/load.js';
import { SIDE_ASK, SIDE_BID } from '../../book/order-columns.js';
import { Code, type CodeValue } from '../../codes.js';
import { EventKind, OrderEvent } from '../../core/events.js';
import type { CommandReply } from '../router.js';
import { COIN, Rng, T0, WORKER_TEST, balanceOf, negativeCell, totalOf, withRouter } from './harness.js';

const asset = (name: string): { name: string; prec_save: number; prec_show: number } => ({ name, prec_save: 12, prec_show: 8 });
const market = (stock: string, money: string): { name: string; stock: { name: string; prec: number }; money: { name: string; prec: number }; fee_prec: number; min_amount: string } =>
  ({ name: `${stock}${money}`, stock: { name: stock, prec: 8 }, money: { name: money, prec: 8 }, fee_prec: 4, min_amount: '0.001' });

// Assets BCH 0, BTC 1, LTC 2, ETH 3. Shard 0: BTCBCH, ETHBCH. Shard 1: LTCBCH, ETHBTC.
// BCH is money on both shards, BTC is stock on shard 0 and money on shard 1, ETH is stock on both.
const config = validateConfig({
  assets: [asset('BCH'), asset('BTC'), asset('LTC'), asset('ETH')],
  markets: [market('BTC', 'BCH'), market('ETH', 'BCH'), market('LTC', 'BCH'), market('ETH', 'BTC')],
  engine: {
    shards: 2, assignment: { BTCBCH: 0, ETHBCH: 0, LTCBCH: 1, ETHBTC: 1 },
    max_users: 128, max_orders_per_market: 8192, max_levels_per_side: 1024, ring_bytes: 1 << 20, depth_levels: 16,
  },
});
const ASSETS = [0, 1, 2, 3];
const MARKETS = [0, 1, 2, 3];
const FEE_ACCOUNT = config.engine.fee_account;
const USERS = Array.from({ length: 50 }, (_, i) => 1000 + i);
const COMMANDS = 4000;
const BURST = 250;
const MID = 100_000_000; // every market trades around 1.0
const TICK = 200_000;

interface Resting {
  readonly market: number;
  readonly user: number;
}

async function scenario(seed: number): Promise<void> {
  await withRouter(config, async (router) => {
    const rng = new Rng(seed);
    const supply = ASSETS.map(() => 0n); // deposits − withdrawals that succeeded
    const counts = new Map<CodeValue, number>();
    const count = (code: CodeValue): void => void counts.set(code, (counts.get(code) ?? 0) + 1);

    // Orders' last event as the engine reported it, and which shards saw deals.
    const lastEvent = new Map<number, { event: number; left: number }>();
    const dealShards = new Set<number>();
    let deals = 0;
    router.onEvents((events) => {
      for (const e of events) {
        if (e.kind === EventKind.ORDER) lastEvent.set(e.order.id, { event: e.event, left: e.order.left });
        else if (e.kind === EventKind.DEAL) {
          deals++;
          dealShards.add(router.shardOfMarket[e.market]!);
        }
      }
    });

    // Sampling the shared table from this thread while the shards run.
    let samples = 0;
    const sample = (): void => {
      samples++;
      const bad = negativeCell(router);
      assert.equal(bad, null, `negative balance seen while running: ${bad}`);
    };

    let businessId = 1;
    const deposits: Promise<void>[] = [];
    for (const user of USERS) {
      for (const a of ASSETS) {
        const units = BigInt(rng.between(20, 100)) * (COIN / 100n); // 0.2 .. 1.0
        const id = businessId++;
        deposits.push(router.updateBalance(user, a, 'deposit', id, units, '', T0).then((r) => {
          assert.equal(r.code, Code.OK);
          supply[a]! += units;
        }));
      }
    }
    await Promise.all(deposits);

    const resting = new Map<number, Resting>();
    const cancelled = new Set<number>();
    let sent = 0;
    let answered = 0;
    let done = false;
    const sampler = (async (): Promise<void> => {
      while (!done) {
        sample();
        await yieldToLoop();
      }
    })();

    try {
      for (let start = 0; start < COMMANDS; start += BURST) {
        const burst: Promise<void>[] = [];
        const restingIds = [...resting.keys()];
        for (let i = start; i < start + BURST; i++) {
          const time = T0 + 1_000 + i;
          const user = rng.pick(USERS);
          const m = rng.pick(MARKETS);
          const side = rng.below(2) === 0 ? SIDE_ASK : SIDE_BID;
          const roll = rng.below(100);
          let reply: Promise<CommandReply>;
          let onOk: (r: CommandReply) => void = () => undefined;
          if (roll < 50) {
            const offset = rng.between(-8, 8) * TICK;
            const price = MID + (side === SIDE_ASK ? offset + TICK : offset - TICK);
            reply = router.placeLimit(user, m, side, rng.between(1, 20) * 1_000_000, price, rng.between(0, 30), rng.between(0, 20), rng.pick(['', 'web', 'api']), time);
            onOk = (r) => {
              const order = r.orders[0]!;
              if (order.left > 0) resting.set(order.id, { market: m, user });
            };
          } else if (roll < 65) {
            reply = router.placeMarket(user, m, side, rng.between(1, 10) * 1_000_000, rng.between(0, 30), '', time);
          } else if (roll < 90 && restingIds.length > 0) {
            const id = rng.pick(restingIds);
            const target = resting.get(id);
            const kind = rng.below(10);
            if (target === undefined || kind === 0) {
              reply = router.cancel(user, m, 1 + rng.below(1 << 20) + (1 << 21), time); // an id no order has
            } else if (kind === 1) {
              reply = router.cancel(target.user === user ? user + 1 : user, target.market, id, time);
            } else {
              reply = router.cancel(target.user, target.market, id, time);
              onOk = (r) => {
                assert.equal(r.orders[0]?.id, id);
                assert.ok(!cancelled.has(id), `order ${id} cancelled twice`);
                cancelled.add(id);
              };
            }
          } else {
            const a = rng.pick(ASSETS);
            const units = BigInt(rng.between(1, 5)) * (COIN / 100n);
            const withdraw = rng.below(2) === 0;
            reply = router.updateBalance(user, a, withdraw ? 'withdraw' : 'deposit', businessId++, withdraw ? -units : units, 'during the run', time);
            onOk = () => void (supply[a]! += withdraw ? -units : units);
          }
          sent++;
          burst.push(reply.then((r) => {
            answered++;
            count(r.code);
            if (r.code === Code.OK) onOk(r);
          }));
        }
        sample(); // both shards hold a fresh burst right now
        await Promise.all(burst);
      }
    } finally {
      done = true;
      await sampler;
    }

    // Every command was answered exactly once, and the run did what it was meant to.
    assert.equal(answered, sent);
    assert.equal([...counts.values()].reduce((n, c) => n + c, 0), sent);
    assert.ok(samples >= COMMANDS / BURST, `${samples} samples`);
    const codes = Object.fromEntries([...counts].map(([code, n]) => [code, n]));
    assert.equal(counts.get(Code.BUSY) ?? 0, 0, 'the rings are big enough for a burst');
    assert.ok((counts.get(Code.OK) ?? 0) > COMMANDS / 3, JSON.stringify(codes));
    assert.ok((counts.get(Code.BALANCE_NOT_ENOUGH) ?? 0) > 0, `users ran short of money: ${JSON.stringify(codes)}`);
    assert.ok((counts.get(Code.USER_NOT_MATCH) ?? 0) > 0 && (counts.get(Code.ORDER_NOT_FOUND) ?? 0) > 0, JSON.stringify(codes));
    assert.ok(cancelled.size > 50 && deals > 200, `${cancelled.size} cancels, ${deals} deals`);
    assert.deepEqual([...dealShards].sort(), [0, 1], 'both shards traded');

    console.log(JSON.stringify({ codes, samples, deals, cancels: cancelled.size, resting: resting.size }));
    // 1. Conservation of every asset.
    for (const a of ASSETS) {
      assert.equal(totalOf(router, a), supply[a], `asset ${a}: Σ balances = deposits − withdrawals`);
      assert.equal(router.balances.supply[a], supply[a], `asset ${a}: supply counter`);
    }
    assert.ok(ASSETS.some((a) => balanceOf(router, FEE_ACCOUNT, a).available > 0n), 'the fee account collected fees');

    // 2. Every order acknowledged as resting is pending, filled, or cancelled.
    const ids = [...resting.keys()];
    const found = await Promise.all(ids.map((id) => router.order(resting.get(id)!.market, id)));
    let pending = 0;
    let filled = 0;
    let gone = 0;
    ids.forEach((id, i) => {
      const reply = found[i]!;
      const last = lastEvent.get(id);
      assert.ok(last !== undefined, `order ${id} has events`);
      if (reply.code === Code.OK) {
        pending++;
        assert.notEqual(last.event, OrderEvent.FINISH, `pending order ${id} was reported finished`);
        assert.equal(reply.orders[0]!.left, last.left, `order ${id}: left as last reported`);
        assert.ok(!cancelled.has(id), `cancelled order ${id} is still pending`);
      } else {
        assert.equal(reply.code, Code.ORDER_NOT_FOUND);
        assert.equal(last.event, OrderEvent.FINISH, `order ${id} vanished without a FINISH`);
        if (last.left === 0) filled++;
        else {
          assert.ok(cancelled.has(id), `order ${id} finished with ${last.left} left but nobody cancelled it`);
          gone++;
        }
      }
    });
    assert.equal(pending + filled + gone, resting.size);
    assert.equal(gone, cancelled.size, 'every acknowledged cancel removed a resting order');
    assert.ok(pending > 0 && filled > 0);

    // 3. Frozen balances are exactly what resting orders hold; no pending order is unknown.
    let pendingSeen = 0;
    for (const user of USERS) {
      const frozen = ASSETS.map(() => 0n);
      for (const m of MARKETS) {
        const page = await router.pending(user, m, 0, 1000);
        assert.equal(page.code, Code.OK);
        assert.equal(page.orders.length, page.total, 'one page holds them all');
        const spec = router.specs.markets[m]!;
        for (const order of page.orders) {
          assert.ok(resting.has(order.id), `pending order ${order.id} was never acknowledged as resting`);
          assert.equal(order.user, user);
          frozen[order.side === SIDE_ASK ? spec.stock.index : spec.money.index]! += order.freeze;
          pendingSeen++;
        }
      }
      for (const a of ASSETS) assert.equal(balanceOf(router, user, a).frozen, frozen[a], `user ${user} asset ${a}: frozen = Σ freeze of resting orders`);
    }
    assert.equal(pendingSeen, pending);
    for (const a of ASSETS) assert.equal(balanceOf(router, FEE_ACCOUNT, a).frozen, 0n);
    let bookTotal = 0;
    for (const m of MARKETS) {
      const s = (await router.summary(m)).summary!;
      bookTotal += s.askCount + s.bidCount;
    }
    assert.equal(bookTotal, pending, 'the books hold exactly the pending orders');
  });
}

test('conservation with shared assets across two busy shards (seed 1)', WORKER_TEST, async () => {
  await scenario(1);
});

test('conservation with shared assets across two busy shards (seed 0xC0FFEE)', WORKER_TEST, async () => {
  await scenario(0xc0ffee);
});
