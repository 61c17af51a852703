/**
 * Worker for user-index.test.ts. For each round it maps a UserIndex over that round's shared
 * buffers, meets the other worker at a spinning barrier (so that both start inserting within
 * nanoseconds of each other), inserts its ids in order, and finally posts back the row each id got.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserIndex, type UserIndexBuffers } from '../user-index.js';

interface Job {
  /** Int32 [0] = threads arrived at the barrier, [1] = barrier generation. */
  readonly sync: SharedArrayBuffer;
  readonly parties: number;
  readonly rounds: readonly { readonly buffers: UserIndexBuffers; readonly ids: readonly number[] }[];
}

const job = workerData as Job;
const sync = new Int32Array(job.sync);

function barrier(): void {
  const generation = Atomics.load(sync, 1);
  if (Atomics.add(sync, 0, 1) === job.parties - 1) {
    Atomics.store(sync, 0, 0);
    Atomics.add(sync, 1, 1);
    return;
  }
  while (Atomics.load(sync, 1) === generation) {
    // spin: waking from Atomics.wait takes far longer than a few inserts
  }
}

const results = job.rounds.map(({ buffers, ids }) => {
  const index = new UserIndex(buffers);
  barrier();
  return ids.map((id) => index.findOrInsert(id));
});
parentPort!.postMessage(results);
