/**
 * End-to-end tests of the HTTP JSON-RPC gateway over real sockets on 127.0.0.1: scenario A of
 * viabtc-original.md §12, a round trip through every engine method checking result shapes, every
 * error path of the envelope and transport, the admin rule of balance.update, and a request shaped
 * like the Python client's.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { OrderInfo } from '../../rpc/format.js';
import type { RpcService } from '../dispatch.js';
import { PROTOCOL_METHODS } from '../protocol-methods.js';
import { ok, rawExchange, rawPost, request, rpc, startTestServer, type TestServer } from './client.js';

const ORDER_KEYS = [
  'amount', 'ctime', 'deal_fee', 'deal_money', 'deal_stock', 'id', 'left', 'maker_fee', 'market', 'mtime', 'price', 'side',
  'source', 'taker_fee', 'type', 'user',
];
const UNAVAILABLE = [
  'balance.history', 'order.deals', 'order.finished', 'order.finished_detail', 'market.last', 'market.deals',
  'market.user_deals', 'market.kline', 'market.status', 'market.status_today',
];
const TOKEN = 'an-admin-token-of-some-length';
const TEST = { timeout: 20_000 };

interface Balance {
  available: string;
  freeze: string;
}

function assertOrder(order: unknown): void {
  assert.ok(order !== null && typeof order === 'object');
  assert.deepEqual(Object.keys(order).sort(), ORDER_KEYS);
  const o = order as Record<string, unknown>;
  for (const key of ['id', 'type', 'side', 'user', 'ctime', 'mtime']) assert.equal(typeof o[key], 'number', key);
  for (const key of ['market', 'source', 'price', 'amount', 'taker_fee', 'maker_fee', 'left', 'deal_stock', 'deal_money', 'deal_fee']) {
    assert.equal(typeof o[key], 'string', key);
  }
  const now = Date.now() / 1000;
  assert.ok(Math.abs((o.ctime as number) - now) < 60, 'ctime is now');
  assert.ok((o.mtime as number) >= (o.ctime as number));
}

describe('scenario A: transport and envelope', TEST, () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('A1: GET → 400 with an empty body, connection closed', async () => {
    const { responses, closed } = await rawExchange(s.port, ['GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], { responses: 1, expectClose: true });
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.status, 400);
    assert.equal(responses[0]!.body, '');
    assert.equal(closed, true);
  });

  it('A2: a body that is not JSON → 400, empty body, connection closed', async () => {
    const { responses, closed } = await rawExchange(s.port, [rawPost('not json')], { responses: 1, expectClose: true });
    assert.equal(responses[0]!.status, 400);
    assert.equal(responses[0]!.body, '');
    assert.equal(responses[0]!.headers.has('content-type'), false);
    assert.equal(closed, true);
  });

  it('A3: a string id → 400', async () => {
    const res = await request(s.port, '{"id": "1", "method": "asset.list", "params": []}');
    assert.equal(res.status, 400);
    assert.equal(res.body, '');
  });

  it('A4: an unknown method → 404 with error 4 and the id', async () => {
    const res = await request(s.port, '{"id": 7, "method": "no.such", "params": []}');
    assert.equal(res.status, 404);
    assert.equal(res.body, '{"error":{"code":4,"message":"method not found"},"result":null,"id":7}');
    assert.equal(res.headers['content-type'], 'application/json');
  });

  it('A5: asset.list → the assets in config order, the request id echoed', async () => {
    const { status, envelope, headers } = await rpc(s.port, 'asset.list', [], { id: 5 });
    assert.equal(status, 200);
    assert.equal(headers['content-type'], 'application/json');
    assert.deepEqual(envelope, {
      error: null,
      result: [
        { name: 'BCH', prec: 8 }, { name: 'BTC', prec: 8 }, { name: 'LTC', prec: 8 }, { name: 'ETH', prec: 8 }, { name: 'USDT', prec: 8 },
      ],
      id: 5,
    });
  });

  it('A6: market.list → BTCBCH first', async () => {
    const result = await ok<unknown[]>(s.port, 'market.list', []);
    assert.deepEqual(result[0], { name: 'BTCBCH', stock: 'BTC', money: 'BCH', fee_prec: 4, stock_prec: 8, money_prec: 8, min_amount: '0.001' });
  });

  it('A7: a "jsonrpc": "2.0" member changes nothing', async () => {
    for (const [method, params] of [['asset.list', []], ['market.list', []], ['balance.query', [1]], ['no.such', []]] as const) {
      const plain = await request(s.port, JSON.stringify({ id: 3, method, params }));
      const withMember = await request(s.port, JSON.stringify({ id: 3, method, params, jsonrpc: '2.0' }));
      assert.equal(withMember.status, plain.status);
      assert.equal(withMember.body, plain.body);
    }
  });

  it('A8: balance.query [0], [], [1, "XYZ"] → invalid argument', async () => {
    for (const params of [[0], [], [1, 'XYZ']]) {
      const { status, envelope } = await rpc(s.port, 'balance.query', params, { id: 8 });
      assert.equal(status, 200);
      assert.deepEqual(envelope, { error: { code: 1, message: 'invalid argument' }, result: null, id: 8 });
    }
  });
});

describe('engine methods round trip over one keep-alive connection', TEST, () => {
  let s: TestServer;
  let agent: http.Agent;
  before(async () => {
    s = await startTestServer();
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });
  after(() => {
    agent.destroy();
    s.close();
  });

  it('deposits, places, matches, cancels and queries with the documented shapes', async () => {
    const call = <T = unknown>(method: string, params: unknown[]) => ok<T>(s.port, method, params, { agent });
    const error = async (method: string, params: unknown[]) => (await rpc(s.port, method, params, { agent })).envelope.error;

    assert.deepEqual(await call('balance.update', [1, 'BTC', 'deposit', 1, '10', {}]), { status: 'success' });
    assert.deepEqual(await call('balance.update', [2, 'BCH', 'deposit', 2, '100000', { note: 'wire' }]), { status: 'success' });
    assert.deepEqual(await error('balance.update', [1, 'BTC', 'deposit', 1, '10', {}]), { code: 10, message: 'repeat update' });

    const balances = await call<Record<string, Balance>>('balance.query', [1]);
    assert.deepEqual(Object.keys(balances), ['BCH', 'BTC', 'LTC', 'ETH', 'USDT']);
    assert.deepEqual(balances.BTC, { available: '10', freeze: '0' });
    assert.deepEqual(await call('balance.query', [2, 'BCH']), { BCH: { available: '100000', freeze: '0' } });

    const ask = await call<OrderInfo>('order.put_limit', [1, 'BTCBCH', 1, '1', '5000', '0.002', '0.001', 'web']);
    assertOrder(ask);
    assert.deepEqual([ask.type, ask.side, ask.user, ask.left, ask.source, ask.market], [1, 1, 1, '1', 'web', 'BTCBCH']);
    assert.deepEqual(await error('order.put_limit', [1, 'BTCBCH', 1, '0.0001', '5000', '0.002', '0.001', 'web']), { code: 11, message: 'amount too small' });

    const book = await call<{ offset: number; limit: number; total: number; orders: OrderInfo[] }>('order.book', ['BTCBCH', 1, 0, 10]);
    assert.deepEqual(Object.keys(book).sort(), ['limit', 'offset', 'orders', 'total']);
    assert.deepEqual([book.offset, book.limit, book.total, book.orders.length], [0, 10, 1, 1]);
    assertOrder(book.orders[0]);
    assert.deepEqual(await call('order.depth', ['BTCBCH', 10, '0']), { asks: [['5000', '1']], bids: [] });
    const pending = await call<{ offset: number; limit: number; total: number; records: OrderInfo[] }>('order.pending', [1, 'BTCBCH', 0, 10]);
    assert.deepEqual(Object.keys(pending).sort(), ['limit', 'offset', 'records', 'total']);
    assert.equal(pending.total, 1);
    assert.equal(pending.records[0]!.id, ask.id);
    const detail = await call<OrderInfo>('order.pending_detail', ['BTCBCH', ask.id]);
    assertOrder(detail);
    assert.equal(detail.id, ask.id);

    const bid = await call<OrderInfo>('order.put_market', [2, 'BTCBCH', 2, '2500', '0.001', 'api']);
    assertOrder(bid);
    assert.deepEqual([bid.type, bid.side, bid.price, bid.deal_stock, bid.deal_money], [2, 2, '0', '0.5', '2500']);
    assert.deepEqual(await call('balance.query', [2, 'BTC']), { BTC: { available: '0.4995', freeze: '0' } });

    const cancelled = await call<OrderInfo>('order.cancel', [1, 'BTCBCH', ask.id]);
    assertOrder(cancelled);
    assert.equal(cancelled.left, '0.5');
    assert.equal(await call('order.pending_detail', ['BTCBCH', ask.id]), null);
    assert.deepEqual(await error('order.cancel', [1, 'BTCBCH', ask.id]), { code: 10, message: 'order not found' });
    assert.deepEqual(await error('order.put_market', [2, 'BTCBCH', 2, '10', '0.001', 'api']), { code: 12, message: 'no enough trader' });

    assert.equal((await call<unknown[]>('asset.list', [])).length, 5);
    const summary = await call<Record<string, unknown>[]>('asset.summary', ['BTC']);
    assert.deepEqual(Object.keys(summary[0]!).sort(), ['available_balance', 'available_count', 'freeze_balance', 'freeze_count', 'name', 'total_balance']);
    assert.equal(summary[0]!.name, 'BTC');
    assert.equal(summary[0]!.total_balance, '10');
    const markets = await call<{ name: string }[]>('market.list', []);
    assert.deepEqual(markets.map((m) => m.name), ['BTCBCH', 'LTCBCH', 'ETHBCH', 'BTCUSDT']);
    assert.deepEqual(await call('market.summary', ['BTCBCH']), [{ name: 'BTCBCH', ask_count: 0, ask_amount: '0', bid_count: 0, bid_amount: '0' }]);
  });

  it('answers the protocol methods of services not running yet with "service unavailable"', async () => {
    assert.deepEqual([...s.gateway.unavailable].sort(), [...UNAVAILABLE].sort());
    for (const method of UNAVAILABLE) {
      const { status, envelope } = await rpc(s.port, method, [], { agent, id: 11 });
      assert.equal(status, 200);
      assert.deepEqual(envelope, { error: { code: 3, message: 'service unavailable' }, result: null, id: 11 });
    }
    assert.equal(PROTOCOL_METHODS.length, 23);
  });
});

describe('envelope and transport errors', TEST, () => {
  const LIMIT = 16384;
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ http: { max_body_bytes: LIMIT } });
  });
  after(() => s.close());

  const badBodies: [string, string][] = [
    ['empty body', ''],
    ['not JSON', '{"id": 1, "method": '],
    ['a JSON array', '[1, "asset.list", []]'],
    ['JSON null', 'null'],
    ['a JSON string', '"asset.list"'],
    ['string id', '{"id": "1", "method": "asset.list", "params": []}'],
    ['fractional id', '{"id": 1.5, "method": "asset.list", "params": []}'],
    ['missing id', '{"method": "asset.list", "params": []}'],
    ['null id', '{"id": null, "method": "asset.list", "params": []}'],
    ['method not a string', '{"id": 1, "method": 4, "params": []}'],
    ['missing method', '{"id": 1, "params": []}'],
    ['missing params', '{"id": 1, "method": "asset.list"}'],
    ['params an object', '{"id": 1, "method": "asset.list", "params": {}}'],
    ['params a string', '{"id": 1, "method": "asset.list", "params": "[]"}'],
    ['params null', '{"id": 1, "method": "asset.list", "params": null}'],
  ];
  for (const [name, body] of badBodies) {
    it(`${name} → 400, empty body, connection closed`, async () => {
      const { responses, closed } = await rawExchange(s.port, [rawPost(body)], { responses: 1, expectClose: true });
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.status, 400);
      assert.equal(responses[0]!.body, '');
      assert.equal(closed, true);
    });
  }

  it('any other HTTP method → 400', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const res = await request(s.port, method === 'GET' ? null : '{"id": 1, "method": "asset.list", "params": []}', { method });
      assert.equal(res.status, 400, method);
      assert.equal(res.body, '');
    }
  });

  it('any path is served', async () => {
    const res = await request(s.port, '{"id": 2, "method": "asset.list", "params": []}', { path: '/some/where?x=1' });
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { id: number }).id, 2);
  });

  it('unknown method → 404 and the connection stays open', async () => {
    const body = '{"id": 9, "method": "order.nothing", "params": []}';
    const { responses, closed } = await rawExchange(s.port, [rawPost(body) + rawPost('{"id": 10, "method": "asset.list", "params": []}')], { responses: 2 });
    assert.equal(closed, false);
    assert.equal(responses[0]!.status, 404);
    assert.deepEqual(JSON.parse(responses[0]!.body), { error: { code: 4, message: 'method not found' }, result: null, id: 9 });
    assert.equal(responses[1]!.status, 200);
  });

  it('a declared body over max_body_bytes → 413 and close, before the body is sent', async () => {
    const head = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`;
    const { responses, closed } = await rawExchange(s.port, [head], { responses: 1, expectClose: true });
    assert.equal(responses[0]!.status, 413);
    assert.equal(closed, true);
  });

  it('a chunked body growing over max_body_bytes → 413 and close', async () => {
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const head = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n';
    const { responses, closed } = await rawExchange(s.port, [head + chunk('x'.repeat(LIMIT - 1000)), chunk('y'.repeat(1200))], { responses: 1, expectClose: true });
    assert.equal(responses[0]!.status, 413);
    assert.equal(closed, true);
  });

  it('a body of exactly max_body_bytes is read', async () => {
    const prefix = '{"id": 12, "method": "asset.list", "params": [], "pad": "';
    const body = prefix + 'p'.repeat(LIMIT - prefix.length - 2) + '"}';
    assert.equal(body.length, LIMIT);
    const res = await request(s.port, body);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { id: number }).id, 12);
  });

  it('a body split across several TCP writes is reassembled (Content-Length)', async () => {
    const body = JSON.stringify({ id: 13, method: 'balance.query', params: [1, 'BTC', 'BCH'] });
    const full = rawPost(body);
    const headEnd = full.indexOf('\r\n\r\n') + 4;
    const pieces = [full.slice(0, 20), full.slice(20, headEnd), body.slice(0, 10), body.slice(10, 25), body.slice(25)];
    const { responses } = await rawExchange(s.port, pieces, { responses: 1 });
    assert.equal(responses[0]!.status, 200);
    assert.deepEqual(JSON.parse(responses[0]!.body), {
      error: null, result: { BTC: { available: '0', freeze: '0' }, BCH: { available: '0', freeze: '0' } }, id: 13,
    });
  });

  it('a chunked body in several writes is reassembled', async () => {
    const body = JSON.stringify({ id: 14, method: 'asset.list', params: [] });
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const pieces = ['POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n', chunk(body.slice(0, 7)), chunk(body.slice(7, 30)), chunk(body.slice(30)) + '0\r\n\r\n'];
    const { responses } = await rawExchange(s.port, pieces, { responses: 1 });
    assert.equal(responses[0]!.status, 200);
    assert.equal((JSON.parse(responses[0]!.body) as { id: number }).id, 14);
  });

  it('pipelined requests on one connection are answered in order', async () => {
    const bodies = [
      { id: 21, method: 'balance.update', params: [5, 'BTC', 'deposit', 77, '1', {}] },
      { id: 22, method: 'balance.query', params: [5, 'BTC'] },
      { id: 23, method: 'no.such', params: [] },
      { id: 24, method: 'market.last', params: ['BTCBCH'] },
      { id: 25, method: 'asset.list', params: [] },
    ];
    const { responses, closed } = await rawExchange(s.port, [bodies.map((b) => rawPost(JSON.stringify(b))).join('')], { responses: bodies.length });
    assert.equal(closed, false);
    assert.deepEqual(responses.map((r) => (JSON.parse(r.body) as { id: number }).id), [21, 22, 23, 24, 25]);
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 404, 200, 200]);
    assert.deepEqual((JSON.parse(responses[1]!.body) as { result: unknown }).result, { BTC: { available: '1', freeze: '0' } });
  });

  it('keep-alive: many requests on one connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let id = 0; id < 50; id++) {
        const { envelope } = await rpc(s.port, 'asset.list', [], { agent, id });
        assert.equal(envelope.id, id);
      }
    } finally {
      agent.destroy();
    }
  });

  it('a body nested deeper than 2048 levels → 400 (as jansson); 2048 levels are served', async () => {
    // The envelope object and the params array are two of the levels.
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const deep = await request(s.port, `{"id": 16, "method": "asset.list", "params": [${nested(2047)}]}`);
    assert.equal(deep.status, 400);
    const fine = await request(s.port, `{"id": 16, "method": "asset.list", "params": [${nested(2046)}]}`);
    assert.equal(fine.status, 200);
    const strings = await request(s.port, `{"id": 17, "method": "asset.list", "params": ["${'['.repeat(3000)}"]}`);
    assert.equal(strings.status, 200);
    const detail = '{"a":'.repeat(2000) + '{}' + '}'.repeat(2000);
    const update = await request(s.port, `{"id": 18, "method": "balance.update", "params": [6, "BTC", "deposit", 1, "1", ${detail}]}`);
    assert.deepEqual(JSON.parse(update.body), { error: null, result: { status: 'success' }, id: 18 });
  });

  it('a Python-client-shaped request is served', async () => {
    const res = await request(s.port, '{"method": "asset.list", "params": [], "jsonrpc": "2.0", "id": 0}', { headers: { 'Content-Type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    const envelope = JSON.parse(res.body) as { error: unknown; id: number; result: unknown[] };
    assert.equal(envelope.error, null);
    assert.equal(envelope.id, 0);
    assert.equal(envelope.result.length, 5);
  });

  it('UTF-8 split inside a character across writes survives', async () => {
    const body = JSON.stringify({ id: 15, method: 'order.put_limit', params: [1, 'BTCBCH', 1, '1', '1', '0', '0', 'ü€'] });
    const bytes = Buffer.from(rawPost(body));
    const cut = bytes.indexOf(Buffer.from('€')) + 1;
    const { responses } = await rawExchange(s.port, [bytes.subarray(0, cut), bytes.subarray(cut)], { responses: 1 });
    assert.deepEqual(JSON.parse(responses[0]!.body), { error: { code: 10, message: 'balance not enough' }, result: null, id: 15 });
  });
});

describe('failures inside a service', TEST, () => {
  let s: TestServer;
  before(async () => {
    const broken: RpcService = {
      methods: new Set(['asset.list', 'market.list', 'asset.summary']),
      call(method) {
        if (method === 'asset.list') throw new Error('boom in call');
        if (method === 'market.list') return Promise.reject(new Error('boom in promise'));
        return Promise.resolve({ result: { big: 1n } });
      },
    };
    s = await startTestServer({ services: () => [broken] });
  });
  after(() => s.close());

  it('an exception becomes error 2 "internal error" and is logged', async () => {
    for (const [method, why] of [['asset.list', 'boom in call'], ['market.list', 'boom in promise'], ['asset.summary', 'BigInt']] as const) {
      const { status, envelope } = await rpc(s.port, method, [], { id: 31 });
      assert.equal(status, 200);
      assert.deepEqual(envelope, { error: { code: 2, message: 'internal error' }, result: null, id: 31 });
      assert.ok(s.logs.some((line) => line.includes('"level":50') && line.includes(method) && line.includes(why)), `${method} logged`);
    }
    const { envelope } = await rpc(s.port, 'balance.query', [1]);
    assert.deepEqual(envelope.error, { code: 3, message: 'service unavailable' });
  });
});

describe('admin access to balance.update', TEST, () => {
  const deposit = (id: number) => JSON.stringify({ id: 1, method: 'balance.update', params: [7, 'BTC', 'deposit', id, '1', {}] });
  const refused = { error: { code: 6, message: 'require authentication' }, result: null, id: 1 };
  const success = { error: null, result: { status: 'success' }, id: 1 };
  const balance = async (port: number) => (await ok<{ BTC: Balance }>(port, 'balance.query', [7, 'BTC'])).BTC.available;

  it('default: allowed from loopback, refused when a proxy header says the client is elsewhere', async () => {
    const s = await startTestServer();
    try {
      assert.equal(s.gateway.adminPort, null);
      for (const header of ['X-Forwarded-For', 'Forwarded', 'X-Real-IP']) {
        const res = await request(s.port, deposit(1), { headers: { [header]: '203.0.113.9' } });
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(res.body), refused);
      }
      assert.equal(await balance(s.port), '0');
      assert.ok(s.logs.some((line) => line.includes('admin method refused')));
      assert.deepEqual(JSON.parse((await request(s.port, deposit(1))).body), success);
      assert.equal(await balance(s.port), '1');
    } finally {
      s.close();
    }
  });

  it('public_access "none" with an admin listener: refused on the public port, served on the admin port', async () => {
    const s = await startTestServer({ http: { admin: { public_access: 'none', port: 0, host: '127.0.0.1' } } });
    try {
      const adminPort = s.gateway.adminPort;
      assert.ok(adminPort !== null && adminPort !== s.port);
      assert.deepEqual(JSON.parse((await request(s.port, deposit(1))).body), refused);
      assert.equal(await balance(s.port), '0');
      assert.deepEqual(JSON.parse((await request(adminPort, deposit(1))).body), success);
      assert.equal(await balance(s.port), '1');
      assert.equal(await balance(adminPort), '1');
      const bad = await request(adminPort, 'nope');
      assert.equal(bad.status, 400);
    } finally {
      s.close();
    }
  });

  it('a token is required on every listener when configured, compared exactly', async () => {
    const s = await startTestServer({ http: { admin: { token: TOKEN, port: 0 } } });
    try {
      const adminPort = s.gateway.adminPort!;
      for (const port of [s.port, adminPort]) {
        for (const headers of [{}, { Authorization: 'Bearer wrong-token-wrong-token' }, { Authorization: TOKEN }, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: `Basic ${TOKEN}` }]) {
          assert.deepEqual(JSON.parse((await request(port, deposit(1), { headers })).body), refused, JSON.stringify(headers));
        }
      }
      assert.equal(await balance(s.port), '0');
      assert.deepEqual(JSON.parse((await request(s.port, deposit(1), { headers: { Authorization: `Bearer ${TOKEN}` } })).body), success);
      assert.deepEqual(JSON.parse((await request(adminPort, deposit(2), { headers: { Authorization: `bearer ${TOKEN}` } })).body), success);
      assert.equal(await balance(s.port), '2');
    } finally {
      s.close();
    }
  });

  it('public_access "token": any client with the token, proxied or not', async () => {
    const s = await startTestServer({ http: { admin: { public_access: 'token', token: TOKEN } } });
    try {
      assert.deepEqual(JSON.parse((await request(s.port, deposit(1))).body), refused);
      const headers = { Authorization: `Bearer ${TOKEN}`, 'X-Forwarded-For': '203.0.113.9' };
      assert.deepEqual(JSON.parse((await request(s.port, deposit(1), { headers })).body), success);
      assert.equal(await balance(s.port), '1');
    } finally {
      s.close();
    }
  });

  it('other methods are not restricted', async () => {
    const s = await startTestServer({ http: { admin: { public_access: 'none' } } });
    try {
      const res = await request(s.port, JSON.stringify({ id: 4, method: 'balance.query', params: [7] }), { headers: { 'X-Forwarded-For': '203.0.113.9' } });
      assert.equal((JSON.parse(res.body) as { error: unknown }).error, null);
    } finally {
      s.close();
    }
  });
});
