/**
 * Lazy copies under real concurrency: two threads change random rows of one shared balance table
 * through its guards while a third finishes the copy (as the snapshot writer does), chunks of four
 * rows so that claims collide. The copy must hold the table exactly as it was when armed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { BalanceTable } from '../../balance/table.js';
import { LazyCopy } from '../lazy-copy.js';
import { armBalancesCopy, balanceCopySpec, CopyBuffers } from '../snapshot-copy.js';
import type { LazyCopyJob } from './lazy-copy-worker.js';

const ROWS = 4096;

function run(job: LazyCopyJob): { worker: Worker; done: Promise<number> } {
  const worker = new Worker(new URL('./lazy-copy-worker.js', import.meta.url), { workerData: job });
  const done = new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, done };
}

test('a lazy copy finished on one thread while two others write through their guards is the table as armed', async (t) => {
  const buffers = BalanceTable.allocate(ROWS, 2);
  const table = new BalanceTable(buffers);
  for (let user = 1; user <= ROWS; user++) {
    const row = table.users.findOrInsert(user);
    table.deposit(row, 0, BigInt(user * 10));
    table.deposit(row, 1, BigInt(user * 7));
  }
  const into = new CopyBuffers();
  const spec = balanceCopySpec(table, into, 2);
  const lazy = new LazyCopy(spec);
  table.lazyCopy = lazy;
  let guardCopies = 0;
  for (let round = 0; round < 4; round++) {
    const expectedCells = table.cells.slice(0, ROWS * 4);
    const expectedUsers = table.users.rowUserIds(ROWS).slice();
    const image = armBalancesCopy(table, lazy, into);
    const go = new Int32Array(new SharedArrayBuffer(4));
    const base = { buffers, spec, go, rows: ROWS };
    const jobs = [
      run({ ...base, role: 'writer', writes: 200_000, seed: round * 2 + 1 }),
      run({ ...base, role: 'writer', writes: 200_000, seed: round * 2 + 2 }),
      run({ ...base, role: 'finisher', writes: 0, seed: 0 }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 50)); // every worker waiting for go
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    const [, , finished] = await Promise.all(jobs.map((j) => j.done));
    guardCopies += ROWS / 4 - finished!;
    assert.equal(lazy.guardBelow, 0, 'finished');
    assert.deepEqual(image.cells, expectedCells, `round ${round}: cells as armed`);
    assert.deepEqual(image.users, expectedUsers, `round ${round}: users as armed`);
    assert.notDeepEqual(table.cells.slice(0, ROWS * 4), expectedCells, 'the writers changed the table');
  }
  t.diagnostic(`chunks the writers' guards copied before the finisher reached them: ${guardCopies}`); // timing: not asserted
});
