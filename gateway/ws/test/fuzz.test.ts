/**
 * A time-boxed fuzz of WebSocket frames (fast-check): random text, random JSON, random bytes as
 * binary frames, request-shaped objects with random ids, method names and params, batches of them,
 * and binary order-entry frames (random and structured records, torn lengths). The server must
 * close the connection on exactly the frames that are unreadable, answer every request (every
 * record) with its id, log no internal error, and leave the engine and the subscriptions as they
 * were (the fuzzing session's user holds no funds, so no order can be placed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FIRST_JSON_BYTE, readReply, REPLY_SIZE, REQUEST_SIZE } from '../binary.js';
import { MAX_BATCH } from '../envelope.js';
import { wsMethodNames } from '../methods.js';
import { eventually, startTestGateway, WsClient, type Reply, type TestGateway } from './client.js';

const TOKEN = 'token-of-user-one-000001';
const PROBE = Number.MAX_SAFE_INTEGER;

interface Frame {
  readonly data: string | Buffer;
  readonly binary: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A request object: an integer id, a string method and an array of params. */
function requestId(value: unknown): number | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { id, method, params } = value as Record<string, unknown>;
  return typeof id === 'number' && Number.isSafeInteger(id) && typeof method === 'string' && Array.isArray(params) ? id : null;
}

type Expected =
  | { readonly kind: 'close' }
  | { readonly kind: 'json'; readonly ids: readonly number[]; readonly batch: boolean }
  | { readonly kind: 'binary'; readonly ids: readonly number[] };

/**
 * The rule the gateway must apply: a binary frame starting below 0x09 is order entry (whole
 * 72-byte records, else unreadable); otherwise a JSON request object, or a batch (a non-empty
 * array of at most MAX_BATCH request objects); anything else is unreadable.
 */
function expected(frame: Frame): Expected {
  const bytes = typeof frame.data === 'string' ? Buffer.from(frame.data) : frame.data;
  if (frame.binary && bytes.length > 0 && bytes[0]! < FIRST_JSON_BYTE) {
    if (bytes.length % REQUEST_SIZE !== 0) return { kind: 'close' };
    const ids: number[] = [];
    for (let at = 0; at < bytes.length; at += REQUEST_SIZE) ids.push(bytes.readUInt32LE(at + 4));
    return { kind: 'binary', ids };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof frame.data === 'string' ? frame.data : utf8.decode(frame.data));
  } catch {
    return { kind: 'close' };
  }
  if (!Array.isArray(value)) {
    const id = requestId(value);
    return id === null ? { kind: 'close' } : { kind: 'json', ids: [id], batch: false };
  }
  if (value.length === 0 || value.length > MAX_BATCH) return { kind: 'close' };
  const ids = value.map(requestId);
  return ids.some((id) => id === null) ? { kind: 'close' } : { kind: 'json', ids: ids as number[], batch: true };
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

/** A u64 field: small values, values around the limits, anything. */
const u64 = fc.oneof(fc.constantFrom(0n, 1n, 9999n, 10000n, 100_000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 10n ** 12n }));
const record = fc.oneof(
  fc.uint8Array({ minLength: REQUEST_SIZE, maxLength: REQUEST_SIZE }),
  fc.record({
    op: fc.integer({ min: 0, max: 5 }), side: fc.integer({ min: 0, max: 3 }), market: fc.integer({ min: 0, max: 5 }), id: fc.nat({ max: 0xffffffff }),
    amount: u64, price: u64, takerFee: u64, makerFee: u64,
    source: fc.oneof(fc.constant(Buffer.from('web')), fc.uint8Array({ maxLength: 31 }).map((b) => Buffer.from(b))),
    padding: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.integer({ min: 0, max: 255 })),
  }).map((r) => {
    const b = Buffer.alloc(REQUEST_SIZE);
    b.writeUInt8(r.op, 0);
    b.writeUInt8(r.side, 1);
    b.writeUInt16LE(r.market, 2);
    b.writeUInt32LE(r.id, 4);
    b.writeBigUInt64LE(r.amount, 8);
    b.writeBigUInt64LE(r.price, 16);
    b.writeBigUInt64LE(r.takerFee, 24);
    b.writeBigUInt64LE(r.makerFee, 32);
    b.writeUInt8(r.source.length, 40);
    r.source.copy(b, 41, 0, Math.min(r.source.length, REQUEST_SIZE - 41));
    b.writeUInt8(r.padding, REQUEST_SIZE - 1);
    return new Uint8Array(b);
  }),
);
/** Binary order-entry frames: 1–4 records (the first byte kept below 0x09), sometimes torn. */
const orderFrame = fc.tuple(fc.array(record, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: FIRST_JSON_BYTE - 1 }), fc.integer({ min: -3, max: 3 }))
  .map(([records, first, tear]) => {
    const bytes = Buffer.concat(records);
    bytes[0] = first;
    const length = tear === 0 ? bytes.length : Math.max(1, bytes.length + tear * 7);
    return { data: length <= bytes.length ? bytes.subarray(0, length) : Buffer.concat([bytes, Buffer.alloc(length - bytes.length)]), binary: true };
  });

