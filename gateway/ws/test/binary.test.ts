/**
 * The binary order-entry records: the offsets in binary.ts are the ones the README's tables
 * publish, and records round-trip through the client-side writer/reader and the server's
 * reader/writer.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import { OrderView } from '../../../engine/core/order-view.js';
import { buildSpecs } from '../../../engine/money/specs.js';
import { OrderCommand } from '../../rpc/order-entry.js';
import * as b from '../binary.js';

const README = fileURLToPath(new URL('../../../../README.md', import.meta.url));

/** The offsets of the README table whose header cell starts with `header`. */
function readmeOffsets(header: string): number[] {
  const lines = readFileSync(README, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.trim().startsWith(`| ${header}`));
  assert.ok(start >= 0, `README has a table "${header}"`);
  const offsets: number[] = [];
  for (const line of lines.slice(start + 2)) {
    const m = /^\s*\|\s*(\d+)\s*\|/.exec(line);
    if (m === null) break;
    offsets.push(Number(m[1]));
  }
  return offsets;
}

describe('binary order-entry layouts', () => {
  it('match the README tables', () => {
    assert.deepEqual(readmeOffsets('request offset'), [
      b.REQ_OP, b.REQ_SIDE, b.REQ_MARKET, b.REQ_ID, b.REQ_AMOUNT, b.REQ_PRICE, b.REQ_TAKER_FEE, b.REQ_MAKER_FEE, b.REQ_SOURCE_LENGTH, b.REQ_SOURCE, b.REQ_PAD,
    ]);
    assert.equal(b.REQUEST_SIZE, 72);
    assert.deepEqual(readmeOffsets('reply offset'), [
      b.REP_OP, b.REP_SIDE, b.REP_MARKET, b.REP_ID, b.REP_ERROR, b.REP_TYPE, b.REP_PAD, b.REP_ORDER_ID, b.REP_CTIME, b.REP_MTIME, b.REP_PRICE,
      b.REP_AMOUNT, b.REP_LEFT, b.REP_DEAL_STOCK, b.REP_DEAL_MONEY, b.REP_DEAL_FEE, b.REP_TAKER_FEE, b.REP_MAKER_FEE,
    ]);
    assert.equal(b.REPLY_SIZE, 104);
  });

  it('a request record round-trips through writeRequest and readRequest', () => {
    const specs = buildSpecs(validateConfig(defaultConfig));
    const v = new DataView(new ArrayBuffer(2 * b.REQUEST_SIZE));
    const source = new TextEncoder().encode('désk-7');
    b.writeRequest(v, b.REQUEST_SIZE, { op: 1, side: 2, market: 3, id: 0xfffffffe, amount: 2 ** 53 - 1, price: 123_456_789_012, takerFee: 9999, makerFee: 1, source });
    const into = new OrderCommand();
    assert.equal(b.readRequest(v, b.REQUEST_SIZE, specs, 42, into, new b.SourceCache()), 0);
    assert.deepEqual({ ...into }, {
      op: 1, user: 42, market: 3, side: 2, amount: 2 ** 53 - 1, price: 123_456_789_012, takerFee: 9999, makerFee: 1, source: 'désk-7', orderId: 0,
    });
    b.writeRequest(v, 0, { op: 3, side: 0, market: 0, id: 7, amount: 991, price: 0, takerFee: 0, makerFee: 0, source: new Uint8Array(0) });
    assert.equal(b.readRequest(v, 0, specs, 42, into, new b.SourceCache()), 0);
    assert.deepEqual([into.op, into.orderId, into.source, into.amount], [3, 991, '', 0]);
  });

  it('a reply record round-trips through the server\'s writer and the client\'s reader', () => {
    const request = new DataView(new ArrayBuffer(b.REQUEST_SIZE));
    b.writeRequest(request, 0, { op: 2, side: 2, market: 1, id: 9, amount: 5, price: 0, takerFee: 3, makerFee: 0, source: new Uint8Array(0) });
    const out = new DataView(new ArrayBuffer(b.REPLY_SIZE));
    const o = new OrderView();
    Object.assign(o, {
      id: 2 ** 40 + 3, market: 1, side: 2, type: 2, user: 5, ctime: 1_764_000_000_123_456, mtime: 1_764_000_000_123_457, price: 0,
      amountMoney: 5n * 10n ** 12n, leftMoney: 7n, dealStock: 2 ** 33, dealMoney: 2n ** 62n, dealFee: 11n, takerFee: 3, makerFee: 0,
    });
    b.writeReplyHead(out, 0, request, 0, 0);
    b.writeReplyOrder(out, 0, o);
    assert.deepEqual(b.readReply(out, 0), {
      op: 2, side: 2, market: 1, id: 9, error: 0, type: 2, orderId: 2 ** 40 + 3, ctime: 1_764_000_000_123_456, mtime: 1_764_000_000_123_457,
      price: 0, amount: 5n * 10n ** 12n, left: 7n, dealStock: 2 ** 33, dealMoney: 2n ** 62n, dealFee: 11n, takerFee: 3, makerFee: 0,
    });
    b.writeReplyHead(out, 0, request, 0, 12);
    assert.equal(b.readReply(out, 0).error, 12);
  });
});
