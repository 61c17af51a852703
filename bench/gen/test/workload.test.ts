import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import { Engine } from '../../../engine/engine.js';
import { checkConservation, restingOrders, runEngine, TIME0 } from '../../drivers/engine.js';
import { fundUsers, generateWorkload, Op } from '../workload.js';

const config = validateConfig({ ...defaultConfig, engine: { max_orders_per_market: 1 << 15, max_users: 1 << 12 } });

test('the same seed gives the same command stream; another seed a different one', () => {
  const a = generateWorkload(config, { commands: 5000, seed: 7 });
  const b = generateWorkload(config, { commands: 5000, seed: 7 });
  const c = generateWorkload(config, { commands: 5000, seed: 8 });
  for (const column of ['op', 'user', 'market', 'side', 'amount', 'price', 'target', 'fillLots'] as const) {
    assert.deepEqual(a[column], b[column], column);
  }
  assert.deepEqual(a.expected, b.expected);
  assert.notDeepEqual(a.price, c.price);
});

test('the mix is close to 60 / 25 / 10 / 5 and the books stay near their target size', () => {
  const commands = 200_000;
  const w = generateWorkload(config, { commands, seed: 1, restingPerMarket: 1000 });
  const e = w.expected;
  const share = (n: number): number => n / commands;
  assert.ok(Math.abs(share(e.passive) - 0.6) < 0.01, `passive ${share(e.passive)}`);
  assert.ok(Math.abs(share(e.cancels + e.staleCancels) - 0.25) < 0.01, `cancel ${share(e.cancels + e.staleCancels)}`);
  assert.ok(Math.abs(share(e.crossing) - 0.1) < 0.01, `crossing ${share(e.crossing)}`);
  assert.ok(Math.abs(share(e.market) - 0.05) < 0.01, `market ${share(e.market)}`);
  assert.ok(e.staleCancels > 0 && e.staleCancels < 0.05 * (e.cancels + e.staleCancels));
  assert.equal(e.placed, e.passive + e.crossing + e.market);
  for (const resting of e.restingByMarket) assert.ok(resting > 500 && resting < 2000, `resting ${resting}`);
  assert.ok(e.maxResting < 2000, `max resting ${e.maxResting}`);
  let ops = 0;
  for (let i = 0; i < commands; i++) if (w.op[i] === Op.LIMIT || w.op[i] === Op.MARKET || w.op[i] === Op.CANCEL) ops++;
  assert.equal(ops, commands, 'every command has an opcode');
});

test('the engine makes exactly the deals the shadow book expects, and conserves every asset', () => {
  const w = generateWorkload(config, { commands: 30_000, seed: 3, users: 50, restingPerMarket: 300 });
  const engine = new Engine(config, { markets: w.markets.map((m) => m.index) });
  const deposits = fundUsers(engine, w, engine.specs.assets.length, TIME0 - 1);
  engine.events.reset();
  const run = runEngine(engine, w, w.commands, null);
  assert.ok(w.expected.deals > 1000);
  assert.equal(run.deals, w.expected.deals);
  assert.equal(run.notFound, w.expected.staleCancels);
  assert.equal(engine.nextOrderId - 1, w.expected.placed);
  assert.equal(restingOrders(engine, w), w.expected.resting);
  assert.deepEqual(checkConservation(engine, deposits), []);
});
