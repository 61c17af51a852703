/**
 * A time-boxed fuzz of WebSocket frames (fast-check): random text, random JSON, random bytes as
 * binary frames, and request-shaped objects with random ids, method names and params. The server
 * must close the connection on exactly the frames that are not a request, answer every request
 * with its id, log no internal error, and leave the engine and the subscriptions as they were.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { wsMethodNames } from '../methods.js';
import { eventually, startTestGateway, WsClient, type Reply, type TestGateway } from './client.js';

const TOKEN = 'token-of-user-one-000001';
const PROBE = Number.MAX_SAFE_INTEGER;

interface Frame {
  readonly data: string | Buffer;
  readonly binary: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The rule the gateway must apply: a JSON object with an integer id, a string method and an array of params. */
function isRequest(frame: Frame): { id: number } | null {
  let text: string;
  try {
    text = typeof frame.data === 'string' ? Buffer.from(frame.data).toString('utf8') : utf8.decode(frame.data);
  } catch {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { id, method, params } = value as Record<string, unknown>;
  return typeof id === 'number' && Number.isSafeInteger(id) && typeof method === 'string' && Array.isArray(params) ? { id } : null;
}

const methodName = fc.oneof(
  fc.constantFrom(...wsMethodNames, 'order.put_limit', 'balance.update', 'no.such', '__proto__', 'constructor', 'toString'),
  fc.string(),
);
const requestLike = fc.record({
  id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.constant(undefined)),
  method: fc.oneof(methodName, fc.integer()),
  params: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 6 }), fc.jsonValue()),
}, { requiredKeys: [] });

const frames: fc.Arbitrary<Frame> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }).map((data) => ({ data, binary: false })),
  fc.json().map((data) => ({ data, binary: false })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true })),
  requestLike.map((r) => ({ data: JSON.stringify(r), binary: false })),
  requestLike.map((r) => ({ data: Buffer.from(JSON.stringify(r)), binary: true })),
);

describe('fuzz: random frames', { timeout: 60_000 }, () => {
  let g: TestGateway;
  before(async () => {
    g = await startTestGateway({ ws: { max_requests_per_second: 1_000_000, auth: { tokens: { [TOKEN]: 1 } } } });
    await g.call('balance.update', [1, 'BTC', 'deposit', 1, '10', {}]);
    await g.call('balance.update', [2, 'BCH', 'deposit', 2, '100000', {}]);
    await g.call('order.put_limit', [1, 'BTCBCH', 1, '2', '5000', '0', '0', 'web']);
    await g.call('order.put_limit', [2, 'BTCBCH', 2, '1', '4000', '0', '0', 'web']);
  });
  after(() => g.close());

  const engineState = async (): Promise<string> => JSON.stringify([
    await g.call('balance.query', [1]), await g.call('balance.query', [2]),
    await g.call('order.depth', ['BTCBCH', 100, '0']), await g.call('order.pending', [1, 'BTCBCH', 0, 100]),
  ]);

  it('never crash, close exactly on non-requests, answer every request, change nothing', async () => {
    const before = await engineState();
    let runs = 0;
    await fc.assert(fc.asyncProperty(frames, fc.boolean(), async (frame, authenticate) => {
      runs++;
      const c = await WsClient.connect(g.port);
      try {
        if (authenticate) await c.ok('server.auth', [TOKEN, 'fuzz']);
        const seen = c.messages.length;
        c.sendRaw(frame.data, frame.binary);
        c.sendRaw(JSON.stringify({ id: PROBE, method: 'server.ping', params: [] }));
        await Promise.race([c.reply(PROBE), c.whenClosed()]);
        const request = isRequest(frame);
        if (request === null) {
          await c.whenClosed();
          assert.equal(c.messages.length, seen, 'no reply to a non-request');
        } else {
          assert.equal(c.closed, false, 'a request never closes the connection');
          const reply = c.messages.slice(seen).find((m): m is Reply => m.id === request.id);
          assert.ok(reply !== undefined, 'the request was answered');
          const error = reply.error;
          assert.ok(error === null || (Number.isInteger(error.code) && error.code !== 2), `no internal error: ${JSON.stringify(error)}`);
        }
      } finally {
        await c.close();
      }
    }), { numRuns: 400, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false });
    assert.ok(runs >= 20, `ran ${runs} cases`);
    assert.equal(await engineState(), before, 'the engine is unchanged');
    await eventually(() => g.gateway.stats().connections === 0, 'every connection gone');
    assert.deepEqual(g.gateway.stats(), { connections: 0, orderSubscribers: 0, assetSubscribers: 0, depthFeeds: 0, slowClosed: 0 });
    assert.deepEqual(g.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50), [], 'no error logged');
    const c = await WsClient.connect(g.port);
    assert.equal(await c.ok('server.ping'), 'pong');
    await c.close();
  });
});
