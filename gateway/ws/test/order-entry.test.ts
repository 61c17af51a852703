/**
 * End-to-end tests of WebSocket order entry (our extension) over real sockets on 127.0.0.1:
 * order.put_limit / order.put_market / order.cancel as JSON requests, as JSON batches and as
 * binary records — success, every error path against the HTTP method's answer for the same
 * params, authentication, pipelining with replies in request order (also behind two shards), and
 * balances seen through balance.query.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import { Router } from '../../../engine/router/router.js';
import { ShardedEngineClient } from '../../engine-client.js';
import type { OrderInfo } from '../../rpc/format.js';
import { OrderOp } from '../../rpc/order-entry.js';
import { readReply, REPLY_SIZE, REQUEST_SIZE, writeRequest, type BinaryReply, type BinaryRequest } from '../binary.js';
import { startWsGateway } from '../server.js';
import { startTestGateway, WsClient, type Reply, type TestGateway } from './client.js';

const TEST = { timeout: 60_000 };
const TOKENS = { 'token-of-user-one-000001': 1, 'token-of-user-two-000002': 2, 'token-of-user-three-0003': 3 };
const BTCBCH = 0;
const WEB = new TextEncoder().encode('web');

function binaryFrame(records: readonly Partial<BinaryRequest>[]): Buffer {
  const bytes = Buffer.alloc(records.length * REQUEST_SIZE);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  records.forEach((r, i) => writeRequest(v, i * REQUEST_SIZE, {
    op: OrderOp.PUT_LIMIT, side: 1, market: BTCBCH, id: i + 1, amount: 0, price: 0, takerFee: 0, makerFee: 0, source: new Uint8Array(0), ...r,
  }));
  return bytes;
}

function replies(frame: Buffer): BinaryReply[] {
  assert.equal(frame.byteLength % REPLY_SIZE, 0, 'whole reply records');
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return Array.from({ length: frame.byteLength / REPLY_SIZE }, (_, i) => readReply(v, i * REPLY_SIZE));
}

/** Sends one binary frame and returns its answer's records. */
async function binary(c: WsClient, records: readonly Partial<BinaryRequest>[]): Promise<BinaryReply[]> {
  const n = c.binaries.length;
  c.sendRaw(binaryFrame(records), true);
  return replies(await c.binary(n));
}

/** A gateway where user 1 holds 10 BTC and user 2 100,000 BCH, and a client connected to it (not authenticated yet). */
async function fundedGateway(): Promise<{ g: TestGateway; c: WsClient }> {
  const g = await startTestGateway({ ws: { max_requests_per_second: 1_000_000, auth: { tokens: TOKENS } } });
  await g.call('balance.update', [1, 'BTC', 'deposit', 1, '10', {}]);
  await g.call('balance.update', [2, 'BCH', 'deposit', 2, '100000', {}]);
  return { g, c: await WsClient.connect(g.port) };
}

