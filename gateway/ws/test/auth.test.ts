/**
 * server.auth and server.sign end to end: closed by default, the built-in token table and HMAC
 * keys (correct, wrong, stale, replayed), re-authentication dropping subscriptions, and the
 * original's HTTP callouts (success, refusal with the service's message, timeout, bad replies).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signature } from '../auth.js';
import { calloutOutcome } from '../auth-callout.js';
import { startStubAuth, type StubAuth } from './stub-auth.js';
import { startTestGateway, WsClient, type TestGateway } from './client.js';

const TEST = { timeout: 30_000 };
const TOKEN1 = 'token-of-user-one-000001';
const TOKEN2 = 'token-of-user-two-000002';
const KEY = { access_id: 'key-one', secret_key: 'the-secret-of-key-one', user_id: 1 };
const AUTH_FAIL = { code: 11, message: 'auth fail' };

describe('auth with nothing configured: never open', TEST, () => {
  let g: TestGateway;
  before(async () => {
    g = await startTestGateway();
  });
  after(() => g.close());

  it('every server.auth and server.sign fails with error 11; the connection stays unauthenticated', async () => {
    const c = await WsClient.connect(g.port);
    for (const token of ['', 'good', TOKEN1]) assert.deepEqual((await c.request('server.auth', [token, 'web'])).error, AUTH_FAIL);
    const tonce = Date.now();
    assert.deepEqual((await c.request('server.sign', [KEY.access_id, signature(KEY.secret_key, KEY.access_id, tonce), tonce])).error, AUTH_FAIL);
    assert.equal((await c.request('order.query', ['BTCBCH', 0, 10])).error?.code, 6);
    await c.close();
  });
});

describe('built-in verifier: token table and HMAC keys', TEST, () => {
  let g: TestGateway;
  before(async () => {
    g = await startTestGateway({ ws: { auth: { tokens: { [TOKEN1]: 1, [TOKEN2]: 2 }, keys: [KEY], tonce_window_ms: 30_000 } } });
  });
  after(() => g.close());

  it('server.auth: a known token → success as its user; an unknown one → 11', async () => {
    const c = await WsClient.connect(g.port);
    assert.deepEqual((await c.request('server.auth', ['token-of-nobody-0000000', 'web'])).error, AUTH_FAIL);
    assert.deepEqual(await c.ok('server.auth', [TOKEN2, 'web']), { status: 'success' });
    await g.call('balance.update', [2, 'BTC', 'deposit', 1, '3', {}]);
    assert.deepEqual(await c.ok('asset.query', ['BTC']), { BTC: { available: '3', freeze: '0' } });
    await c.close();
  });

  it('server.auth params: count, types, source of 32 bytes → error 1', async () => {
    const c = await WsClient.connect(g.port);
    for (const params of [[TOKEN1], [TOKEN1, 'web', 1], [1, 'web'], [TOKEN1, 5], [TOKEN1, 'x'.repeat(32)]]) {
      assert.equal((await c.request('server.auth', params)).error?.code, 1, JSON.stringify(params));
    }
    assert.deepEqual(await c.ok('server.auth', [TOKEN1, 'x'.repeat(31)]), { status: 'success' });
    await c.close();
  });

  it('server.sign: a correct HMAC → success; wrong HMAC, unknown key, replayed tonce → 11', async () => {
    const c = await WsClient.connect(g.port);
    const tonce = Date.now();
    const good = signature(KEY.secret_key, KEY.access_id, tonce);
    assert.deepEqual((await c.request('server.sign', [KEY.access_id, signature('another-secret-0000', KEY.access_id, tonce), tonce])).error, AUTH_FAIL);
    assert.deepEqual((await c.request('server.sign', [KEY.access_id, good.toUpperCase().slice(0, 63), tonce])).error, AUTH_FAIL);
    assert.deepEqual((await c.request('server.sign', [KEY.access_id, 'zz' + good.slice(2), tonce])).error, AUTH_FAIL);
    assert.deepEqual((await c.request('server.sign', ['key-two', signature(KEY.secret_key, 'key-two', tonce), tonce])).error, AUTH_FAIL);
    assert.deepEqual((await c.request('server.sign', [KEY.access_id, signature(KEY.secret_key, KEY.access_id, tonce + 1), tonce])).error, AUTH_FAIL);
    assert.equal((await c.request('order.query', ['BTCBCH', 0, 10])).error?.code, 6, 'still not authenticated');
    assert.deepEqual(await c.ok('server.sign', [KEY.access_id, good, tonce]), { status: 'success' });
    assert.equal((await c.request('order.query', ['BTCBCH', 0, 10])).error, null);
    const other = await WsClient.connect(g.port);
    assert.deepEqual((await other.request('server.sign', [KEY.access_id, good, tonce])).error, AUTH_FAIL, 'a signature is good once');
    const next = tonce + 1;
    assert.deepEqual(await other.ok('server.sign', [KEY.access_id, signature(KEY.secret_key, KEY.access_id, next), next]), { status: 'success' });
    await c.close();
    await other.close();
  });

  it('server.sign: a tonce outside ±tonce_window_ms → 11 "tonce out of window", whatever the key', async () => {
    const c = await WsClient.connect(g.port);
    for (const tonce of [Date.now() - 31_000, Date.now() + 31_000, 1]) {
      const reply = await c.request('server.sign', [KEY.access_id, signature(KEY.secret_key, KEY.access_id, tonce), tonce]);
      assert.deepEqual(reply.error, { code: 11, message: 'tonce out of window' }, String(tonce));
      const unknown = await c.request('server.sign', ['no-such-key', signature(KEY.secret_key, 'no-such-key', tonce), tonce]);
      assert.deepEqual(unknown.error, { code: 11, message: 'tonce out of window' });
    }
    await c.close();
  });

  it('server.sign params: tonce 0, negative, fractional or a string; wrong count → error 1', async () => {
    const c = await WsClient.connect(g.port);
    const sig = signature(KEY.secret_key, KEY.access_id, 0);
    for (const params of [[KEY.access_id, sig, 0], [KEY.access_id, sig, -5], [KEY.access_id, sig, 1.5], [KEY.access_id, sig, String(Date.now())],
      [KEY.access_id, sig], [KEY.access_id, 5, Date.now()], [5, sig, Date.now()]]) {
      assert.equal((await c.request('server.sign', params)).error?.code, 1, JSON.stringify(params));
    }
    await c.close();
  });

  it('re-authenticating as another user drops the order and asset subscriptions; as the same user keeps them', async () => {
    const c = await WsClient.connect(g.port);
    await c.ok('server.auth', [TOKEN1, 'web']);
    await c.ok('order.subscribe', ['BTCBCH']);
    await c.ok('asset.subscribe', ['BTC']);
    await c.ok('server.auth', [TOKEN1, 'app']);
    assert.deepEqual([g.gateway.stats().orderSubscribers, g.gateway.stats().assetSubscribers], [1, 1], 'same user: kept');
    assert.deepEqual((await c.request('server.auth', ['token-of-nobody-0000000', 'web'])).error, AUTH_FAIL);
    assert.deepEqual([g.gateway.stats().orderSubscribers, g.gateway.stats().assetSubscribers], [1, 1], 'failed auth: kept');
    await c.ok('server.auth', [TOKEN2, 'web']);
    assert.deepEqual([g.gateway.stats().orderSubscribers, g.gateway.stats().assetSubscribers], [0, 0], 'another user: dropped');
    await g.call('balance.update', [1, 'BTC', 'deposit', 10, '1', {}]);
    await c.ok('asset.subscribe', ['BTC']);
    await g.call('balance.update', [2, 'BTC', 'deposit', 11, '1', {}]);
    const push = await c.nextPush('asset.update');
    assert.deepEqual(push.params, [{ BTC: { available: '4', freeze: '0' } }], "the first push is user 2's");
    await c.close();
  });
});

describe('HTTP callouts (the original\'s auth_url and sign_url)', TEST, () => {
  let stub: StubAuth;
  before(async () => {
    stub = await startStubAuth();
  });
  after(() => stub.close());

  const withGateway = async (auth: Record<string, unknown>, f: (c: WsClient) => Promise<void>): Promise<void> => {
    const g = await startTestGateway({ ws: { auth } });
    const c = await WsClient.connect(g.port);
    try {
      await f(c);
    } finally {
      await c.close();
      await g.close();
    }
  };

  it('sign_url: GET ?access_id=…&tonce=… with the authorisation header; code ≠ 0 → 11 with the message', async () => {
    await withGateway({ sign_url: `${stub.url}/sign` }, async (c) => {
      assert.deepEqual((await c.request('server.sign', ['a b&c', 'wrong', 42])).error, { code: 11, message: 'bad signature' });
      assert.deepEqual(stub.seen.at(-1), { method: 'GET', path: '/sign?access_id=a+b%26c&tonce=42', authorization: 'wrong' });
      assert.deepEqual(await c.ok('server.sign', ['a b&c', 'signed', 43]), { status: 'success' });
      await c.ok('order.subscribe', ['BTCBCH']);
    });
  });

  it('a built-in token wins before the callout; unknown tokens go to the callout', async () => {
    await withGateway({ auth_url: `${stub.url}/auth`, tokens: { [TOKEN2]: 2 } }, async (c) => {
      const calls = stub.seen.length;
      assert.deepEqual(await c.ok('server.auth', [TOKEN2, 'web']), { status: 'success' });
      assert.equal(stub.seen.length, calls, 'no callout for a known token');
      assert.deepEqual(await c.ok('server.auth', ['good', 'web']), { status: 'success' });
      assert.equal(stub.seen.length, calls + 1);
    });
  });

  it('no answer within timeout_ms → 5; unreadable reply or user 0 → 2; a token that cannot be a header → 1', async () => {
    await withGateway({ auth_url: `${stub.url}/slow`, timeout_ms: 200 }, async (c) => {
      assert.deepEqual((await c.request('server.auth', ['good', 'web'])).error, { code: 5, message: 'service timeout' });
      assert.deepEqual((await c.request('server.auth', ['bad\r\nX-Injected: 1', 'web'])).error, { code: 1, message: 'invalid argument' });
    });
    await withGateway({ auth_url: `${stub.url}/garbage` }, async (c) => {
      assert.deepEqual((await c.request('server.auth', ['good', 'web'])).error, { code: 2, message: 'internal error' });
    });
    await withGateway({ auth_url: `${stub.url}/zero` }, async (c) => {
      assert.deepEqual((await c.request('server.auth', ['good', 'web'])).error, { code: 2, message: 'internal error' });
    });
    await withGateway({ auth_url: 'http://127.0.0.1:1/auth' }, async (c) => {
      assert.deepEqual((await c.request('server.auth', ['good', 'web'])).error, { code: 2, message: 'internal error' });
    });
  });

  it('calloutOutcome reads the reply contract', () => {
    assert.deepEqual(calloutOutcome('{"code":0,"message":"ok","data":{"user_id":9}}'), { user: 9 });
    assert.deepEqual(calloutOutcome('{"code":3,"message":"expired"}'), { error: { code: 11, message: 'expired' } });
    for (const body of ['', 'null', '[]', '{"code":"0","data":{"user_id":9}}', '{"code":1}', '{"code":0}', '{"code":0,"data":{"user_id":"9"}}',
      '{"code":0,"data":{"user_id":-1}}', '{"code":0,"data":{"user_id":4294967296}}', '{"code":0.5,"data":{"user_id":9}}']) {
      assert.deepEqual(calloutOutcome(body), { error: { code: 2, message: 'internal error' } }, body);
    }
  });
});
