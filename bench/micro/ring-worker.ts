/**
 * Consumer thread of the ring micro-benchmark (bench/micro/ring.ts): drains batches, reads every
 * 8-byte word of every record, checks each record against its sequence number, and reports the
 * count, the number of batches and the sum of sequence numbers when the ring is closed and empty.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NIL, RingConsumer, type RingBuffers } from '../../engine/wire/ring.js';

export interface RingBenchTask {
  readonly buffers: RingBuffers;
}

export type RingBenchReport =
  | { readonly kind: 'ready' }
  | { readonly kind: 'done'; readonly records: number; readonly batches: number; readonly seqSum: number; readonly bad: number };

const port = parentPort!;
const { buffers } = workerData as RingBenchTask;
const ring = new RingConsumer(buffers);
const view = ring.view;

let records = 0;
let batches = 0;
let seqSum = 0;
let bad = 0;
port.postMessage({ kind: 'ready' } satisfies RingBenchReport);
for (;;) {
  if (ring.available() === 0) {
    if (ring.isFinished()) break;
    ring.waitForData(1000);
    continue;
  }
  batches++;
  for (let at = ring.next(); at !== NIL; at = ring.next()) {
    const seq = view.getUint32(at, true);
    const words = ring.recordLength >>> 3;
    let last = seq;
    for (let w = 1; w < words; w++) last = view.getFloat64(at + w * 8, true);
    if (last !== seq + words - 1 || view.getUint32(at + 4, true) !== (seq ^ 0x5a5a5a5a) >>> 0) bad++;
    seqSum += seq;
    records++;
  }
  ring.release();
}
port.postMessage({ kind: 'done', records, batches, seqSum, bad } satisfies RingBenchReport);