describe('WebSocket order entry (JSON)', TEST, () => {
  let g: TestGateway;
  let c: WsClient;
  before(async () => {
    ({ g, c } = await fundedGateway());
  });
  after(async () => {
    await c.close();
    await g.close();
  });

  it('needs server.auth first: error 6, nothing placed', async () => {
    for (const [method, params] of [
      ['order.put_limit', ['BTCBCH', 1, '1', '5000', '0.002', '0.001', 'web']],
      ['order.put_market', ['BTCBCH', 1, '1', '0.002', 'web']],
      ['order.cancel', ['BTCBCH', 1]],
    ] as const) {
      assert.deepEqual((await c.request(method, [...params])).error, { code: 6, message: 'require authentication' }, method);
    }
    assert.deepEqual(await g.call('order.depth', ['BTCBCH', 10, '0']), { asks: [], bids: [] });
  });

  it('order.put_limit as the session\'s user → the order object of HTTP\'s order.put_limit; balances move', async () => {
    await c.ok('server.auth', ['token-of-user-one-000001', 'web']);
    const reply = await c.request('order.put_limit', ['BTCBCH', 1, '2', '5000', '0.002', '0.001', 'ws']);
    assert.equal(reply.error, null);
    const order = reply.result as OrderInfo;
    assert.deepEqual({ ...order, ctime: 0, mtime: 0 }, {
      id: order.id, market: 'BTCBCH', source: 'ws', type: 1, side: 1, user: 1, ctime: 0, mtime: 0, price: '5000', amount: '2',
      taker_fee: '0.002', maker_fee: '0.001', left: '2', deal_stock: '0', deal_money: '0', deal_fee: '0',
    });
    assert.deepEqual(await g.call('order.pending_detail', ['BTCBCH', order.id]), order, 'the same object as the HTTP method layer prints');
    assert.deepEqual(await c.ok('asset.query', ['BTC']), { BTC: { available: '8', freeze: '2' } });
    assert.deepEqual(await g.call('balance.query', [1, 'BTC']), { BTC: { available: '8', freeze: '2' } });
  });

  it('order.put_market and order.cancel → the order objects; a fill moves both users\' balances', async () => {
    const d = await WsClient.connect(g.port);
    try {
      await d.ok('server.auth', ['token-of-user-two-000002', 'web']);
      const bought = await d.ok<OrderInfo>('order.put_market', ['BTCBCH', 2, '5000', '0.002', 'ws']);
      assert.deepEqual([bought.type, bought.side, bought.user, bought.deal_stock, bought.deal_money, bought.left], [2, 2, 2, '1', '5000', '0']);
      assert.deepEqual(await g.call('balance.query', [2, 'BTC', 'BCH']), { BTC: { available: '0.998', freeze: '0' }, BCH: { available: '95000', freeze: '0' } });
      const pending = (await c.ok<{ records: OrderInfo[] }>('order.query', ['BTCBCH', 0, 10])).records;
      assert.equal(pending.length, 1);
      const cancelled = await c.ok<OrderInfo>('order.cancel', ['BTCBCH', pending[0]!.id]);
      assert.deepEqual([cancelled.id, cancelled.left, cancelled.deal_stock], [pending[0]!.id, '1', '1']);
      assert.deepEqual(await g.call('balance.query', [1, 'BTC', 'BCH']), { BTC: { available: '9', freeze: '0' }, BCH: { available: '4995', freeze: '0' } });
    } finally {
      await d.close();
    }
  });

  it('every error is the HTTP method\'s error for the same params (user id added)', async () => {
    const other = await g.call<OrderInfo>('order.put_limit', [2, 'BTCBCH', 1, '0.5', '90000', '0', '0', 'web']);
    const cases: [string, unknown[]][] = [
      ['order.put_limit', []],
      ['order.put_limit', ['BTCBCH', 1, '1', '5000', '0.002', '0.001']],
      ['order.put_limit', ['BTCBCH', 1, '1', '5000', '0.002', '0.001', 'web', 'extra']],
      ['order.put_limit', ['NOPE', 1, '1', '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 3, '1', '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', '1', '1', '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, 1, '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '0', '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '-1', '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '1.000000001', '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '1e-9', '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, 'NaN', '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '.', '5000', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '1', '0', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '1', '90071992547.40993', '0.002', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '1', '5000', '1', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '1', '5000', '0.002', '-0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '1', '5000', '0.00001', '0.001', 'web']],
      ['order.put_limit', ['BTCBCH', 1, '1', '5000', '0.002', '0.001', 'x'.repeat(31)]],
      ['order.put_limit', ['BTCBCH', 1, '1', '5000', '0.002', '0.001', 7]],
      ['order.put_limit', ['BTCBCH', 1, '100', '5000', '0.002', '0.001', 'web']], // balance not enough (10)
      ['order.put_limit', ['BTCBCH', 1, '0.0001', '5000', '0.002', '0.001', 'web']], // amount too small (11)
      ['order.put_limit', ['BTCBCH', 1, '1.50000000000', '5000.0', '0.0020', '1e-3', 'web']], // trailing zeros, exponent: fine
      ['order.put_market', ['BTCBCH', 1, '1', '0.002']],
      ['order.put_market', ['BTCBCH', 1, '0', '0.002', 'web']],
      ['order.put_market', ['BTCBCH', 1, '100', '0.002', 'web']], // balance not enough (10)
      ['order.put_market', ['BTCBCH', 2, '1', '0.002', 'web']], // below best ask × min_amount: amount too small (11)
      ['order.put_market', ['BTCBCH', 1, '1', '0.002', 'web']], // no bids: no enough trader (12)
      ['order.put_market', ['LTCBCH', 1, '1', '0.002', 'web']], // no LTC: balance not enough (10)
      ['order.cancel', ['BTCBCH']],
      ['order.cancel', ['BTCBCH', 0]],
      ['order.cancel', ['BTCBCH', 1.5]],
      ['order.cancel', ['BTCBCH', '1']],
      ['order.cancel', ['BTCBCH', 999_999]], // order not found (10)
      ['order.cancel', ['BTCBCH', other.id]], // user not match (11)
    ];
    const codes = new Set<number>();
    for (const [method, params] of cases) {
      const label = `${method} ${JSON.stringify(params)}`;
      const ws = await c.request(method, params);
      const http = await g.client.call(method, [1, ...params]);
      if ('error' in http) {
        assert.deepEqual(ws.error, http.error, label);
        codes.add(http.error.code);
      } else {
        assert.equal(ws.error, null, label);
        assert.deepEqual({ ...(ws.result as OrderInfo), id: 0, ctime: 0, mtime: 0 }, { ...(http.result as OrderInfo), id: 0, ctime: 0, mtime: 0 }, label);
        await g.call('order.cancel', [1, 'BTCBCH', (http.result as OrderInfo).id]);
        await g.call('order.cancel', [1, 'BTCBCH', (ws.result as OrderInfo).id]);
      }
    }
    assert.deepEqual([...codes].sort((a, b) => a - b), [1, 10, 11, 12]);
    await g.call('order.cancel', [2, 'BTCBCH', other.id]);
  });

  it('pipelined: 500 requests sent at once are answered in order; balances add up', async () => {
    const before = await c.ok<Record<string, { available: string; freeze: string }>>('asset.query', ['BTC']);
    const ids: number[] = [];
    for (let k = 0; k < 500; k++) {
      const id = 10_000 + k;
      ids.push(id);
      const method = k % 50 === 49 ? 'server.ping' : 'order.put_limit';
      c.sendRaw(JSON.stringify({ id, method, params: method === 'server.ping' ? [] : ['BTCBCH', 1, '0.01', String(6000 + k), '0', '0', 'pipe'] }));
    }
    await c.reply(ids.at(-1)!);
    const answered = c.messages.filter((m): m is Reply => m.id !== null && m.id >= 10_000 && m.id < 10_500);
    assert.deepEqual(answered.map((m) => m.id), ids, 'replies in request order');
    assert.ok(answered.every((m) => m.error === null));
    const after = await c.ok<Record<string, { available: string; freeze: string }>>('asset.query', ['BTC']);
    assert.equal(Number(before.BTC!.available) - Number(after.BTC!.available), 4.9);
    assert.equal(Number(after.BTC!.freeze) - Number(before.BTC!.freeze), 4.9);
    assert.equal((await c.ok<{ total: number }>('order.query', ['BTCBCH', 0, 1])).total, 490);
    for (const m of answered) if (typeof m.result === 'object') await g.call('order.cancel', [1, 'BTCBCH', (m.result as OrderInfo).id]);
  });

  it('batch: an array of requests → one array of replies, in order, errors included', async () => {
    const texts = c.texts.length;
    c.sendRaw(JSON.stringify([
      { id: 1, method: 'order.put_limit', params: ['BTCBCH', 1, '0.5', '7000', '0', '0', 'batch'] },
      { id: 2, method: 'order.put_limit', params: ['BTCBCH', 1, '5000', '7000', '0', '0', 'batch'] },
      { id: 3, method: 'server.ping', params: [] },
      { id: 4, method: 'no.such', params: [] },
      { id: 5, method: 'order.cancel', params: ['BTCBCH', 999_999] },
    ]));
    await c.reply(5).catch(() => undefined);
    const batch = await new Promise<unknown[]>((resolve, reject) => {
      const t0 = Date.now();
      const poll = (): void => {
        const text = c.garbage.length > 0 ? null : c.texts.slice(texts).find((x) => x.startsWith('['));
        if (text) resolve(JSON.parse(text) as unknown[]);
        else if (Date.now() - t0 > 5000) reject(new Error('no batch reply'));
        else setTimeout(poll, 5);
      };
      poll();
    });
    assert.equal(batch.length, 5);
    const [placed, poor, pong, unknown, missing] = batch as Reply[];
    assert.equal(placed!.id, 1);
    assert.equal((placed!.result as OrderInfo).source, 'batch');
    assert.deepEqual(poor, { error: { code: 10, message: 'balance not enough' }, result: null, id: 2 });
    assert.deepEqual(pong, { error: null, result: 'pong', id: 3 });
    assert.deepEqual(unknown, { error: { code: 4, message: 'method not found' }, result: null, id: 4 });
    assert.deepEqual(missing, { error: { code: 10, message: 'order not found' }, result: null, id: 5 });
    await c.ok('order.cancel', ['BTCBCH', (placed!.result as OrderInfo).id]);
  });

  it('a batch that is empty or holds a non-request closes the connection, like any unreadable frame', async () => {
    for (const frame of ['[]', '[{"id": 1, "method": "server.ping", "params": []}, 1]', '[[{"id": 1, "method": "server.ping", "params": []}]]']) {
      const d = await WsClient.connect(g.port);
      d.sendRaw(frame);
      assert.equal(await d.whenClosed(), 1003, frame);
      assert.equal(d.messages.length, 0);
    }
  });
});

describe('WebSocket order entry (binary records)', TEST, () => {
  let g: TestGateway;
  let c: WsClient;
  before(async () => {
    ({ g, c } = await fundedGateway());
  });
  after(async () => {
    await c.close();
    await g.close();
  });

  it('before server.auth: error 6 per record (an unknown op is 4 first, as an unknown method)', async () => {
    const r = await binary(c, [{ amount: 100_000_000, price: 500_000_000_000, source: WEB }, { op: 3, side: 0, amount: 1, id: 2 }, { op: 9, id: 3 }]);
    assert.deepEqual(r.map((x) => [x.id, x.error]), [[1, 6], [2, 6], [3, 4]]);
  });

  it('put_limit, put_market, cancel: the order in integer units; the same order as order.pending_detail', async () => {
    await c.ok('server.auth', ['token-of-user-one-000001', 'web']);
    const [ask] = await binary(c, [{ id: 77, side: 1, amount: 200_000_000, price: 500_000_000_000, takerFee: 20, makerFee: 10, source: WEB }]);
    assert.deepEqual({ ...ask!, orderId: 0, ctime: 0, mtime: 0 }, {
      op: 1, side: 1, market: 0, id: 77, error: 0, type: 1, orderId: 0, ctime: 0, mtime: 0, price: 500_000_000_000,
      amount: 200_000_000n, left: 200_000_000n, dealStock: 0, dealMoney: 0n, dealFee: 0n, takerFee: 20, makerFee: 10,
    });
    const json = await g.call<OrderInfo>('order.pending_detail', ['BTCBCH', ask!.orderId]);
    assert.deepEqual([json.id, json.amount, json.price, json.taker_fee, json.maker_fee, json.source, json.ctime, json.mtime],
      [ask!.orderId, '2', '5000', '0.002', '0.001', 'web', ask!.ctime / 1e6, ask!.mtime / 1e6]);
    assert.deepEqual(await g.call('balance.query', [1, 'BTC']), { BTC: { available: '8', freeze: '2' } });

    const d = await WsClient.connect(g.port);
    await d.ok('server.auth', ['token-of-user-two-000002', 'web']);
    // a market bid spending 5000 BCH (amount at stock_prec, in lots: 5000 × 10^8)
    const [bid] = await binary(d, [{ op: 2, side: 2, amount: 500_000_000_000, takerFee: 20, source: WEB }]);
    assert.deepEqual([bid!.error, bid!.type, bid!.side, bid!.dealStock, bid!.dealMoney, bid!.left, bid!.amount],
      [0, 2, 2, 100_000_000, 5000n * 10n ** 12n, 0n, 5000n * 10n ** 12n]);
    assert.equal(bid!.dealFee, 2n * 10n ** 9n, '0.2% of 1 BTC, in units of BTC\'s prec_save (12)');
    await d.close();

    const [cancelled] = await binary(c, [{ op: 3, side: 0, amount: ask!.orderId, id: 5 }]);
    assert.deepEqual([cancelled!.error, cancelled!.orderId, cancelled!.left, cancelled!.dealStock], [0, ask!.orderId, 100_000_000n, 100_000_000]);
    assert.deepEqual(await g.call('balance.query', [1, 'BTC', 'BCH']), { BTC: { available: '9', freeze: '0' }, BCH: { available: '4995', freeze: '0' } });
  });

  it('every field is checked with the JSON method\'s rules and codes', async () => {
    const other = await g.call<OrderInfo>('order.put_limit', [2, 'LTCBCH', 2, '1', '1', '0', '0', 'web']);
    const ok = { op: 1, side: 1, amount: 100_000_000, price: 600_000_000_000, source: WEB };
    const cases: [Partial<BinaryRequest>, number][] = [
      [{ ...ok, op: 0 }, 4], [{ ...ok, op: 4 }, 4],
      [{ ...ok, market: 9 }, 1], [{ ...ok, side: 0 }, 1], [{ ...ok, side: 3 }, 1],
      [{ ...ok, amount: 0 }, 1], [{ ...ok, amount: 2 ** 53 }, 1], [{ ...ok, price: 0 }, 1], [{ ...ok, price: 2 ** 60 }, 1],
      [{ ...ok, takerFee: 10_000 }, 1], [{ ...ok, makerFee: 10_000 }, 1],
      [{ ...ok, source: new Uint8Array(31).fill(97) }, 1], [{ ...ok, source: new Uint8Array([0xff, 0xfe]) }, 1],
      [{ ...ok, amount: 100_000_000_000 }, 10], [{ ...ok, amount: 10_000 }, 11],
      [{ ...ok, op: 2, price: 0 }, 12], [{ ...ok, op: 2, price: 1 }, 1], [{ ...ok, op: 2, price: 0, makerFee: 1 }, 1],
      [{ ...ok, op: 2, price: 0, market: 1 }, 10], [{ ...ok, op: 2, side: 2, price: 0, market: 1 }, 12],
      [{ op: 3, side: 0, amount: 999_999 }, 10], [{ op: 3, side: 0, market: 1, amount: other.id }, 11], [{ op: 3, side: 0, amount: 0 }, 1],
      [{ op: 3, side: 1, market: 1, amount: other.id }, 1], [{ op: 3, side: 0, market: 1, amount: other.id, source: WEB }, 1],
      [{ op: 3, side: 0, market: 1, amount: other.id, price: 1 }, 1],
      [{ ...ok, takerFee: 9999, makerFee: 9999, source: new Uint8Array(30).fill(97) }, 0],
    ];
    const r = await binary(c, cases.map(([record], i) => ({ ...record, id: 1000 + i })));
    assert.deepEqual(r.map((x) => x.id), cases.map((_, i) => 1000 + i), 'in order, ids echoed');
    assert.deepEqual(r.map((x) => x.error), cases.map(([, code]) => code));
    for (const x of r) {
      if (x.error !== 0) assert.deepEqual([x.orderId, x.type, x.dealMoney], [0, 0, 0n], 'no order on error');
      else if (x.op === 1) await g.call('order.cancel', [1, 'BTCBCH', x.orderId]);
    }
    // A non-zero padding byte after the source is a bad field too.
    const frame = binaryFrame([{ ...ok, id: 1 }]);
    frame[REQUEST_SIZE - 1] = 1;
    const n = c.binaries.length;
    c.sendRaw(frame, true);
    assert.equal(replies(await c.binary(n))[0]!.error, 1);
  });

  it('many records per frame and many frames in flight: replies in order, balances add up', async () => {
    const before = await g.call<Record<string, { available: string }>>('balance.query', [1, 'BTC']);
    const frames = 20;
    const per = 50;
    const n = c.binaries.length;
    for (let f = 0; f < frames; f++) {
      c.sendRaw(binaryFrame(Array.from({ length: per }, (_, k) => ({ id: f * per + k, amount: 100_000, price: 700_000_000_000 + f * per + k, source: WEB }))), true);
    }
    const all: BinaryReply[] = [];
    for (let f = 0; f < frames; f++) all.push(...replies(await c.binary(n + f)));
    assert.deepEqual(all.map((x) => x.id), Array.from({ length: frames * per }, (_, i) => i));
    assert.ok(all.every((x) => x.error === 0));
    const after = await g.call<Record<string, { available: string; freeze: string }>>('balance.query', [1, 'BTC']);
    assert.equal(Math.round((Number(before.BTC!.available) - Number(after.BTC!.available)) * 1e8), frames * per * 100_000);
    await binary(c, all.map((x, i) => ({ op: 3, side: 0, amount: x.orderId, id: i })));
  });

  it('a binary frame that is not whole records closes the connection; JSON in binary frames still works', async () => {
    const d = await WsClient.connect(g.port);
    d.sendRaw(Buffer.from(JSON.stringify({ id: 1, method: 'server.ping', params: [] })), true);
    assert.equal((await d.reply(1)).result, 'pong');
    d.sendRaw(Buffer.concat([binaryFrame([{}]), Buffer.from([1])]), true);
    assert.equal(await d.whenClosed(), 1003);
    assert.equal(d.binaries.length, 0);
  });

  it('requests over ws.max_requests_per_second get error 3 per record', async () => {
    const slow = await startTestGateway({ ws: { max_requests_per_second: 3, auth: { tokens: TOKENS } } });
    const d = await WsClient.connect(slow.port);
    try {
      await d.ok('server.auth', ['token-of-user-one-000001', 'web']); // 1 of 3
      const r = await binary(d, [{ op: 3, side: 0, amount: 5 }, { op: 3, side: 0, amount: 5 }, { op: 3, side: 0, amount: 5 }]);
      assert.deepEqual(r.map((x) => x.error), [10, 10, 3]);
    } finally {
      await d.close();
      await slow.close();
    }
  });
});

describe('WebSocket order entry behind the sharded engine (two shards)', TEST, () => {
  it('pipelined JSON and binary orders on markets of both shards: replies in request order, balances exact', async () => {
    const config = validateConfig({
      ...defaultConfig,
      engine: { max_users: 256, max_orders_per_market: 8192, max_levels_per_side: 4096, shards: 2, ring_bytes: 1 << 16, depth_levels: 16, assignment: { BTCBCH: 0, LTCBCH: 1 } },
      ws: { host: '127.0.0.1', port: 0, max_requests_per_second: 1_000_000, auth: { tokens: TOKENS } },
    });
    const router = await Router.start(config);
    const client = new ShardedEngineClient(router);
    const gateway = await startWsGateway(client, config, { logger: pino({ level: 'silent' }) });
    const call = async <T>(method: string, params: unknown[]): Promise<T> => {
      const outcome = await client.call(method, params);
      if ('error' in outcome) throw new Error(`${method}: ${JSON.stringify(outcome.error)}`);
      return outcome.result as T;
    };
    const c = await WsClient.connect(gateway.port);
    try {
      await call('balance.update', [1, 'BTC', 'deposit', 1, '100', {}]);
      await call('balance.update', [1, 'LTC', 'deposit', 2, '100', {}]);
      await c.ok('server.auth', ['token-of-user-one-000001', 'web']);
      const count = 400;
      for (let k = 0; k < count; k++) {
        const market = k % 2 === 0 ? 'BTCBCH' : 'LTCBCH';
        c.sendRaw(JSON.stringify({ id: 50_000 + k, method: 'order.put_limit', params: [market, 1, '0.1', String(100 + k), '0', '0', 'web'] }));
      }
      await c.reply(50_000 + count - 1);
      const answered = c.messages.filter((m): m is Reply => m.id !== null && m.id >= 50_000 && m.id < 1_000_000);
      assert.deepEqual(answered.map((m) => m.id), Array.from({ length: count }, (_, k) => 50_000 + k), 'in request order across shards');
      assert.ok(answered.every((m) => m.error === null), JSON.stringify(answered.find((m) => m.error !== null)));

      const n = c.binaries.length;
      for (let f = 0; f < 10; f++) {
        c.sendRaw(binaryFrame(Array.from({ length: 40 }, (_, k) => ({ id: f * 40 + k, market: k % 2, amount: 10_000_000, price: 10_000_000_000 + k, source: WEB }))), true);
      }
      const all: BinaryReply[] = [];
      for (let f = 0; f < 10; f++) all.push(...replies(await c.binary(n + f)));
      assert.deepEqual(all.map((x) => x.id), Array.from({ length: 400 }, (_, i) => i));
      assert.ok(all.every((x) => x.error === 0));
      assert.deepEqual(await c.ok('asset.query', ['BTC', 'LTC']), {
        BTC: { available: '60', freeze: '40' }, LTC: { available: '60', freeze: '40' },
      });
      const r = await binary(c, all.map((x, i) => ({ op: 3, side: 0, market: x.market, amount: x.orderId, id: i })));
      assert.ok(r.every((x) => x.error === 0));
      assert.deepEqual(await call('balance.query', [1, 'BTC', 'LTC']), { BTC: { available: '80', freeze: '20' }, LTC: { available: '80', freeze: '20' } });
    } finally {
      await c.close();
      await gateway.close();
      await router.stop();
    }
  });
});
