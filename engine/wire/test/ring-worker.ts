/**
 * The other thread of the ring tests (compiled to ring-worker.js next to ring.test.js):
 *  - verify: consume until the ring is closed and drained, checking every record's length and
 *    bytes against the seed, then report the count, mismatches and a checksum;
 *  - echo: consume, reporting each record as it arrives (the sleep / wake-up test);
 *  - produce: write `count` seeded records in random batches, waiting for space, then close.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NIL, RingConsumer, RingProducer } from '../ring.js';
import {
  CHECKSUM_START, TestRng, checksum, firstBadByte, recordLength, writeRecord, type WorkerReport, type WorkerTask,
} from './ring-records.js';

const task = workerData as WorkerTask;
const port = parentPort!;

function send(report: WorkerReport): void {
  port.postMessage(report);
}

function verify(): void {
  const ring = new RingConsumer(task.buffers);
  let seq = 0;
  let mismatches = 0;
  let firstMismatch = '';
  let sum = CHECKSUM_START;
  let batches = 0;
  send({ kind: 'ready' });
  for (;;) {
    if (ring.available() === 0) {
      if (ring.isFinished()) break;
      ring.waitForData(task.waitMs, task.spins);
      continue;
    }
    batches++;
    for (let at = ring.next(); at !== NIL; at = ring.next()) {
      const length = ring.recordLength;
      const expected = recordLength(task.seed, seq, task.maxLength);
      const bad = length === expected ? firstBadByte(ring.view, at, task.seed, seq, length) : -1;
      if (length !== expected || bad >= 0) {
        if (mismatches === 0) firstMismatch = `record ${seq}: length ${length} (expected ${expected}), first bad byte ${bad}`;
        mismatches++;
      }
      sum = checksum(ring.view, at, length, sum);
      seq++;
    }
    ring.release();
  }
  send({ kind: 'verified', count: seq, mismatches, firstMismatch, checksum: sum, batches });
}

function echo(): void {
  const ring = new RingConsumer(task.buffers);
  let seq = 0;
  send({ kind: 'ready' });
  while (!ring.isFinished()) {
    if (ring.available() === 0) {
      ring.waitForData(task.waitMs, task.spins);
      continue;
    }
    for (let at = ring.next(); at !== NIL; at = ring.next()) {
      const length = ring.recordLength;
      const intact = length === recordLength(task.seed, seq, task.maxLength) && firstBadByte(ring.view, at, task.seed, seq, length) < 0;
      send({ kind: 'record', seq, length, intact });
      seq++;
    }
    ring.release();
  }
}

function produce(): void {
  const ring = new RingProducer(task.buffers);
  const rng = new TestRng(task.seed ^ 0x5bd1e995);
  let sum = CHECKSUM_START;
  let seq = 0;
  while (seq < task.count) {
    const batch = 1 + rng.below(16);
    for (let i = 0; i < batch && seq < task.count; i++, seq++) {
      const length = recordLength(task.seed, seq, task.maxLength);
      const at = ring.claimWait(length, task.waitMs, task.spins);
      if (at === NIL) throw new Error(`producer: no space for record ${seq} within ${task.waitMs} ms`);
      writeRecord(ring.view, at, task.seed, seq, length);
      sum = checksum(ring.view, at, length, sum);
    }
    ring.publish();
  }
  ring.close();
  send({ kind: 'produced', count: seq, checksum: sum });
}

switch (task.mode) {
  case 'verify':
    verify();
    break;
  case 'echo':
    echo();
    break;
  case 'produce':
    produce();
    break;
}