const frames: fc.Arbitrary<Frame> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }).map((data) => ({ data, binary: false })),
  fc.json().map((data) => ({ data, binary: false })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true })),
  requestLike.map((r) => ({ data: JSON.stringify(r), binary: false })),
  requestLike.map((r) => ({ data: Buffer.from(JSON.stringify(r)), binary: true })),
  fc.array(requestLike, { maxLength: 5 }).map((rs) => ({ data: JSON.stringify(rs), binary: false })),
  orderFrame,
);

describe('fuzz: random frames', { timeout: 60_000 }, () => {
  let g: TestGateway;
  before(async () => {
    g = await startTestGateway({ ws: { max_requests_per_second: 1_000_000, auth: { tokens: { [TOKEN]: 3 } } } });
    await g.call('balance.update', [1, 'BTC', 'deposit', 1, '10', {}]);
    await g.call('balance.update', [2, 'BCH', 'deposit', 2, '100000', {}]);
    await g.call('order.put_limit', [1, 'BTCBCH', 1, '2', '5000', '0', '0', 'web']);
    await g.call('order.put_limit', [2, 'BTCBCH', 2, '1', '4000', '0', '0', 'web']);
  });
  after(() => g.close());

  const engineState = async (): Promise<string> => JSON.stringify([
    await g.call('balance.query', [1]), await g.call('balance.query', [2]), await g.call('balance.query', [3]),
    await g.call('order.depth', ['BTCBCH', 100, '0']), await g.call('order.pending', [1, 'BTCBCH', 0, 100]),
  ]);

  it('never crash, close exactly on unreadable frames, answer every request, change nothing', async () => {
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
        const want = expected(frame);
        if (want.kind === 'close') {
          await c.whenClosed();
          assert.equal(c.messages.length, seen, 'no reply to an unreadable frame');
          assert.equal(c.binaries.length, 0, 'no binary reply to an unreadable frame');
          return;
        }
        assert.equal(c.closed, false, 'a request never closes the connection');
        const errors: { code: number }[] = [];
        if (want.kind === 'binary') {
          assert.equal(c.binaries.length, 1, 'one binary answer');
          const answer = c.binaries[0]!;
          assert.equal(answer.length, want.ids.length * REPLY_SIZE, 'one reply record per request record');
          const v = new DataView(answer.buffer, answer.byteOffset, answer.byteLength);
          const records = want.ids.map((_, i) => readReply(v, i * REPLY_SIZE));
          assert.deepEqual(records.map((r) => r.id), want.ids, 'ids echoed in order');
          for (const r of records) errors.push({ code: r.error });
          assert.ok(records.every((r) => r.error !== 0 && r.orderId === 0), 'nothing placed by a user without funds');
          if (!authenticate) assert.ok(records.every((r) => r.error === 6 || r.error === 4), 'nothing but 4 or 6 before server.auth');
        } else {
          const replies = c.messages.slice(seen);
          if (want.batch) {
            const batch = c.texts.slice(seen).find((t) => t.startsWith('['));
            assert.ok(batch !== undefined, 'the batch was answered with an array');
            const items = JSON.parse(batch) as Reply[];
            assert.deepEqual(items.map((r) => r.id), want.ids, 'a reply per request, in order');
            for (const r of items) if (r.error !== null) errors.push(r.error);
          } else {
            const reply = replies.find((m): m is Reply => m.id === want.ids[0]);
            assert.ok(reply !== undefined, 'the request was answered');
            if (reply.error !== null) errors.push(reply.error);
          }
        }
        for (const error of errors) assert.ok(Number.isInteger(error.code) && error.code !== 2, `no internal error: ${JSON.stringify(error)}`);
      } finally {
        await c.close();
      }
    }), { numRuns: 600, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false });
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
