/**
 * HTTP order entry behind the sharded engine: order.put_limit, order.put_market and order.cancel
 * take the callback path (no promise per order, the reply printed directly) and must answer
 * byte for byte what the method layer answers for the same state, success and errors alike.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import { Router } from '../../../engine/router/router.js';
import { ShardedEngineClient } from '../../engine-client.js';
import type { OrderInfo } from '../../rpc/format.js';
import { startHttpGateway, type HttpGateway } from '../server.js';
import { request } from './client.js';

describe('HTTP order entry behind the router (two shards)', { timeout: 30_000 }, () => {
  let router: Router;
  let client: ShardedEngineClient;
  let gateway: HttpGateway;
  before(async () => {
    const config = validateConfig({
      ...defaultConfig,
      engine: { max_users: 256, max_orders_per_market: 4096, max_levels_per_side: 1024, shards: 2, ring_bytes: 1 << 16, depth_levels: 16, assignment: { BTCBCH: 0, LTCBCH: 1 } },
      http: { host: '127.0.0.1', port: 0 },
    });
    router = await Router.start(config);
    client = new ShardedEngineClient(router);
    gateway = await startHttpGateway({ http: config.http, services: [client], logger: pino({ level: 'silent' }) });
    for (const [user, asset, amount] of [[1, 'BTC', '10'], [2, 'BCH', '100000'], [1, 'LTC', '10']] as const) {
      const outcome = await client.call('balance.update', [user, asset, 'deposit', user * 100 + asset.length, amount, {}]);
      assert.ok(!('error' in outcome));
    }
  });
  after(async () => {
    gateway.close();
    await router.stop();
  });

  const post = async (id: number, method: string, params: unknown[]): Promise<string> => {
    const res = await request(gateway.port, JSON.stringify({ id, method, params }));
    assert.equal(res.status, 200);
    return res.body;
  };

  it('answers as the method layer does: the order object, then every error', async () => {
    const placed = JSON.parse(await post(1, 'order.put_limit', [1, 'BTCBCH', 1, '2', '5000', '0.002', '0.001', 'web'])) as { result: OrderInfo };
    const detail = await client.call('order.pending_detail', ['BTCBCH', placed.result.id]);
    assert.ok('result' in detail);
    assert.equal(JSON.stringify({ error: null, result: placed.result, id: 1 }), JSON.stringify({ error: null, result: detail.result, id: 1 }));
    const bought = JSON.parse(await post(2, 'order.put_market', [2, 'BTCBCH', 2, '5000', '0.002', 'web'])) as { result: OrderInfo };
    assert.deepEqual([bought.result.deal_stock, bought.result.deal_money, bought.result.deal_fee], ['1', '5000', '0.002']);
    const cases: [string, unknown[]][] = [
      ['order.put_limit', [1, 'BTCBCH', 1, '100', '5000', '0', '0', 'web']],
      ['order.put_limit', [1, 'BTCBCH', 1, '0.0001', '5000', '0', '0', 'web']],
      ['order.put_limit', [0, 'BTCBCH', 1, '1', '5000', '0', '0', 'web']],
      ['order.put_limit', [1, 'NOPE', 1, '1', '5000', '0', '0', 'web']],
      ['order.put_limit', [1, 'BTCBCH', 1, '1', '5000', '0', '0']],
      ['order.put_limit', []],
      ['order.put_market', [1, 'LTCBCH', 2, '1', '0', 'web']],
      ['order.put_market', [2, 'LTCBCH', 2, '1', '0', 'web']],
      ['order.cancel', [2, 'BTCBCH', placed.result.id]],
      ['order.cancel', [1, 'BTCBCH', 999_999]],
      ['order.cancel', [1, 'LTCBCH', placed.result.id]],
    ];
    for (const [k, [method, params]] of cases.entries()) {
      const body = await post(10 + k, method, params);
      const outcome = await client.call(method, params);
      assert.ok('error' in outcome, `${method} ${JSON.stringify(params)} fails`);
      assert.equal(body, JSON.stringify({ error: outcome.error, result: null, id: 10 + k }), `${method} ${JSON.stringify(params)}`);
    }
    const cancelled = JSON.parse(await post(3, 'order.cancel', [1, 'BTCBCH', placed.result.id])) as { result: OrderInfo };
    assert.deepEqual([cancelled.result.id, cancelled.result.left, cancelled.result.deal_stock], [placed.result.id, '1', '1']);
  });

  it('many clients at once: every reply is its own request\'s', async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, k) =>
      post(1000 + k, 'order.put_limit', [1, k % 2 === 0 ? 'BTCBCH' : 'LTCBCH', 1, '0.01', String(6000 + k), '0', '0', 'web'])));
    replies.forEach((body, k) => {
      const r = JSON.parse(body) as { id: number; error: unknown; result: OrderInfo };
      assert.deepEqual([r.id, r.error, r.result.price, r.result.market], [1000 + k, null, String(6000 + k), k % 2 === 0 ? 'BTCBCH' : 'LTCBCH']);
    });
  });
});
