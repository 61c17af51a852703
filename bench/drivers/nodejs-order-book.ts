/**
 * Drives a workload through nodejs-order-book (the peer baseline): one OrderBook per market,
 * limit / market / cancel with the workload's lots and ticks as its sizes and prices.
 *
 * The peer is a book only: it has no balances (no reserve, settlement, fees), no events, and takes
 * market buys by size, so market bids get the lots our engine fills with their money
 * (`Workload.fillLots`); order ids are strings, built before the timed run.
 */
import type { Histogram } from 'hdr-histogram-js';
import { OrderBook, Side, type IProcessOrder } from 'nodejs-order-book';
import { SIDE_ASK } from '../../engine/book/order-columns.js';
import { Op, type Workload } from '../gen/workload.js';
import { cpuSecondsSince, SAMPLE_EVERY, type DriverRun } from './engine.js';

const SAMPLE_MASK = SAMPLE_EVERY - 1;

/** String ids per command: the id our engine gives a limit order, or a cancel's target ('' otherwise). Allocates. */
export function peerIds(w: Workload, count: number): string[] {
  const ids = new Array<string>(count);
  let nextId = 1;
  for (let i = 0; i < count; i++) {
    switch (w.op[i]) {
      case Op.LIMIT:
        ids[i] = String(nextId++);
        break;
      case Op.MARKET:
        nextId++;
        ids[i] = '';
        break;
      default:
        ids[i] = String(w.target[i]);
    }
  }
  return ids;
}

/** Runs commands [0, count) on fresh books; a peer error throws. Deals = maker orders each taker traded with. */
export function runPeer(w: Workload, count: number, ids: readonly string[], latency: Histogram | null): DriverRun {
  const books: OrderBook[] = [];
  for (const m of w.markets) books[m.index] = new OrderBook();
  let deals = 0;
  let notFound = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    let made: number;
    if (latency !== null && (i & SAMPLE_MASK) === 0) {
      const t0 = process.hrtime.bigint();
      made = execute(books, w, ids, i);
      latency.recordValue(Number(process.hrtime.bigint() - t0));
    } else {
      made = execute(books, w, ids, i);
    }
    if (made < 0) notFound++;
    else deals += made;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { commands: count, seconds, cpuSeconds: cpuSecondsSince(cpu), deals, notFound };
}

/** Deals made by command i, or -1 for a cancel of an order that is not on the book. */
function execute(books: readonly OrderBook[], w: Workload, ids: readonly string[], i: number): number {
  const book = books[w.market[i]!]!;
  const side = w.side[i] === SIDE_ASK ? Side.SELL : Side.BUY;
  switch (w.op[i]) {
    case Op.LIMIT: {
      const id = ids[i]!;
      return makers(book.limit({ id, side, size: w.amount[i]!, price: w.price[i]! }), id, i);
    }
    case Op.MARKET:
      return makers(book.market({ side, size: side === Side.SELL ? w.amount[i]! : w.fillLots[i]! }), '', i);
    case Op.CANCEL:
      return book.cancel(ids[i]!) === undefined ? -1 : 0;
    default:
      throw new Error(`command ${i}: unknown op ${w.op[i]}`);
  }
}

/** Maker orders a taker traded with: the filled ones in `done` (not the taker itself) and a partially filled one. */
function makers(r: IProcessOrder, takerId: string, i: number): number {
  if (r.err !== null) throw new Error(`peer rejected command ${i}: ${r.err.message}`);
  let n = 0;
  for (const o of r.done) if (o.id !== takerId) n++;
  if (r.partial !== null && r.partial.id !== takerId) n++;
  return n;
}
