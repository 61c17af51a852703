/**
 * Worker for lazy-copy-threads.test.ts. Waits for the go signal, then either changes random rows
 * of the shared balance table through BalanceTable (whose guards copy a pending chunk first), or
 * finishes the lazy copy as the snapshot writer's thread does and posts the chunks it copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BalanceTable, type BalanceTableBuffers } from '../../balance/table.js';
import { LazyCopy, type LazyCopySpec } from '../lazy-copy.js';

export interface LazyCopyJob {
  readonly role: 'writer' | 'finisher';
  readonly buffers: BalanceTableBuffers;
  readonly spec: LazyCopySpec;
  /** Int32 cell 0: 0 until the main thread says go. */
  readonly go: Int32Array;
  readonly rows: number;
  readonly writes: number;
  readonly seed: number;
}

const job = workerData as LazyCopyJob;
Atomics.wait(job.go, 0, 0);
const lazy = new LazyCopy(job.spec);
if (job.role === 'finisher') {
  parentPort!.postMessage(lazy.finish());
} else {
  const table = new BalanceTable(job.buffers);
  table.lazyCopy = lazy;
  let x = job.seed >>> 0 || 1;
  for (let i = 0; i < job.writes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const row = (x >>> 0) % job.rows;
    const asset = i & 1;
    // One kind of change a row at a time, each the first to reach some chunks: a write method whose
    // guard is missing lets its change into the copy.
    switch ((x >>> 8) % 4) {
      case 0:
        table.creditUnits(row, asset, 1);
        break;
      case 1:
        table.reserveUnits(row, asset, 1);
        break;
      case 2:
        table.settleUnits(row, asset, 0, 1 - asset, 1);
        break;
      default:
        table.deposit(row, asset, 1n);
    }
  }
  parentPort!.postMessage(0);
}
