/**
 * The shared depth board: what a shard publishes reads back as order.depth computes it from the
 * book (plain and merged to an interval); a read that the published levels cannot prove complete
 * returns null rather than a wrong answer; and reads racing a worker that publishes continuously
 * are never torn (the seqlock).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { SIDE_ASK, SIDE_BID } from '../../book/order-columns.js';
import { depth } from '../../queries.js';
import { Rng } from '../../router/test/harness.js';
import { DepthBoard } from '../depth-board.js';
import { engineWith, versionOf, versionOrders, type Placement } from './depth-books.js';
import type { DepthWriterTask } from './depth-writer.js';

const INTERVALS = [0, 1, 2, 3, 5, 7, 10, 100, 10_000];

/** A random book on `market`: `levels` prices per side (asks above 1000, bids below), one to three orders each. */
function randomOrders(rng: Rng, market: number, askLevels: number, bidLevels: number): Placement[] {
  const out: Placement[] = [];
  const prices = (count: number, from: number, step: number): number[] => {
    const set = new Set<number>();
    while (set.size < count) set.add(from + step * rng.between(0, count * 3));
    return [...set];
  };
  for (const price of prices(askLevels, 1000, 1)) for (let n = rng.between(1, 3); n > 0; n--) out.push([market, SIDE_ASK, price, rng.between(1, 50)]);
  for (const price of prices(bidLevels, 999, -1)) for (let n = rng.between(1, 3); n > 0; n--) out.push([market, SIDE_BID, price, rng.between(1, 50)]);
  return out;
}

test('publish then read: the board answers as order.depth does, for every limit and interval', () => {
  const rng = new Rng(11);
  for (let round = 0; round < 20; round++) {
    const engine = engineWith([...randomOrders(rng, 0, rng.between(0, 16), rng.between(0, 16)), ...randomOrders(rng, 1, 3, 2)]);
    const board = new DepthBoard(DepthBoard.allocate(2, 16));
    assert.deepEqual(board.read(0, 10, 0), { asks: [], bids: [] }, 'nothing published yet');
    board.publish(0, engine.books[0]!);
    assert.deepEqual(board.read(1, 10, 0), { asks: [], bids: [] }, 'markets are independent');
    board.publish(1, engine.books[1]!);
    for (const market of [0, 1]) {
      for (let limit = 0; limit <= 20; limit++) {
        for (const interval of INTERVALS) {
          assert.deepEqual(board.read(market, limit, interval), depth(engine, market, limit, interval), `round ${round} market ${market} limit ${limit} interval ${interval}`);
        }
      }
    }
  }
});

test('a later publish replaces the earlier one, also when the book shrinks', () => {
  const board = new DepthBoard(DepthBoard.allocate(1, 16));
  const big = engineWith(versionOrders(6));
  const small = engineWith([[0, SIDE_ASK, 5000, 3]]);
  board.publish(0, big.books[0]!);
  assert.equal(versionOf(board.read(0, 50, 0)!), 6);
  board.publish(0, small.books[0]!);
  assert.deepEqual(board.read(0, 50, 0), { asks: [{ price: 5000, amount: 3n }], bids: [] });
  board.publish(0, engineWith([]).books[0]!);
  assert.deepEqual(board.read(0, 50, 0), { asks: [], bids: [] });
});

test('merged reads sum the levels that land in the same interval (asks round up, bids down)', () => {
  const engine = engineWith([
    [0, SIDE_ASK, 1001, 1], [0, SIDE_ASK, 1004, 2], [0, SIDE_ASK, 1005, 3], [0, SIDE_ASK, 1006, 4], [0, SIDE_ASK, 1020, 5], [0, SIDE_ASK, 1020, 6],
    [0, SIDE_BID, 999, 7], [0, SIDE_BID, 995, 8], [0, SIDE_BID, 991, 9], [0, SIDE_BID, 990, 10],
  ]);
  const board = new DepthBoard(DepthBoard.allocate(1, 16));
  board.publish(0, engine.books[0]!);
  assert.deepEqual(board.read(0, 10, 5), {
    asks: [{ price: 1005, amount: 6n }, { price: 1010, amount: 4n }, { price: 1020, amount: 11n }],
    bids: [{ price: 995, amount: 15n }, { price: 990, amount: 19n }],
  });
  assert.deepEqual(board.read(0, 1, 10), { asks: [{ price: 1010, amount: 10n }], bids: [{ price: 990, amount: 34n }] });
  assert.deepEqual(board.read(0, 10, 0)?.asks.map((l) => l.price), [1001, 1004, 1005, 1006, 1020]);
});

