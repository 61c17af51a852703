import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { errorReply, resultJsonReply } from '../../../gateway/http/envelope.js';
import { orderJson, type OrderInfo } from '../../../gateway/rpc/format.js';
import { checkOrderItem, type Checked } from '../protocol.js';
import { scanOrderReply } from '../reply-scan.js';

/** protocol.ts's JSON path, or the error it fails the run with. */
function jsonPath(body: string, id: number, user: number, market: string): Checked | Error {
  try {
    return checkOrderItem(JSON.parse(body), id, user, market, body);
  } catch (err) {
    return err as Error;
  }
}

const decimal = fc.oneof(fc.constantFrom('0', '1', '0.001', '10.0107', '2305.84300921'), fc.double({ min: 0, max: 1e9, noNaN: true }).map(String));
const order: fc.Arbitrary<OrderInfo> = fc.record({
  id: fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  market: fc.constantFrom('BTCBCH', 'LTCBCH', 'ETHBCH'),
  source: fc.oneof(fc.constant('bench-load'), fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 8 })),
  type: fc.constantFrom(1, 2),
  side: fc.constantFrom(1, 2),
  user: fc.integer({ min: 1, max: 0xffffffff }),
  ctime: fc.oneof(fc.double({ min: 1e9, max: 2e9, noNaN: true }), fc.constant(1764118169.123456)),
  mtime: fc.double({ min: 0, max: 2e9, noNaN: true }),
  price: decimal, amount: decimal, taker_fee: decimal, maker_fee: decimal,
  left: decimal, deal_stock: decimal, deal_money: decimal, deal_fee: decimal,
});
const requestId = fc.integer({ min: 1, max: 2 ** 40 });

test('the scan gives what the JSON path gives for every reply the gateway prints', () => {
  fc.assert(fc.property(order, requestId, (o, id) => {
    const body = resultJsonReply(id, orderJson(o)).body;
    const scanned = scanOrderReply(body, id, o.user, o.market);
    const parsed = jsonPath(body, id, o.user, o.market);
    assert.ok(!(parsed instanceof Error), parsed instanceof Error ? parsed.message : '');
    // Only a source label that JSON escapes is left to the JSON path.
    if (scanned === null) assert.notEqual(JSON.stringify(o.source), `"${o.source}"`);
    else assert.deepEqual(scanned, parsed);
  }), { numRuns: 2000 });
});

test('a reply for another request, user or market, and error replies, are left to the JSON path', () => {
  const o: OrderInfo = {
    id: 7, market: 'BTCBCH', source: 'bench-load', type: 1, side: 2, user: 517, ctime: 1764118169.123456, mtime: 1764118169.123456,
    price: '10.0107', amount: '0.041', taker_fee: '0.002', maker_fee: '0.001', left: '0.041', deal_stock: '0', deal_money: '0', deal_fee: '0',
  };
  const body = resultJsonReply(42, orderJson(o)).body;
  assert.deepEqual(scanOrderReply(body, 42, 517, 'BTCBCH'), { code: null, orderId: 7, traded: false });
  assert.deepEqual(scanOrderReply(resultJsonReply(42, orderJson({ ...o, deal_stock: '0.01' })).body, 42, 517, 'BTCBCH'), { code: null, orderId: 7, traded: true });
  assert.equal(scanOrderReply(body, 43, 517, 'BTCBCH'), null);
  assert.equal(scanOrderReply(body, 42, 518, 'BTCBCH'), null);
  assert.equal(scanOrderReply(body, 42, 517, 'BTCBC'), null);
  assert.equal(scanOrderReply(`${body} `, 42, 517, 'BTCBCH'), null);
  assert.equal(scanOrderReply(errorReply(42, { code: 10, message: 'order not found' }).body, 42, 517, 'BTCBCH'), null);
});

test('whatever the scan accepts, the JSON path accepts with the same result (mutated replies)', () => {
  const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom('replace', 'insert', 'delete'), char: fc.constantFrom(...'0123456789.-+eE"\\,:{}[] abn\u0001é') });
  fc.assert(fc.property(order, requestId, fc.array(mutation, { minLength: 1, maxLength: 3 }), (o, id, mutations) => {
    let body = resultJsonReply(id, orderJson(o)).body;
    for (const { at, kind, char } of mutations) {
      const i = at % (body.length + 1);
      body = body.slice(0, i) + (kind === 'delete' ? '' : char) + body.slice(kind === 'insert' ? i : i + 1);
    }
    const scanned = scanOrderReply(body, id, o.user, o.market);
    if (scanned !== null) assert.deepEqual(scanned, jsonPath(body, id, o.user, o.market), body);
  }), { numRuns: 5000 });
});
