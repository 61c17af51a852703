/**
 * The journal through the real Router (shard workers, epoch group commit): seeded commands, stop,
 * restart on the same directory, and the restarted engine holds exactly the state the live one
 * had — every balance and supply, every book in matching order with every order's columns and
 * source label, the applied balance.update keys — and again after a restart of the restart. The
 * journal also replays offline (into one fresh engine holding every market, and through the
 * replay CLI) to that state, with the same state hash before and after a restart that ran
 * nothing. Restarts change engine.shards and engine.assignment, so markets move between shards
 * (their books' events then sit in different shards' logs) and ids must still only grow.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import type { Config } from '../../../conf/schema.js';
import type { BalanceTable } from '../../balance/table.js';
import { SIDE_ASK, SIDE_BID } from '../../book/order-columns.js';
import { Code, type CodeValue } from '../../codes.js';
import { EventKind } from '../../core/events.js';
import type { OrderView } from '../../core/order-view.js';
import { Engine } from '../../engine.js';
import { bookOrders } from '../../queries.js';
import { Router } from '../../router/router.js';
import { readDurableEpoch } from '../commit-log.js';
import { recover } from '../recover.js';
import { runReplayCli, type ReplaySummary } from '../replay-cli.js';
import { stateHash } from '../state-hash.js';
import { LABELS, Rng, T0, tempDir } from './workload.js';

const USERS = [1, 2, 3, 4, 5, 6, 7, 8];

/** Default assets and markets (BTCBCH 0, LTCBCH 1, ETHBCH 2, BTCUSDT 3) on `shards` shards. */
function config(dir: string, shards: number, assignment: Record<string, number> = {}): Readonly<Config> {
  return validateConfig({
    ...defaultConfig,
    engine: { max_users: 64, max_orders_per_market: 4096, max_levels_per_side: 1024, ring_bytes: 1 << 16, depth_levels: 16, shards, assignment },
    journal: { dir, durability: 'fsync', segment_bytes: 1 << 16 },
  });
}

// ---------------------------------------------------------------------------------------------
// The state as a client of the router sees it, and the same from an engine.

interface Observed {
  /** "user/asset" → [available, frozen], non-zero cells, sorted by user then asset. */
  readonly balances: [string, string, string][];
  readonly supply: string[];
  /** Per market and side, the orders in matching priority. */
  readonly books: Record<string, { asks: Record<string, unknown>[]; bids: Record<string, unknown>[] }>;
}

function plainOrder(o: OrderView, sourceName: (id: number) => string): Record<string, unknown> {
  return {
    id: o.id, market: o.market, side: o.side, type: o.type, user: o.user, ctime: o.ctime, mtime: o.mtime, price: o.price,
    amount: o.amount, left: o.left, dealStock: o.dealStock, amountMoney: String(o.amountMoney), leftMoney: String(o.leftMoney),
    takerFee: o.takerFee, makerFee: o.makerFee, dealMoney: String(o.dealMoney), dealFee: String(o.dealFee), freeze: String(o.freeze),
    source: sourceName(o.source),
  };
}

function observeBalances(table: BalanceTable): Pick<Observed, 'balances' | 'supply'> {
  const cells: { user: number; asset: number; available: bigint; frozen: bigint }[] = [];
  table.users.forEach((user, row) => {
    for (let asset = 0; asset < table.assetCount; asset++) {
      const available = table.available(row, asset);
      const frozen = table.frozen(row, asset);
      if (available !== 0n || frozen !== 0n) cells.push({ user, asset, available, frozen });
    }
  });
  cells.sort((a, b) => a.user - b.user || a.asset - b.asset);
  return {
    balances: cells.map((c) => [`${c.user}/${c.asset}`, String(c.available), String(c.frozen)]),
    supply: [...table.supply].map(String),
  };
}

