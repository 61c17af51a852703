/**
 * End-to-end tests of the WebSocket gateway over real sockets on 127.0.0.1: scenario W of
 * viabtc-original.md §12 (W1–W12, W16, W17; W13–W15 are market data, answered "service
 * unavailable" for now), the envelope's close rules, the private queries, and pushes of
 * makers and depth merging. Deposits and orders go through the in-process engine client,
 * standing in for HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import { Router } from '../../../engine/router/router.js';
import { ShardedEngineClient } from '../../engine-client.js';
import type { OrderInfo } from '../../rpc/format.js';
import { startWsGateway } from '../server.js';
import { startStubAuth, type StubAuth } from './stub-auth.js';
import { startTestGateway, WsClient, type TestGateway } from './client.js';

const TEST = { timeout: 30_000 };

const deposit = (g: TestGateway, user: number, asset: string, amount: string, id: number): Promise<unknown> =>
  g.call('balance.update', [user, asset, 'deposit', id, amount, {}]);

const putLimit = (g: TestGateway, user: number, side: number, amount: string, price: string): Promise<OrderInfo> =>
  g.call<OrderInfo>('order.put_limit', [user, 'BTCBCH', side, amount, price, '0.002', '0.001', 'web']);

describe('scenario W: WebSocket', TEST, () => {
  let g: TestGateway;
  let stub: StubAuth;
  let c: WsClient;
  before(async () => {
    stub = await startStubAuth();
    g = await startTestGateway({ ws: { auth: { auth_url: `${stub.url}/auth` } } });
    c = await WsClient.connect(g.port);
  });
  after(async () => {
    await c.close();
    await g.close();
    await stub.close();
  });

  it('W1: server.ping → "pong", in the original member order', async () => {
    c.sendRaw('{"id": 1, "method": "server.ping", "params": []}');
    await c.reply(1);
    assert.equal(c.texts.at(-1), '{"error":null,"result":"pong","id":1}');
  });

  it('W2: server.time → integer seconds, now', async () => {
    const time = await c.ok<number>('server.time');
    assert.ok(Number.isInteger(time));
    assert.ok(Math.abs(time - Date.now() / 1000) <= 2);
  });

  it('W3: order.query before auth → error 6', async () => {
    const reply = await c.request('order.query', ['BTCBCH', 0, 10], 3);
    assert.deepEqual(reply, { error: { code: 6, message: 'require authentication' }, result: null, id: 3 });
    for (const method of ['order.subscribe', 'order.unsubscribe', 'order.history', 'asset.query', 'asset.subscribe', 'asset.unsubscribe', 'asset.history']) {
      assert.equal((await c.request(method, [])).error?.code, 6, method);
    }
  });

  it('W4: server.auth with a token the auth service refuses → error 11 with its message', async () => {
    const reply = await c.request('server.auth', ['bad', 'web']);
    assert.deepEqual(reply.error, { code: 11, message: 'bad token' });
    assert.deepEqual(stub.seen.at(-1), { method: 'GET', path: '/auth', authorization: 'bad' });
  });

  it('W5: server.auth ["good", "web"] → success', async () => {
    assert.deepEqual(await c.ok('server.auth', ['good', 'web']), { status: 'success' });
  });

  it('W6: order.subscribe ["BTCBCH"], asset.subscribe ["BTC", "BCH"] → success each', async () => {
    assert.deepEqual(await c.ok('order.subscribe', ['BTCBCH']), { status: 'success' });
    assert.deepEqual(await c.ok('asset.subscribe', ['BTC', 'BCH']), { status: 'success' });
    assert.equal(g.gateway.stats().orderSubscribers, 1);
    assert.equal(g.gateway.stats().assetSubscribers, 1);
  });

  it('W7: a deposit of 10 BTC → one asset.update', async () => {
    await deposit(g, 1, 'BTC', '10', 1);
    const push = await c.nextPush('asset.update');
    assert.deepEqual(push.params, [{ BTC: { available: '10', freeze: '0' } }]);
    assert.equal(c.texts.at(-1), '{"method":"asset.update","params":[{"BTC":{"available":"10","freeze":"0"}}],"id":null}');
  });

  it('W8: an ask of user 1 → order.update [1, order], asset.update for BTC and BCH', async () => {
    await putLimit(g, 1, 1, '2', '5000');
    const order = await c.nextPush('order.update');
    assert.equal(order.params[0], 1);
    const info = order.params[1] as OrderInfo;
    assert.equal(info.id, 1);
    assert.equal(info.left, '2');
    assert.equal(info.user, 1);
    assert.equal(info.market, 'BTCBCH');
    const btc = await c.nextPush('asset.update', (p) => 'BTC' in (p.params[0] as object));
    assert.deepEqual(btc.params, [{ BTC: { available: '8', freeze: '2' } }]);
    const bch = await c.nextPush('asset.update', (p) => 'BCH' in (p.params[0] as object));
    assert.deepEqual(bch.params, [{ BCH: { available: '0', freeze: '0' } }]);
  });

  it('W9: depth.subscribe → success, then a full snapshot', async () => {
    const reply = await c.request('depth.subscribe', ['BTCBCH', 10, '0']);
    assert.equal(reply.error, null);
    const push = await c.nextPush('depth.update');
    assert.deepEqual(push.params, [true, { asks: [['5000', '2']], bids: [] }, 'BTCBCH']);
    assert.ok(c.messages.indexOf(reply) < c.messages.indexOf(push), 'the reply comes before the snapshot');
  });

  it('W10: a bid that fills half the ask → depth diff; order.update [2, …] for the maker', async () => {
    await deposit(g, 2, 'BCH', '10000', 2);
    await putLimit(g, 2, 2, '1', '5000');
    const depth = await c.nextPush('depth.update');
    assert.deepEqual(depth.params, [false, { asks: [['5000', '1']] }, 'BTCBCH']);
    const order = await c.nextPush('order.update');
    assert.equal(order.params[0], 2);
    assert.equal((order.params[1] as OrderInfo).id, 1);
    assert.equal((order.params[1] as OrderInfo).left, '1');
    // user 1 follows its own orders only: the taker's finish went to nobody here
    assert.ok(c.pushes('order.update').every((p) => (p.params[1] as OrderInfo).user === 1));
  });

  it('W11: user 1 cancels → depth diff with the level at "0"; order.update [3, …]', async () => {
    await g.call('order.cancel', [1, 'BTCBCH', 1]);
    const depth = await c.nextPush('depth.update');
    assert.deepEqual(depth.params, [false, { asks: [['5000', '0']] }, 'BTCBCH']);
    const order = await c.nextPush('order.update');
    assert.equal(order.params[0], 3);
    assert.equal((order.params[1] as OrderInfo).id, 1);
  });

  it('W12: depth.subscribe with a limit or interval not configured → error 1 each', async () => {
    for (const params of [['BTCBCH', 7, '0'], ['BTCBCH', 10, '0.5'], ['NOPE', 10, '0'], ['BTCBCH', 10, 0], ['BTCBCH', 10], []]) {
      const reply = await c.request('depth.subscribe', params);
      assert.deepEqual(reply.error, { code: 1, message: 'invalid argument' }, JSON.stringify(params));
    }
  });

  it('W13–W15: market data is not served yet → error 3 for every kline/price/state/today/deals method', async () => {
    const kinds = ['kline', 'price', 'state', 'today', 'deals'];
    for (const kind of kinds) {
      for (const verb of ['query', 'subscribe', 'unsubscribe']) {
        const reply = await c.request(`${kind}.${verb}`, kind === 'kline' ? ['BTCBCH', 60] : ['BTCBCH']);
        assert.deepEqual(reply.error, { code: 3, message: 'service unavailable' }, `${kind}.${verb}`);
      }
    }
  });

  it('W16: an unknown method → error 4 (the original sent nothing)', async () => {
    c.sendRaw('{"id": 1616, "method": "no.such", "params": []}');
    await c.reply(1616);
    assert.equal(c.texts.at(-1), '{"error":{"code":4,"message":"method not found"},"result":null,"id":1616}');
  });

  it('W17: a text frame "hello" → connection closed; the server serves others', async () => {
    const other = await WsClient.connect(g.port);
    other.sendRaw('hello');
    await other.whenClosed();
    assert.equal(await c.ok('server.ping'), 'pong');
  });
});

describe('envelope: what closes the connection, what is answered', TEST, () => {
  let g: TestGateway;
  before(async () => {
    g = await startTestGateway();
  });
  after(() => g.close());

  it('frames that are not a request close the connection, as in the original', async () => {
    const frames = [
      '', 'hello', '[]', 'null', '42', '"text"', '{}',
      '{"id": "1", "method": "server.ping", "params": []}',
      '{"id": 1.5, "method": "server.ping", "params": []}',
      '{"id": null, "method": "server.ping", "params": []}',
      '{"id": 1, "method": "server.ping"}',
      '{"id": 1, "method": "server.ping", "params": {}}',
      '{"id": 1, "method": "server.ping", "params": "x"}',
      '{"id": 1, "method": 5, "params": []}',
      '{"id": 1, "params": []}',
      '{"id": 1, "method": "server.ping", "params": []',
    ];
    for (const frame of frames) {
      const c = await WsClient.connect(g.port);
      c.sendRaw(frame);
      await c.whenClosed();
      assert.equal(c.messages.length, 0, `no reply to ${JSON.stringify(frame)}`);
    }
    assert.equal(g.gateway.stats().connections, 0);
  });

  it('a binary frame with a request is answered; one that is not UTF-8 closes the connection', async () => {
    const c = await WsClient.connect(g.port);
    c.sendRaw(Buffer.from('{"id": 5, "method": "server.ping", "params": [], "jsonrpc": "2.0"}'), true);
    assert.deepEqual(await c.reply(5), { error: null, result: 'pong', id: 5 });
    c.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), true);
    await c.whenClosed();
  });

  it('several requests in a row are answered in order, by id', async () => {
    const c = await WsClient.connect(g.port);
    for (let id = 1; id <= 20; id++) c.sendRaw(JSON.stringify({ id, method: id % 2 === 0 ? 'server.ping' : 'no.such', params: [] }));
    await c.reply(20);
    assert.deepEqual(c.messages.map((m) => m.id), Array.from({ length: 20 }, (_, i) => i + 1));
    await c.close();
  });

  it('a plain HTTP request (no upgrade) → 426', async () => {
    const res = await fetch(`http://127.0.0.1:${g.port}/`);
    assert.equal(res.status, 426);
  });
});

describe('private queries and user pushes', TEST, () => {
  let g: TestGateway;
  let c1: WsClient;
  let c2: WsClient;
  before(async () => {
    g = await startTestGateway({
      ws: { depth_merge: ['0', '0.1', '10'], auth: { tokens: { 'token-of-user-one-000001': 1, 'token-of-user-two-000002': 2 } } },
    });
    c1 = await WsClient.connect(g.port);
    c2 = await WsClient.connect(g.port);
    await c1.ok('server.auth', ['token-of-user-one-000001', 'web']);
    await c2.ok('server.auth', ['token-of-user-two-000002', 'web']);
    await deposit(g, 1, 'BTC', '100', 1);
    await deposit(g, 2, 'BCH', '1000000', 2);
  });
  after(async () => {
    await c1.close();
    await c2.close();
    await g.close();
  });

  it('asset.query → balance.query of the connection\'s user; unknown asset → error 1', async () => {
    assert.deepEqual(await c1.ok('asset.query', ['BTC']), { BTC: { available: '100', freeze: '0' } });
    const all = await c2.ok<Record<string, unknown>>('asset.query', []);
    assert.deepEqual(Object.keys(all), ['BCH', 'BTC', 'LTC', 'ETH', 'USDT']);
    assert.deepEqual(all.BCH, { available: '1000000', freeze: '0' });
    assert.equal((await c1.request('asset.query', ['XYZ'])).error?.code, 1);
  });

  it('order.query → order.pending of the connection\'s user; bad params → error 1', async () => {
    const order = await putLimit(g, 1, 1, '1', '5000');
    const page = await c1.ok<{ total: number; records: OrderInfo[]; offset: number; limit: number }>('order.query', ['BTCBCH', 0, 10]);
    assert.equal(page.total, 1);
    assert.equal(page.records[0]!.id, order.id);
    assert.equal((await c2.ok<{ total: number }>('order.query', ['BTCBCH', 0, 10])).total, 0, 'user 2 sees only its own orders');
    for (const params of [['BTCBCH', '0', 10], ['BTCBCH', 0], ['NOPE', 0, 10], ['BTCBCH', 0, 1000]]) {
      assert.equal((await c1.request('order.query', params)).error?.code, 1, JSON.stringify(params));
    }
    await g.call('order.cancel', [1, 'BTCBCH', order.id]);
  });

  it('order.history and asset.history need the history service → error 3 (after auth); wrong count → 1', async () => {
    assert.equal((await c1.request('order.history', ['BTCBCH', 0, 0, 0, 10, 0])).error?.code, 3);
    assert.equal((await c1.request('asset.history', ['BTC', '', 0, 0, 0, 10])).error?.code, 3);
    assert.equal((await c1.request('order.history', ['BTCBCH'])).error?.code, 1);
  });

  it('subscribe with an unknown name → error 1, the previous subscription stays', async () => {
    await c1.ok('order.subscribe', ['BTCBCH']);
    assert.equal((await c1.request('order.subscribe', ['BTCBCH', 'NOPE'])).error?.code, 1);
    assert.equal((await c1.request('order.subscribe', ['BTCBCH', 5])).error?.code, 1);
    assert.equal((await c1.request('asset.subscribe', ['BTC', 'XYZ'])).error?.code, 1);
    const order = await putLimit(g, 1, 1, '1', '5001');
    const push = await c1.nextPush('order.update', (p) => (p.params[1] as OrderInfo).id === order.id);
    assert.equal(push.params[0], 1);
    await g.call('order.cancel', [1, 'BTCBCH', order.id]);
    await c1.nextPush('order.update', (p) => (p.params[1] as OrderInfo).id === order.id && p.params[0] === 3);
  });

  it('one command touching an asset many times → one asset.update per asset; both sides get their order events', async () => {
    await c1.ok('order.subscribe', ['BTCBCH']);
    await c1.ok('asset.subscribe', ['BTC', 'BCH']);
    await c2.ok('order.subscribe', ['BTCBCH', 'LTCBCH']);
    await c2.ok('asset.subscribe', ['BCH', 'BTC']);
    const asks = [await putLimit(g, 1, 1, '1', '6000'), await putLimit(g, 1, 1, '1', '6001'), await putLimit(g, 1, 1, '1', '6002')];
    await c1.ok('server.ping');
    const before1 = c1.pushes('asset.update').length;
    const before2 = c2.pushes('asset.update').length;
    const bid = await putLimit(g, 2, 2, '3', '6002');
    await c1.ok('server.ping');
    await c2.ok('server.ping');
    const assets1 = c1.pushes('asset.update').slice(before1).map((p) => Object.keys(p.params[0] as object)[0]);
    const assets2 = c2.pushes('asset.update').slice(before2).map((p) => Object.keys(p.params[0] as object)[0]);
    assert.deepEqual(assets1, ['BTC', 'BCH'], 'maker: one push per asset for three deals');
    assert.deepEqual(assets2, ['BTC', 'BCH'], 'taker: one push per asset');
    assert.deepEqual(c2.pushes('asset.update').at(-1)!.params, [{ BCH: { available: String(1000000 - 18003), freeze: '0' } }]);
    const makerEvents = c1.pushes('order.update').filter((p) => asks.some((a) => a.id === (p.params[1] as OrderInfo).id));
    assert.deepEqual(makerEvents.map((p) => p.params[0]), [1, 1, 1, 3, 3, 3], 'each maker: put, then finish');
    const takerEvents = c2.pushes('order.update').filter((p) => (p.params[1] as OrderInfo).id === bid.id);
    assert.deepEqual(takerEvents.map((p) => p.params[0]), [3]);
  });

  it('order.subscribe [] and order.unsubscribe stop order pushes; asset.unsubscribe stops asset pushes', async () => {
    await c1.ok('order.subscribe', []);
    await c1.ok('asset.unsubscribe', []);
    const orders = c1.pushes('order.update').length;
    const assets = c1.pushes('asset.update').length;
    const order = await putLimit(g, 1, 1, '1', '7000');
    await g.call('order.cancel', [1, 'BTCBCH', order.id]);
    await deposit(g, 1, 'BTC', '1', 3);
    await c1.ok('server.ping');
    assert.equal(c1.pushes('order.update').length, orders);
    assert.equal(c1.pushes('asset.update').length, assets);
    assert.equal(g.gateway.stats().orderSubscribers, 1, 'only c2 follows orders');
    await c2.ok('order.unsubscribe', []);
    assert.equal(g.gateway.stats().orderSubscribers, 0);
  });

  it('depth: merged intervals, a second subscriber gets the snapshot, unsubscribe stops pushes', async () => {
    const d1 = await WsClient.connect(g.port);
    const d2 = await WsClient.connect(g.port);
    await putLimit(g, 1, 1, '1', '8003');
    await putLimit(g, 1, 1, '2', '8012');
    await putLimit(g, 2, 2, '1', '7999');
    await d1.ok('depth.subscribe', ['BTCBCH', 5, '10']);
    assert.deepEqual((await d1.nextPush('depth.update')).params, [true, { asks: [['8010', '1'], ['8020', '2']], bids: [['7990', '1']] }, 'BTCBCH']);
    await d2.ok('depth.subscribe', ['BTCBCH', 5, '10.0']);
    assert.deepEqual((await d2.nextPush('depth.update')).params, [true, { asks: [['8010', '1'], ['8020', '2']], bids: [['7990', '1']] }, 'BTCBCH']);
    assert.equal(g.gateway.stats().depthFeeds, 1, '"10" and "10.0" are one feed');
    await putLimit(g, 1, 1, '0.5', '8005');
    const diff = [false, { asks: [['8010', '1.5']] }, 'BTCBCH'];
    assert.deepEqual((await d1.nextPush('depth.update')).params, diff);
    assert.deepEqual((await d2.nextPush('depth.update')).params, diff);
    await d2.ok('depth.unsubscribe', []);
    await putLimit(g, 2, 2, '0.5', '7991');
    assert.deepEqual((await d1.nextPush('depth.update')).params, [false, { bids: [['7990', '1.5']] }, 'BTCBCH']);
    await d2.ok('server.ping');
    assert.equal(d2.pushes('depth.update').length, 2, 'the snapshot and one diff, nothing after depth.unsubscribe');
    await d1.close();
    await d2.close();
    assert.equal(g.gateway.stats().depthFeeds, 0);
  });

  it('an order-book change in another market sends no depth push', async () => {
    const d = await WsClient.connect(g.port);
    await d.ok('depth.subscribe', ['LTCBCH', 10, '0']);
    assert.deepEqual((await d.nextPush('depth.update')).params, [true, { asks: [], bids: [] }, 'LTCBCH']);
    const order = await putLimit(g, 2, 2, '0.1', '1');
    await g.call('order.cancel', [2, 'BTCBCH', order.id]);
    await d.ok('depth.subscribe', ['LTCBCH', 10, '0']);
    await d.nextPush('depth.update');
    assert.equal(d.pushes('depth.update').length, 2, 'only the two snapshots');
    await d.close();
  });
});

describe('depth: a full snapshot again once 60 s passed', TEST, () => {
  it('a change within 60 s of the last full snapshot → diff; from 60 s on → clean snapshot', async () => {
    let offset = 0;
    const g = await startTestGateway({ clock: () => Date.now() + offset });
    const c = await WsClient.connect(g.port);
    await deposit(g, 1, 'BTC', '10', 1);
    await c.ok('depth.subscribe', ['BTCBCH', 5, '0']);
    assert.deepEqual((await c.nextPush('depth.update')).params, [true, { asks: [], bids: [] }, 'BTCBCH']);
    await putLimit(g, 1, 1, '1', '5000');
    assert.deepEqual((await c.nextPush('depth.update')).params, [false, { asks: [['5000', '1']] }, 'BTCBCH']);
    offset = 60_000;
    await putLimit(g, 1, 1, '1', '5001');
    assert.deepEqual((await c.nextPush('depth.update')).params, [true, { asks: [['5000', '1'], ['5001', '1']], bids: [] }, 'BTCBCH']);
    await putLimit(g, 1, 1, '1', '5002');
    assert.deepEqual((await c.nextPush('depth.update')).params, [false, { asks: [['5002', '1']] }, 'BTCBCH']);
    await c.close();
    await g.close();
  });
});

describe('behind the sharded engine (router, two shards)', TEST, () => {
  it('user pushes and depth diffs come from the router\'s event stream', async () => {
    const config = validateConfig({
      ...defaultConfig,
      engine: { max_users: 256, max_orders_per_market: 4096, max_levels_per_side: 1024, shards: 2, ring_bytes: 1 << 16, depth_levels: 16 },
      ws: { host: '127.0.0.1', port: 0, auth: { tokens: { 'token-of-user-one-000001': 1 } } },
    });
    const router = await Router.start(config);
    const client = new ShardedEngineClient(router);
    const gateway = await startWsGateway(client, config, { logger: pino({ level: 'silent' }) });
    const call = async (method: string, params: unknown[]): Promise<OrderInfo> => {
      const outcome = await client.call(method, params);
      if ('error' in outcome) throw new Error(`${method}: ${JSON.stringify(outcome.error)}`);
      return outcome.result as OrderInfo;
    };
    const c = await WsClient.connect(gateway.port);
    try {
      await c.ok('server.auth', ['token-of-user-one-000001', 'web']);
      await c.ok('order.subscribe', ['BTCBCH', 'LTCBCH']);
      await c.ok('asset.subscribe', ['BTC', 'LTC']);
      await c.ok('depth.subscribe', ['LTCBCH', 10, '0']);
      assert.deepEqual((await c.nextPush('depth.update')).params, [true, { asks: [], bids: [] }, 'LTCBCH']);
      await call('balance.update', [1, 'LTC', 'deposit', 1, '5', {}]);
      assert.deepEqual((await c.nextPush('asset.update')).params, [{ LTC: { available: '5', freeze: '0' } }]);
      const ask = await call('order.put_limit', [1, 'LTCBCH', 1, '2', '100', '0', '0', 'web']);
      assert.equal((await c.nextPush('order.update')).params[0], 1);
      assert.deepEqual((await c.nextPush('asset.update')).params, [{ LTC: { available: '3', freeze: '2' } }]);
      assert.deepEqual((await c.nextPush('depth.update')).params, [false, { asks: [['100', '2']] }, 'LTCBCH']);
      await call('balance.update', [2, 'BCH', 'deposit', 2, '1000', {}]);
      await call('order.put_limit', [2, 'LTCBCH', 2, '0.5', '100', '0', '0', 'web']);
      const update = await c.nextPush('order.update');
      assert.deepEqual([update.params[0], (update.params[1] as OrderInfo).id, (update.params[1] as OrderInfo).left], [2, ask.id, '1.5']);
      assert.deepEqual((await c.nextPush('depth.update')).params, [false, { asks: [['100', '1.5']] }, 'LTCBCH']);
      assert.deepEqual(await c.ok('order.query', ['LTCBCH', 0, 10]).then((r) => (r as { total: number }).total), 1);
    } finally {
      await c.close();
      await gateway.close();
      await router.stop();
    }
  });
});
