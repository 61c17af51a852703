/**
 * Two threads move the money of the same row while the main thread reads it: every read is a
 * whole int64 (values sit just around 2^32, so a read mixing the words of two writes would be off
 * by 2^32), no cell is ever negative, and the totals come out exact.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { BalanceTable } from '../table.js';

const ASSET = 1;
const UNITS = 700;
const ROUNDS = 200_000;
const START = 2n ** 32n + 500n;

function run(buffers: unknown, row: number, other: number): Promise<number> {
  const worker = new Worker(new URL('./table-worker.js', import.meta.url), {
    workerData: { buffers, row, other, asset: ASSET, units: UNITS, rounds: ROUNDS },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (failed: number) => resolve(failed));
    worker.once('error', reject);
  });
}

test('concurrent reserve/release/settle on one row: no torn or negative value is ever seen, totals exact', async () => {
  const buffers = BalanceTable.allocate(8, 3);
  const table = new BalanceTable(buffers);
  const row = table.users.findOrInsert(10);
  const other = table.users.findOrInsert(11);
  assert.ok(table.deposit(row, ASSET, START));

  const done = Promise.all([run(buffers, row, other), run(buffers, row, other)]);
  let finished = false;
  void done.then(() => { finished = true; });
  let reads = 0;
  while (!finished) {
    const available = table.available(row, ASSET);
    const frozen = table.frozen(row, ASSET);
    assert.ok(available >= START - 2n * BigInt(UNITS) && available <= START, `available ${available}`);
    assert.ok(frozen >= 0n && frozen <= 2n * BigInt(UNITS), `frozen ${frozen}`);
    reads++;
    if ((reads & 1023) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
  assert.equal(table.available(row, ASSET), START);
  assert.equal(table.frozen(row, ASSET), 0n);
  assert.equal(table.available(other, ASSET), 0n);
  assert.equal(table.supply[ASSET], START);
  assert.ok(reads > 100, `the main thread read while the workers ran (${reads} reads)`);
});