async function observeRouter(router: Router): Promise<Observed> {
  const books: Observed['books'] = {};
  for (const market of router.specs.markets) {
    const sides = { asks: [] as Record<string, unknown>[], bids: [] as Record<string, unknown>[] };
    for (const [side, out] of [[SIDE_ASK, sides.asks], [SIDE_BID, sides.bids]] as const) {
      for (;;) {
        const page = await router.book(market.index, side, out.length, 100);
        assert.equal(page.code, Code.OK);
        out.push(...page.orders.map((o) => plainOrder(o, (id) => router.sourceName(id))));
        if (page.orders.length === 0 || out.length >= page.total) break;
      }
    }
    books[market.name] = sides;
  }
  return { ...observeBalances(router.balances), books };
}

function observeEngine(engine: Engine): Observed {
  const books: Observed['books'] = {};
  for (const market of engine.specs.markets) {
    const side = (s: number): Record<string, unknown>[] =>
      bookOrders(engine, market.index, s, 0, Number.MAX_SAFE_INTEGER)!.items.map((o) => plainOrder(o, (id) => engine.sourceName(id)));
    books[market.name] = { asks: side(SIDE_ASK), bids: side(SIDE_BID) };
  }
  return { ...observeBalances(engine.balances), books };
}

/** The journal recovered read-only into one fresh engine holding every market (as an operator's replay would). */
function offline(dir: string, cfg: Readonly<Config>): { observed: Observed; hash: string; nextOrderId: number; cli: ReplaySummary } {
  const engine = new Engine(cfg);
  recover(dir, [engine], { durableEpoch: readDurableEpoch(dir) });
  const configPath = join(dir, '..', 'replay-config.json');
  writeFileSync(configPath, JSON.stringify({ ...cfg, journal: { ...cfg.journal, dir: null } }));
  const cli = runReplayCli(['--dir', dir, '--config', configPath, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const summary = JSON.parse(cli.stdout) as ReplaySummary;
  // The CLI takes the durable epoch as start-up recovery does (commit-log floor, CLOSE frames).
  assert.ok(summary.durableFrom === 'closes' || summary.durableFrom === 'commit-log', summary.durableFrom);
  assert.equal(summary.durableEpoch, readDurableEpoch(dir));
  return { observed: observeEngine(engine), hash: stateHash([engine], { ids: false }), nextOrderId: engine.nextOrderId, cli: summary };
}

// ---------------------------------------------------------------------------------------------
// Seeded commands through the router, several in flight at once.

interface Session {
  /** Applied balance.update keys: sent again after a restart, each must be refused as repeated. */
  readonly applied: { user: number; asset: number; business: string; businessId: number }[];
  nextBusinessId: number;
  maxOrderId: number;
  maxDealId: number;
  deals: number;
  readonly codes: Map<CodeValue, number>;
}

async function drive(router: Router, session: Session, seed: number, commands: number, window: number): Promise<void> {
  const rng = new Rng(seed);
  const specs = router.specs;
  const live = new Map<number, { market: number; user: number }>();
  let next = 0;
  const count = (code: CodeValue): void => {
    session.codes.set(code, (session.codes.get(code) ?? 0) + 1);
    assert.ok(code !== Code.BUSY && code !== Code.ENGINE_STOPPED && code !== Code.INVALID_ARGUMENT, `unexpected code ${code}`);
  };
  const one = async (i: number): Promise<void> => {
    const time = T0 + seed * 1e9 + i;
    const roll = rng.int(0, 99);
    const user = rng.pick(USERS);
    if (roll < 10) {
      const asset = rng.int(0, specs.assets.length - 1);
      const unit = 10n ** BigInt(specs.assets[asset]!.precSave);
      const change = BigInt(rng.int(1, 50)) * unit * (rng.chance(0.3) ? -1n : 1n);
      const key = { user, asset, business: rng.pick(['deposit', 'withdraw', 'üb']), businessId: session.nextBusinessId++ };
      const r = await router.updateBalance(user, asset, key.business, key.businessId, change, '{"k":1}', time);
      count(r.code);
      if (r.code === Code.OK) session.applied.push(key);
      else assert.equal(r.code, Code.BALANCE_NOT_ENOUGH);
      return;
    }
    if (roll < 12 && session.applied.length > 0) {
      const key = rng.pick(session.applied);
      const r = await router.updateBalance(key.user, key.asset, key.business, key.businessId, 1n, '', time);
      count(r.code);
      assert.equal(r.code, Code.REPEAT_UPDATE);
      return;
    }
    if (roll < 28 && live.size > 0) {
      const id = rng.pick([...live.keys()]);
      const order = live.get(id)!;
      live.delete(id);
      const r = await router.cancel(order.user, order.market, id, time);
      count(r.code);
      assert.ok(r.code === Code.OK || r.code === Code.ORDER_NOT_FOUND, `cancel: ${r.code}`);
      return;
    }
    const market = specs.markets[rng.int(0, specs.markets.length - 1)]!;
    const side = rng.chance(0.5) ? SIDE_ASK : SIDE_BID;
    const lots = market.minAmountLots * rng.int(1, 20);
    const source = LABELS[rng.int(0, LABELS.length - 1)]!;
    let r;
    if (roll < 92) {
      const mid = 10 ** market.moneyPrec * 5;
      const step = Math.max(1, 10 ** Math.max(0, market.moneyPrec - 2));
      const away = rng.int(-5, 30) * step; // mostly resting, sometimes crossing
      r = await router.placeLimit(user, market.index, side, lots, side === SIDE_ASK ? mid + away : mid - away, rng.int(0, 30), rng.int(0, 20), source, time);
    } else {
      const amount = side === SIDE_ASK ? lots : rng.int(1, 200) * 10 ** Math.max(0, market.stockPrec - 3);
      r = await router.placeMarket(user, market.index, side, amount, rng.int(0, 30), source, time);
    }
    count(r.code);
    const o = r.orders[0];
    if (r.code === Code.OK && o !== undefined) {
      session.maxOrderId = Math.max(session.maxOrderId, o.id);
      if (o.left > 0 && o.type === 1) live.set(o.id, { market: market.index, user });
    }
  };
  const worker = async (): Promise<void> => {
    while (next < commands) await one(next++);
  };
  await Promise.all(Array.from({ length: window }, worker));
}

function dealIds(router: Router, session: Session, floor: number): string[] {
  const problems: string[] = [];
  router.onEvents((events) => {
    for (const e of events) {
      if (e.kind !== EventKind.DEAL) continue;
      session.deals++;
      if (!(e.id > floor)) problems.push(`deal id ${e.id} not above ${floor}, the largest before this run`);
      session.maxDealId = Math.max(session.maxDealId, e.id);
    }
  });
  return problems;
}

async function fund(router: Router, session: Session): Promise<void> {
  for (const user of USERS) {
    for (const asset of router.specs.assets) {
      const businessId = session.nextBusinessId++;
      const r = await router.updateBalance(user, asset.index, 'deposit', businessId, 10n ** BigInt(asset.precSave + 4), '', T0);
      assert.equal(r.code, Code.OK);
      session.applied.push({ user, asset: asset.index, business: 'deposit', businessId });
    }
  }
}

/** A sample of the applied balance.update keys: each refused as repeated after the restart. */
async function repeatedKeys(router: Router, session: Session): Promise<void> {
  for (const key of session.applied.filter((_, i) => i % 7 === 0)) {
    const r = await router.updateBalance(key.user, key.asset, key.business, key.businessId, 1n, '', T0);
    assert.equal(r.code, Code.REPEAT_UPDATE, `key ${JSON.stringify(key)} not kept across the restart`);
  }
}

async function startChecked(cfg: Readonly<Config>, expected: Observed, what: string): Promise<Router> {
  const router = await Router.start(cfg);
  try {
    assert.ok(router.recovery !== null && router.recovery.replay.events > 0, `${what}: recovered from the journal`);
    assert.deepEqual(await observeRouter(router), expected, `${what}: the restarted engine holds the live state`);
    return router;
  } catch (err) {
    await router.stop();
    throw err;
  }
}

test('Router with a journal: stop, restart, restart again — the recovered state is the live one; offline replay gives the same hash', { timeout: 120_000 }, async (t) => {
  const dir = join(tempDir(t), 'journal');
  const session: Session = { applied: [], nextBusinessId: 1, maxOrderId: 0, maxDealId: 0, deals: 0, codes: new Map() };
  const twoShards = config(dir, 2, { BTCBCH: 0, LTCBCH: 1, ETHBCH: 0, BTCUSDT: 1 });
  const oneShard = config(dir, 1);
  const swapped = config(dir, 2, { BTCBCH: 1, LTCBCH: 0, ETHBCH: 1, BTCUSDT: 0 });

  // Run 1: two shards, seeded commands with many in flight (multi-command batches and epochs).
  let router = await Router.start(twoShards);
  let live1: Observed;
  try {
    assert.equal(router.recovery?.replay.events, 0, 'a fresh journal');
    const problems = dealIds(router, session, 0);
    await fund(router, session);
    await drive(router, session, 1, 3000, 48);
    assert.deepEqual(problems, []);
    live1 = await observeRouter(router);
  } finally {
    await router.stop();
  }
  assert.ok(session.deals > 50, `the run traded (${session.deals} deals)`);
  assert.ok((session.codes.get(Code.REPEAT_UPDATE) ?? 0) > 0, 'repeated updates were refused');
  assert.ok(live1.books.BTCBCH!.asks.length + live1.books.BTCBCH!.bids.length > 10, 'orders rest');

  const off1 = offline(dir, twoShards);
  assert.deepEqual(off1.observed, live1, 'the journal replays offline to the live state');
  assert.equal(off1.cli.stateHash, stateHash([recoveredEngine(dir, twoShards)]), 'the replay CLI computes the same state');
  assert.ok(off1.nextOrderId > session.maxOrderId);

  // Restart 1 on one shard (every market moves to shard 0): the same state; nothing run.
  router = await startChecked(oneShard, live1, 'restart 1 (1 shard)');
  try {
    await repeatedKeys(router, session);
  } finally {
    await router.stop();
  }
  const off2 = offline(dir, oneShard);
  assert.equal(off2.hash, off1.hash, 'a restart that ran nothing leaves the same state hash');
  assert.deepEqual(off2.observed, live1);

  // Restart 2, a restart of the restart, on two shards with the markets swapped: the same state again; then more commands.
  router = await startChecked(swapped, live1, 'restart 2 (2 shards, markets swapped)');
  let live2: Observed;
  try {
    const floor = session.maxDealId;
    const floorOrder = session.maxOrderId;
    const problems = dealIds(router, session, floor);
    const before = session.applied.length;
    await drive(router, session, 2, 2000, 32);
    assert.deepEqual(problems, [], 'deal ids grow across restarts');
    assert.ok(session.maxOrderId > floorOrder, 'order ids grow across restarts');
    assert.ok(session.applied.length > before);
    live2 = await observeRouter(router);
  } finally {
    await router.stop();
  }
  const off3 = offline(dir, swapped);
  assert.deepEqual(off3.observed, live2);
  assert.notEqual(off3.hash, off1.hash);

  // Restart 3 on the first layout: the state of run 2; the hash of its journal unchanged by it.
  router = await startChecked(twoShards, live2, 'restart 3 (2 shards)');
  try {
    await repeatedKeys(router, session);
  } finally {
    await router.stop();
  }
  assert.equal(offline(dir, twoShards).hash, off3.hash);
  t.diagnostic(`deals ${session.deals}, keys ${session.applied.length}, codes ${JSON.stringify([...session.codes])}`);
});

function recoveredEngine(dir: string, cfg: Readonly<Config>): Engine {
  const engine = new Engine(cfg);
  recover(dir, [engine], { durableEpoch: readDurableEpoch(dir) });
  return engine;
}
