/**
 * Per-connection limits end to end: requests per second, message size, names per subscribe, the
 * idle timeout, the handshake rules, and back-pressure: a client that stops reading while pushes
 * pile up is disconnected, and the server goes on serving the others.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, startTestGateway, WsClient, type TestGateway } from './client.js';

const TEST = { timeout: 60_000 };
const TOKEN = 'token-of-user-one-000001';

async function withGateway(ws: NonNullable<Parameters<typeof startTestGateway>[0]>['ws'], f: (g: TestGateway) => Promise<void>): Promise<void> {
  const g = await startTestGateway({ ws: { ...ws, auth: { tokens: { [TOKEN]: 1 } } } });
  try {
    await f(g);
  } finally {
    await g.close();
  }
}

describe('per-connection limits', TEST, () => {
  it('more than max_requests_per_second → error 3 "too many requests" for the excess; other connections unaffected', async () => {
    await withGateway({ max_requests_per_second: 10 }, async (g) => {
      const c = await WsClient.connect(g.port);
      for (let id = 1; id <= 40; id++) c.sendRaw(JSON.stringify({ id, method: 'server.ping', params: [] }));
      await c.reply(40);
      const refused = c.messages.filter((m) => 'error' in m && m.error?.code === 3);
      const served = c.messages.filter((m) => 'result' in m && m.result === 'pong');
      assert.equal(refused.length + served.length, 40);
      assert.ok(served.length >= 10 && served.length <= 20, `served ${served.length}: at most two windows' worth`);
      assert.deepEqual(refused[0] && 'error' in refused[0] ? refused[0].error : null, { code: 3, message: 'too many requests' });
      const other = await WsClient.connect(g.port);
      assert.equal(await other.ok('server.ping'), 'pong');
      await c.close();
      await other.close();
    });
  });

  it('a message above max_message_bytes closes the connection', async () => {
    await withGateway({ max_message_bytes: 1024 }, async (g) => {
      const c = await WsClient.connect(g.port);
      const fits = JSON.stringify({ id: 1, method: 'server.ping', params: ['x'.repeat(900)] });
      assert.ok(fits.length <= 1024);
      c.sendRaw(fits);
      assert.equal((await c.reply(1)).result, 'pong');
      c.sendRaw(JSON.stringify({ id: 2, method: 'server.ping', params: ['x'.repeat(2000)] }));
      await c.whenClosed();
      assert.equal(c.messages.length, 1);
    });
  });

  it('a subscribe naming more than max_subscriptions → error 1, the previous set stays', async () => {
    await withGateway({ max_subscriptions: 2 }, async (g) => {
      const c = await WsClient.connect(g.port);
      await c.ok('server.auth', [TOKEN, 'web']);
      await c.ok('asset.subscribe', ['BTC', 'BCH']);
      await c.ok('order.subscribe', ['BTCBCH', 'LTCBCH']);
      assert.equal((await c.request('asset.subscribe', ['BTC', 'BCH', 'LTC'])).error?.code, 1);
      assert.equal((await c.request('order.subscribe', ['BTCBCH', 'LTCBCH', 'ETHBCH'])).error?.code, 1);
      await g.call('balance.update', [1, 'BCH', 'deposit', 1, '5', {}]);
      assert.deepEqual((await c.nextPush('asset.update')).params, [{ BCH: { available: '5', freeze: '0' } }]);
      await c.close();
    });
  });

  it('a connection that sends nothing for idle_timeout_ms is closed; an active one is not', async () => {
    await withGateway({ idle_timeout_ms: 300 }, async (g) => {
      const idle = await WsClient.connect(g.port);
      await idle.whenClosed();
      assert.equal(g.gateway.stats().connections, 0);
      const active = await WsClient.connect(g.port);
      assert.equal(await active.ok('server.ping'), 'pong');
      await active.close();
    });
  });

  it('handshake: a client offering subprotocols must offer "chat" (named in the reply); ws.origin is a suffix rule', async () => {
    await withGateway({ origin: '.example.com' }, async (g) => {
      const chat = await WsClient.connect(g.port, { protocols: ['other', 'chat'], headers: { Origin: 'https://www.example.com' } });
      assert.equal(chat.socket.protocol, 'chat');
      const none = await WsClient.connect(g.port, { headers: { Origin: 'https://app.example.com' } });
      assert.equal(none.socket.protocol, '');
      await assert.rejects(WsClient.connect(g.port, { protocols: ['other'], headers: { Origin: 'https://www.example.com' } }), /400/);
      await assert.rejects(WsClient.connect(g.port, { headers: { Origin: 'https://example.com.evil.org' } }), /400/);
      await assert.rejects(WsClient.connect(g.port), /400/);
      await chat.close();
      await none.close();
    });
  });
});

describe('back-pressure: a client that does not read', TEST, () => {
  it('is disconnected once its buffered pushes pass max_backpressure_bytes; the others keep being served', async () => {
    await withGateway({ max_backpressure_bytes: 64 * 1024, max_requests_per_second: 1000 }, async (g) => {
      const slow = await WsClient.connect(g.port);
      const fine = await WsClient.connect(g.port);
      for (const c of [slow, fine]) {
        await c.ok('server.auth', [TOKEN, 'web']);
        await c.ok('order.subscribe', ['BTCBCH']);
        await c.ok('asset.subscribe', ['BTC', 'BCH']);
      }
      await g.call('balance.update', [1, 'BTC', 'deposit', 1, '1000000', {}]);
      (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      let received = fine.messages.length;
      // Place and cancel orders until the server gives up on the slow client (kernel buffers fill first).
      let rounds = 0;
      while (g.gateway.stats().connections === 2) {
        for (let i = 0; i < 200; i++) {
          const order = await g.call<{ id: number }>('order.put_limit', [1, 'BTCBCH', 1, '1', String(10000 + (rounds % 1000)), '0', '0', 'a-rather-long-source-label-xx']);
          await g.call('order.cancel', [1, 'BTCBCH', order.id]);
        }
        rounds++;
        // let the sockets drain for the client that reads
        await eventually(() => fine.messages.length > received, 'the reading client gets its pushes');
        received = fine.messages.length;
        assert.ok(rounds < 2000, 'the slow client was never disconnected');
      }
      assert.equal(g.gateway.stats().slowClosed, 1);
      assert.ok(g.logs.some((line) => line.includes('did not read its pushes')));
      assert.equal(fine.closed, false);
      assert.equal(await fine.ok('server.ping'), 'pong');
      const order = await g.call<{ id: number }>('order.put_limit', [1, 'BTCBCH', 1, '1', '20000', '0', '0', 'web']);
      assert.equal((await fine.nextPush('order.update', (p) => (p.params[1] as { id: number }).id === order.id)).params[0], 1);
      (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
      await slow.whenClosed(20_000);
      await fine.close();
    });
  });
});
