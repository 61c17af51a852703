/**
 * A time-boxed fuzz of JSON-RPC bodies against a live server (a bounded number of runs, each run
 * bounded in time): random JSON values, envelopes with random members, protocol method names with
 * random params of random types, and plain text. The server must always answer with a well-formed
 * envelope or the documented bare 4xx, must not crash, and a rejected request must change nothing
 * (balance.query of the seeded users, asset.summary and market.summary compared before and after).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { PROTOCOL_METHODS } from '../protocol-methods.js';
import { ok, request, startTestServer, type HttpResult, type TestServer } from './client.js';

const USERS = [1, 2, 3];
const MARKETS = ['BTCBCH', 'LTCBCH', 'ETHBCH', 'BTCUSDT'];

/** Values that get past the first checks, so that the fuzz reaches the deeper ones. */
const plausible = fc.constantFrom<unknown>(
  ...USERS, 0, -1, 4294967296, 1.5, 2 ** 53, 'BTC', 'BCH', 'USDT', 'XYZ', ...MARKETS, '1', '0', '-1', '0.001', '5000', '1e-05',
  '0.00000000001', 'NaN', 'Infinity', '', ' 1', '1,5', 'deposit', {}, { a: 1 }, [], null, true, '0.002',
);
const param = fc.oneof(plausible, fc.jsonValue({ maxDepth: 2 }), fc.integer(), fc.string({ maxLength: 12 }), fc.double());
const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PROTOCOL_METHODS) },
  { weight: 1, arbitrary: fc.constantFrom('no.such', '', 'asset.list ', 'ASSET.LIST', '__proto__', 'constructor', 'toString') },
  { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
);
const id = fc.oneof(
  { weight: 6, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 4 }), fc.double(), fc.constant(null), fc.constant(2 ** 60)) },
);
/** Well-formed envelopes: the params are where the fuzz goes deep. */
const wellFormed = fc.record(
  { id: fc.integer(), method, params: fc.array(param, { maxLength: 9 }), jsonrpc: fc.constant('2.0') },
  { requiredKeys: ['id', 'method', 'params'] },
);
/** Envelopes with members missing or of any type. */
const loose = fc.record(
  {
    id,
    method: fc.oneof({ weight: 8, arbitrary: method }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
    params: fc.oneof({ weight: 8, arbitrary: fc.array(param, { maxLength: 9 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
    jsonrpc: fc.constant('2.0'),
  },
  { requiredKeys: [] },
);
/** Engine methods with the right number of params drawn from plausible values: reaches the balance and book checks. */
const ARITY: Record<string, number> = {
  'balance.query': 2, 'balance.update': 6, 'order.put_limit': 8, 'order.put_market': 6, 'order.cancel': 3,
  'order.book': 4, 'order.depth': 3, 'order.pending': 4, 'order.pending_detail': 2, 'asset.summary': 1, 'market.summary': 1,
};
const shaped = fc.constantFrom(...Object.keys(ARITY)).chain((m) =>
  fc.record({ id: fc.integer(), method: fc.constant(m), params: fc.array(plausible, { minLength: ARITY[m]!, maxLength: ARITY[m]! }) }),
);
/** A request body: mostly envelopes, some arbitrary JSON, some cut-off JSON, some text. */
const body = fc.oneof(
  { weight: 8, arbitrary: wellFormed.map((e) => JSON.stringify(e)) },
  { weight: 6, arbitrary: shaped.map((e) => JSON.stringify(e)) },
  { weight: 3, arbitrary: loose.map((e) => JSON.stringify(e)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: wellFormed.map((e) => JSON.stringify(e)).chain((text) => fc.nat(text.length).map((n) => text.slice(0, n))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

/** Whether the response is a documented one; whether it was a rejection (nothing may have changed). */
function check(res: HttpResult, sent: string): { rejected: boolean; kind: string } {
  if (res.status === 400 || res.status === 413) {
    assert.equal(res.body, '', 'bare 4xx');
    return { rejected: true, kind: String(res.status) };
  }
  assert.ok(res.status === 200 || res.status === 404, `status ${res.status}`);
  assert.equal(res.headers['content-type'], 'application/json');
  const reply = JSON.parse(res.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(reply), ['error', 'result', 'id']);
  const request = JSON.parse(sent) as { id: unknown };
  assert.equal(reply.id, request.id);
  if (reply.error === null) {
    assert.equal(res.status, 200);
    return { rejected: false, kind: 'ok' };
  }
  const error = reply.error as Record<string, unknown>;
  assert.deepEqual(Object.keys(error), ['code', 'message']);
  assert.ok(Number.isInteger(error.code) && typeof error.message === 'string');
  assert.equal(reply.result, null);
  assert.notEqual(error.code, 2, 'no internal error on client input');
  assert.equal(res.status === 404, error.code === 4);
  return { rejected: true, kind: `${res.status}/${error.code as number}` };
}

describe('HTTP JSON-RPC fuzz', { timeout: 60_000 }, () => {
  let s: TestServer;
  let agent: http.Agent;
  before(async () => {
    s = await startTestServer();
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await ok(s.port, 'balance.update', [1, 'BTC', 'deposit', 1, '10', {}]);
    await ok(s.port, 'balance.update', [2, 'BCH', 'deposit', 2, '100000', {}]);
    await ok(s.port, 'balance.update', [3, 'USDT', 'deposit', 3, '5000', {}]);
    await ok(s.port, 'order.put_limit', [1, 'BTCBCH', 1, '2', '5000', '0.002', '0.001', 'seed']);
    await ok(s.port, 'order.put_limit', [2, 'BTCBCH', 2, '1', '4000', '0.002', '0.001', 'seed']);
  });
  after(() => {
    agent.destroy();
    s.close();
  });

  /** Everything a rejected request could have touched, as seen through the protocol. */
  const snapshot = async (): Promise<string> => {
    const parts: unknown[] = [];
    for (const user of USERS) parts.push(await ok(s.port, 'balance.query', [user], { agent }));
    parts.push(await ok(s.port, 'asset.summary', [], { agent }));
    parts.push(await ok(s.port, 'market.summary', [], { agent }));
    return JSON.stringify(parts);
  };

  it('answers every body as documented, and rejected bodies change no state', async (t) => {
    let state = await snapshot();
    let rejected = 0;
    const kinds = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(body, async (sent) => {
        // A connection of its own: a 400 closes the connection.
        const res = await request(s.port, sent, { headers: { 'content-type': 'application/json' } });
        const verdict = check(res, sent);
        kinds.set(verdict.kind, (kinds.get(verdict.kind) ?? 0) + 1);
        const now = await snapshot();
        if (verdict.rejected) {
          rejected++;
          assert.equal(now, state, `state changed by a rejected request: ${sent}`);
        }
        state = now;
      }),
      { numRuns: 400, interruptAfterTimeLimit: 8_000, markInterruptAsFailure: false },
    );
    assert.ok(rejected > 0);
    t.diagnostic(`outcomes (HTTP status / error code): ${JSON.stringify(Object.fromEntries([...kinds].sort()))}`);
    const assets = await ok<unknown[]>(s.port, 'asset.list', []);
    assert.equal(assets.length, 5);
  });

  it('a batch of rejected inputs leaves the state as it was', async () => {
    const before = await snapshot();
    const rejectedBodies = fc.oneof(
      fc.string({ maxLength: 40 }).filter((t) => !/^\s*\{/.test(t)),
      fc.record({ id: fc.string(), method: fc.constantFrom(...PROTOCOL_METHODS), params: fc.array(param, { maxLength: 8 }) }).map((e) => JSON.stringify(e)),
      fc.record({ id: fc.integer(), method: fc.constantFrom('order.put_limit', 'order.put_market', 'order.cancel', 'balance.update'), params: fc.array(fc.oneof(fc.double(), fc.boolean(), fc.constant(null)), { maxLength: 8 }) })
        .map((e) => JSON.stringify(e)),
    );
    const batch = fc.sample(rejectedBodies, 200);
    for (const sent of batch) {
      const res = await request(s.port, sent);
      assert.equal(check(res, sent).rejected, true, sent);
    }
    assert.equal(await snapshot(), before);
  });
});