test('a read the published levels cannot prove complete returns null, never a wrong answer', () => {
  // 10 ask levels at 100 … 109, 2 bid levels; the board keeps only 4 per side.
  const orders: Placement[] = [];
  for (let i = 0; i < 10; i++) orders.push([0, SIDE_ASK, 100 + i, i + 1]);
  orders.push([0, SIDE_BID, 90, 1], [0, SIDE_BID, 80, 2]);
  const engine = engineWith(orders);
  const board = new DepthBoard(DepthBoard.allocate(1, 4));
  board.publish(0, engine.books[0]!);

  assert.deepEqual(board.read(0, 3, 0), depth(engine, 0, 3, 0), 'three of four published levels: provable');
  assert.equal(board.read(0, 5, 0), null, 'a fifth level was not published');
  assert.equal(board.read(0, 10, 0), null);
  // Interval 2: buckets 100 (100), 102 (101, 102), 104 (103, and 104 which was not published).
  assert.deepEqual(board.read(0, 2, 2), depth(engine, 0, 2, 2), 'two buckets end inside the published levels');
  assert.equal(board.read(0, 3, 2), null, 'the third bucket may continue beyond them');
  assert.equal(board.read(0, 1, 1000), null, 'one bucket holds everything, most of it unpublished');

  // Whatever the book, limit and interval: the board is right or says it does not know.
  const rng = new Rng(12);
  let answered = 0;
  for (let round = 0; round < 40; round++) {
    const deep = engineWith(randomOrders(rng, 0, rng.between(0, 12), rng.between(0, 12)));
    const small = new DepthBoard(DepthBoard.allocate(1, 4));
    small.publish(0, deep.books[0]!);
    for (let limit = 0; limit <= 12; limit++) {
      for (const interval of INTERVALS) {
        const read = small.read(0, limit, interval);
        if (read === null) continue;
        answered++;
        assert.deepEqual(read, depth(deep, 0, limit, interval), `round ${round} limit ${limit} interval ${interval}`);
      }
      if (limit < 4) assert.notEqual(small.read(0, limit, 0), null, 'fewer levels than published are always known');
    }
  }
  assert.ok(answered > 1000);
});

test('seqlock: reads racing a worker that publishes continuously are never torn', { timeout: 60_000 }, async () => {
  const buffers = DepthBoard.allocate(1, 16);
  const board = new DepthBoard(buffers);
  const control = new SharedArrayBuffer(8);
  const cells = new Int32Array(control);
  const task: DepthWriterTask = { board: buffers, control, versions: 12, pause: 200 };
  const worker = new Worker(new URL('./depth-writer.js', import.meta.url), { workerData: task });
  try {
    const messages: { type: string; published?: number }[] = [];
    const exited = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string; published?: number }) => messages.push(m));
      worker.once('error', reject);
      worker.once('exit', () => resolve());
    });
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
      worker.once('error', reject);
    });
    await ready;

    // Read until every version was seen whole and the book changed under the reader many times
    // (the test means something only if the writer kept publishing meanwhile), within a bound.
    const seen = new Set<number>();
    let changes = 0;
    let previous = -1;
    let reads = 0;
    // A null read means the writer stayed mid-publish for the whole retry budget (descheduled on
    // a loaded machine): the reader then asks the shard instead — an answer, not a torn one.
    let gaveUp = 0;
    for (; reads < 2_000_000 && (reads < 20_000 || seen.size < 12 || changes < 1000); reads++) {
      const d = board.read(0, 16, 0);
      if (d === null) {
        gaveUp++;
        continue;
      }
      const version = versionOf(d);
      if (typeof version === 'string') assert.fail(`torn read ${reads}: ${version}`);
      assert.ok(version >= 1 && version <= 12, `read ${reads}: version ${version}`);
      seen.add(version);
      if (version !== previous) changes++;
      previous = version;
    }
    Atomics.store(cells, 0, 1);
    await exited;
    const done = messages.find((m) => m.type === 'done');
    assert.ok(done?.published !== undefined && done.published > 0);
    assert.ok(changes >= 1000, `the reads saw the book change ${changes} times in ${reads} reads`);
    assert.equal(seen.size, 12, 'every version was read whole');
    assert.ok(gaveUp < reads / 10, `${gaveUp} of ${reads} reads gave up (every book fits the board: only a stalled writer explains one)`);
  } finally {
    Atomics.store(cells, 0, 1);
    await worker.terminate();
  }
});
