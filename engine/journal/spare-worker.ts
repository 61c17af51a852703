/**
 * Worker entry of a segment writer's spare preparer (segment-spare.ts): wiring only. Lowers its
 * own thread's CPU priority (nice 19, best effort: Linux takes a thread id for it), so that on
 * shared cores the shards and the router run first, then runs until the writer stops it;
 * failures are reported through the shared state cell.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { runSparePreparer, type SpareJob } from './segment-spare.js';

try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 19);
} catch {
  // not Linux, or not allowed: run at the normal priority
}
runSparePreparer(workerData as SpareJob);
