/**
 * A shard thread of the epoch barrier test (compiled to epochs-worker.js next to the test): enters
 * the current epoch as shard `shard` (blocking while an older epoch's batch executes), then stores
 * the epoch it got in cell 0 of `result` and wakes the test.
 */
import { workerData } from 'node:worker_threads';
import { EpochControl } from '../epochs.js';

export interface EpochsWorkerTask {
  readonly control: SharedArrayBuffer;
  readonly shard: number;
  /** Int32 cells: [0] = the epoch `enter` returned (0 until it returned). */
  readonly result: SharedArrayBuffer;
}

const task = workerData as EpochsWorkerTask;
const result = new Int32Array(task.result);
const epoch = new EpochControl(task.control).enter(task.shard);
Atomics.store(result, 0, epoch);
Atomics.notify(result, 0);
