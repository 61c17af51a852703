/**
 * Worker for table-concurrency.test.ts: moves funds of one shared row back and forth between
 * available and frozen, and from frozen to another row and back, `rounds` times.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BalanceTable, type BalanceTableBuffers } from '../table.js';

interface Job {
  readonly buffers: BalanceTableBuffers;
  readonly row: number;
  readonly other: number;
  readonly asset: number;
  readonly units: number;
  readonly rounds: number;
}

const job = workerData as Job;
const table = new BalanceTable(job.buffers);
let failedReserves = 0;
for (let i = 0; i < job.rounds; i++) {
  if (!table.reserveUnits(job.row, job.asset, job.units)) {
    failedReserves++;
    continue;
  }
  if ((i & 1) === 0) {
    table.releaseUnits(job.row, job.asset, job.units);
  } else {
    // a deal's legs: frozen leaves the row and reaches the other row, which pays it straight back
    table.spendFrozenUnits(job.row, job.asset, job.units);
    table.creditUnits(job.other, job.asset, job.units);
    if (!table.withdraw(job.other, job.asset, BigInt(job.units))) throw new Error('the other row lost funds');
    table.deposit(job.row, job.asset, BigInt(job.units));
  }
}
parentPort!.postMessage(failedReserves);
