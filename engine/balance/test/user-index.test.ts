/**
 * UserIndex: sparse 32-bit user ids → dense rows, shared between threads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { UserIndex, type UserIndexBuffers } from '../user-index.js';

/** A small deterministic generator (xorshift32), so failures reproduce. */
function randomIds(count: number, seed: number, exclude: ReadonlySet<number> = new Set()): number[] {
  let x = seed >>> 0 || 1;
  const out = new Set<number>();
  while (out.size < count) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    if (!exclude.has(x)) out.add(x);
  }
  return [...out];
}

function mapping(index: UserIndex): Map<number, number> {
  const seen = new Map<number, number>();
  index.forEach((user, row) => {
    assert.ok(!seen.has(user), `user ${user} listed twice`);
    seen.set(user, row);
  });
  return seen;
}

const EDGE_IDS = [0, 1, 2, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 2, 2 ** 32 - 1];

test('find / findOrInsert for sparse 32-bit ids: dense rows in order of arrival, stable', () => {
  const index = new UserIndex(UserIndex.allocate(1000));
  const ids = [...EDGE_IDS, ...randomIds(500, 12345, new Set(EDGE_IDS))];
  for (const id of ids) assert.equal(index.find(id), -1, `${id} not there yet`);
  assert.equal(index.size, 0);
  ids.forEach((id, i) => {
    assert.equal(index.findOrInsert(id), i, `first insert of ${id}`);
    assert.equal(index.size, i + 1);
  });
  // stable: every later lookup or insert gives the same row
  ids.forEach((id, i) => {
    assert.equal(index.find(id), i, `find ${id}`);
    assert.equal(index.findOrInsert(id), i, `findOrInsert ${id} again`);
  });
  assert.equal(index.size, ids.length);
  // ids that were never inserted are still absent (including the neighbours of the edges)
  for (const id of randomIds(200, 999, new Set(ids))) assert.equal(index.find(id), -1, `${id} absent`);
  // forEach lists every user once, as an unsigned id
  assert.deepEqual(mapping(index), new Map(ids.map((id, i) => [id, i])));
});

test('a second view over the same buffers sees the same rows, and inserts through either view', () => {
  const buffers = UserIndex.allocate(64);
  const a = new UserIndex(buffers);
  const b = new UserIndex(buffers);
  assert.equal(a.findOrInsert(2 ** 32 - 1), 0);
  assert.equal(b.find(2 ** 32 - 1), 0);
  assert.equal(b.findOrInsert(7), 1);
  assert.equal(a.find(7), 1);
  assert.equal(a.findOrInsert(7), 1);
  assert.equal(a.size, 2);
  assert.equal(b.size, 2);
});

test('a full table returns -1 for new ids and changes nothing', () => {
  const maxUsers = 16;
  const buffers = UserIndex.allocate(maxUsers);
  const index = new UserIndex(buffers);
  // 16 ids in a 32-slot table: many probe collisions and wrap-arounds
  const ids = [...EDGE_IDS, ...randomIds(maxUsers - EDGE_IDS.length, 777, new Set(EDGE_IDS))];
  ids.forEach((id, i) => assert.equal(index.findOrInsert(id), i));
  const copy = (): [number[], number[], number[]] => [
    [...new Int32Array(buffers.header)], [...new Int32Array(buffers.keys)], [...new Int32Array(buffers.rows)],
  ];
  const before = copy();
  for (const id of randomIds(50, 4242, new Set(ids))) {
    assert.equal(index.findOrInsert(id), -1, `new id ${id} in a full table`);
    assert.equal(index.find(id), -1);
    assert.equal(index.size, maxUsers);
  }
  assert.deepEqual(copy(), before, 'buffers unchanged');
  ids.forEach((id, i) => {
    assert.equal(index.find(id), i, `existing ${id} still found`);
    assert.equal(index.findOrInsert(id), i, `existing ${id} still found by findOrInsert`);
  });
  assert.equal(mapping(index).size, maxUsers);
});

interface Round {
  readonly buffers: UserIndexBuffers;
  readonly ids: number[];
}

/** Runs one worker over the rounds; resolves with the rows it got, per round. */
function runWorker(sync: SharedArrayBuffer, rounds: Round[]): Promise<number[][]> {
  // Tests run from dist/: the worker is the compiled .js next to this compiled test.
  const worker = new Worker(new URL('./user-index-worker.js', import.meta.url), { workerData: { sync, parties: 2, rounds } });
  return new Promise<number[][]>((resolve, reject) => {
    worker.on('message', (message: unknown) => resolve(message as number[][]));
    worker.on('error', reject);
    worker.on('exit', (code) => { if (code !== 0) reject(new Error(`worker exited with ${code}`)); });
  });
}

test('two worker threads inserting overlapping ids: one row per id, rows 0..n−1 without gaps or duplicates', async () => {
  const ROUNDS = 300;
  const roundsA: Round[] = [];
  const roundsB: Round[] = [];
  const universes: number[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const all = randomIds(400, 1000 + round);
    const shared = all.slice(100, 300);
    const onlyA = all.slice(0, 100);
    const onlyB = all.slice(300);
    // The table has exactly one row per distinct id: a duplicated row would leave some id without one.
    const buffers = UserIndex.allocate(all.length);
    let idsA: number[];
    let idsB: number[];
    switch (round % 3) {
      case 0: // both start on the same ids, in the same order: they race for the same keys
        idsA = [...shared, ...onlyA];
        idsB = [...shared, ...onlyB];
        break;
      case 1: // both start on different ids: they race for the same empty slots and the row counter
        idsA = [...onlyA, ...shared];
        idsB = [...onlyB, ...shared];
        break;
      default: // opposite orders: they meet in the middle of the shared ids
        idsA = [...onlyA, ...shared];
        idsB = [...shared, ...onlyB].reverse();
    }
    roundsA.push({ buffers, ids: idsA });
    roundsB.push({ buffers, ids: idsB });
    universes.push(all);
  }
  const sync = new SharedArrayBuffer(8);
  const [rowsA, rowsB] = await Promise.all([runWorker(sync, roundsA), runWorker(sync, roundsB)]);

  for (let round = 0; round < ROUNDS; round++) {
    const all = universes[round]!;
    const rowOf = new Map<number, number>();
    const record = (ids: number[], rows: number[] | undefined, who: string): void => {
      assert.ok(rows !== undefined && rows.length === ids.length, `round ${round} ${who}: rows`);
      ids.forEach((id, i) => {
        const row = rows[i]!;
        assert.ok(row >= 0 && row < all.length, `round ${round} ${who}: id ${id} got row ${row}`);
        const other = rowOf.get(id);
        if (other !== undefined) assert.equal(row, other, `round ${round}: id ${id} got two rows`);
        rowOf.set(id, row);
      });
    };
    record(roundsA[round]!.ids, rowsA[round], 'A');
    record(roundsB[round]!.ids, rowsB[round], 'B');
    assert.equal(rowOf.size, all.length);
    const rows = [...rowOf.values()].sort((x, y) => x - y);
    assert.deepEqual(rows, Array.from({ length: all.length }, (_, i) => i), `round ${round}: rows are exactly 0..n−1`);

    const index = new UserIndex(roundsA[round]!.buffers);
    assert.equal(index.size, all.length);
    for (const [id, row] of rowOf) assert.equal(index.find(id), row, `round ${round}: find ${id}`);
    assert.deepEqual(mapping(index), rowOf);
    assert.equal(index.findOrInsert(randomIds(1, 9, new Set(all))[0]!), -1, 'and the table is now full');
  }
});
