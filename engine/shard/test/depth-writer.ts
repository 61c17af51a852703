/**
 * The writer thread of the depth-board seqlock test (compiled to depth-writer.js next to the
 * test): publishes the books of versions 1 … `versions` round and round into market 0 of the
 * board until the reader sets the stop cell, then reports how many times it published.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DepthBoard, type DepthBoardBuffers } from '../depth-board.js';
import { engineWith, versionOrders } from './depth-books.js';

export interface DepthWriterTask {
  readonly board: DepthBoardBuffers;
  /** Int32 cells: [0] = stop flag (set by the reader), [1] = publications so far. */
  readonly control: SharedArrayBuffer;
  readonly versions: number;
  /** Spins between two publications (a shard publishes once per batch, not back to back). */
  readonly pause: number;
}

const task = workerData as DepthWriterTask;
const board = new DepthBoard(task.board);
const control = new Int32Array(task.control);
const books = Array.from({ length: task.versions }, (_, i) => engineWith(versionOrders(i + 1)).books[0]!);

let published = 0;
for (let v = 0; Atomics.load(control, 0) === 0; v = (v + 1) % books.length) {
  board.publish(0, books[v]!);
  published++;
  if (published === 1) parentPort?.postMessage({ type: 'ready' });
  if ((published & 1023) === 0) Atomics.store(control, 1, published);
  for (let i = 0; i < task.pause && Atomics.load(control, 0) === 0; i++);
}
parentPort?.postMessage({ type: 'done', published });
