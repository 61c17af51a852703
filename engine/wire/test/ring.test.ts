import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import {
  DEFAULT_SPINS, NIL, PAD, RECORD_HEADER_BYTES, RING_CONTROL, RingBuffer, RingConsumer, RingProducer, type RingBuffers, type RingOptions,
} from '../ring.js';
import {
  CHECKSUM_START, GUARD_BYTES, TestRng, checksum, damagedGuardBytes, fillGuard, firstBadByte, recordLength, writeRecord,
  type WorkerReport, type WorkerTask,
} from './ring-records.js';

/** A ring whose data region sits between two guard regions of one bigger buffer. */
function guardedRing(capacity: number, options: RingOptions = {}): { buffers: RingBuffers; guardsDamaged: () => number } {
  const data = new SharedArrayBuffer(GUARD_BYTES + capacity + GUARD_BYTES);
  const bytes = new Uint8Array(data);
  fillGuard(bytes, 0);
  fillGuard(bytes, GUARD_BYTES + capacity);
  const buffers = RingBuffer.wrap(data, GUARD_BYTES, capacity, options);
  return { buffers, guardsDamaged: () => damagedGuardBytes(bytes, 0) + damagedGuardBytes(bytes, GUARD_BYTES + capacity) };
}

function controlCell(buffers: RingBuffers, cell: number): number {
  return Atomics.load(new Int32Array(buffers.control), cell);
}

interface Live {
  readonly seq: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * Random claims, publishes and partial drains on one thread, checked against a model queue:
 * every record comes back intact and in order, live records never overlap, every record lies in
 * the data region, and a claim fails only when the ring holds something.
 */
function randomRun(capacity: number, seed: number, steps: number, options: RingOptions = {}): { records: number; padded: number; exactWraps: number } {
  const { buffers, guardsDamaged } = guardedRing(capacity, options);
  const producer = new RingProducer(buffers);
  const consumer = new RingConsumer(buffers);
  const rng = new TestRng(seed);
  const max = producer.maxRecordSize;
  const base = GUARD_BYTES;
  const live: Live[] = [];
  let published = 0; // live[0 .. published) are visible to the consumer
  let nextSeq = 0;
  let records = 0;
  let padded = 0;
  let exactWraps = 0;
  let lastEnd = -1;

  for (let step = 0; step < steps; step++) {
    if (rng.below(100) < 55) {
      const claims = 1 + rng.below(4);
      for (let i = 0; i < claims; i++) {
        const length = recordLength(seed, nextSeq, max);
        const at = producer.tryClaim(length);
        if (at === NIL) {
          assert.ok(live.length > 0, `claim of ${length} failed on an empty ring (step ${step})`);
          break;
        }
        assert.equal(at % 8, 0, 'payload 8-byte aligned');
        assert.ok(at - RECORD_HEADER_BYTES >= base && at + length <= base + capacity, `record [${at}, +${length}) outside the data region`);
        for (const other of live) {
          const disjoint = at + length <= other.offset - RECORD_HEADER_BYTES || other.offset + other.length <= at - RECORD_HEADER_BYTES;
          assert.ok(disjoint, `record ${nextSeq} overlaps live record ${other.seq}`);
        }
        writeRecord(producer.view, at, seed, nextSeq, length);
        live.push({ seq: nextSeq, offset: at, length });
        nextSeq++;
      }
      if (rng.below(3) !== 0) {
        producer.publish();
        published = live.length;
      }
    } else {
      const wanted = 1 + rng.below(6);
      const bytes = consumer.available();
      assert.equal(bytes === 0, published === 0, 'available() sees exactly the published records');
      let taken = 0;
      for (; taken < wanted; taken++) {
        const at = consumer.next();
        if (at === NIL) break;
        assert.ok(taken < published, 'the consumer sees only published records');
        const expected = live[taken]!;
        assert.equal(at, expected.offset, `record ${expected.seq} offset`);
        assert.equal(consumer.recordLength, expected.length, `record ${expected.seq} length`);
        assert.equal(firstBadByte(consumer.view, at, seed, expected.seq, expected.length), -1, `record ${expected.seq} bytes`);
        const index = at - RECORD_HEADER_BYTES - base;
        if (index === 0 && lastEnd !== -1) {
          if (lastEnd === capacity) exactWraps++;
          else padded++;
        }
        lastEnd = index + RingBuffer.recordBytes(expected.length);
        records++;
      }
      consumer.release();
      live.splice(0, taken);
      published -= taken;
    }
  }
  producer.publish();
  consumer.available();
  for (let at = consumer.next(); at !== NIL; at = consumer.next()) {
    const expected = live.shift()!;
    assert.equal(firstBadByte(consumer.view, at, seed, expected.seq, expected.length), -1, `record ${expected.seq} bytes`);
    records++;
  }
  consumer.release();
  assert.equal(live.length, 0, 'every record came out');
  assert.equal(consumer.depth(), 0);
  assert.equal(guardsDamaged(), 0, 'guard bytes around the data region untouched');
  return { records, padded, exactWraps };
}

test('tiny rings wrap and pad many times without losing or corrupting a record', () => {
  for (const capacity of [32, 64, 128]) {
    for (const seed of [1, 2, 3]) {
      const { records, padded, exactWraps } = randomRun(capacity, seed * 7919 + capacity, 20_000);
      assert.ok(records > 5_000, `${capacity}/${seed}: ${records} records`);
      assert.ok(padded > 100, `${capacity}/${seed}: ${padded} padded wraps`);
      assert.ok(exactWraps > 10, `${capacity}/${seed}: ${exactWraps} wraps at the exact end`);
    }
  }
});

test('the 32-bit cursors wrap around 2^32 without effect', () => {
  const start = -4096; // 0xFFFFF000: the counters cross 2^32 after 4 KiB
  const { buffers } = guardedRing(64, { startCursor: start });
  assert.equal(controlCell(buffers, RING_CONTROL.producerCursor), start);
  const { records } = randomRun(64, 99, 20_000, { startCursor: start });
  assert.ok(records > 5_000);

  // The same ring geometry driven straight across the boundary, checking each record.
  const producer = new RingProducer(buffers);
  const consumer = new RingConsumer(buffers);
  let seq = 0;
  while (controlCell(buffers, RING_CONTROL.consumerCursor) < 0) {
    const length = recordLength(5, seq, producer.maxRecordSize);
    const at = producer.tryClaim(length);
    assert.notEqual(at, NIL);
    writeRecord(producer.view, at, 5, seq, length);
    producer.publish();
    assert.ok(consumer.available() > 0);
    const got = consumer.next();
    assert.equal(got, at);
    assert.equal(firstBadByte(consumer.view, got, 5, seq, length), -1);
    consumer.release();
    seq++;
  }
  assert.ok(controlCell(buffers, RING_CONTROL.producerCursor) >= 0, 'the producer counter wrapped');
  assert.ok(seq >= 4096 / 32, 'crossed the boundary record by record');
});

test('a full ring refuses claims without touching its state, and a failed wrap writes no padding', () => {
  const { buffers, guardsDamaged } = guardedRing(64);
  const producer = new RingProducer(buffers);
  const consumer = new RingConsumer(buffers);
  // Three 16-byte records (8 payload bytes each) fill [0, 48).
  for (let seq = 0; seq < 3; seq++) {
    const at = producer.tryClaim(8);
    assert.equal(at, GUARD_BYTES + seq * 16 + RECORD_HEADER_BYTES);
    writeRecord(producer.view, at, 11, seq, 8);
  }
  producer.publish();
  // Free the first record: 32 bytes free ([48, 64) and [0, 16)), the tail is 16 bytes.
  consumer.available();
  assert.notEqual(consumer.next(), NIL);
  consumer.release();

  const before = Uint8Array.from(new Uint8Array(buffers.data));
  const controlBefore = Int32Array.from(new Int32Array(buffers.control));
  // 16 payload bytes = 24 ring bytes: does not fit the 16-byte tail, and tail + record (40) > 32 free.
  for (let i = 0; i < 5; i++) assert.equal(producer.tryClaim(16), NIL);
  assert.equal(producer.tryClaim(producer.maxRecordSize), NIL);
  producer.publish();
  assert.deepEqual(new Uint8Array(buffers.data), before, 'no byte written, no padding marker');
  assert.deepEqual(new Int32Array(buffers.control), controlBefore, 'cursors unchanged');

  // Free record 1: now 48 bytes are free, and the 24-byte record goes to index 0 after a padding
  // marker in the 16-byte tail.
  consumer.available();
  assert.notEqual(consumer.next(), NIL);
  consumer.release();
  const wrapped = producer.tryClaim(16);
  assert.equal(wrapped, GUARD_BYTES + RECORD_HEADER_BYTES, 'wrapped to index 0');
  assert.equal(producer.view.getInt32(GUARD_BYTES + 48, true), PAD, 'padding marker in the tail');
  writeRecord(producer.view, wrapped, 11, 3, 16);
  producer.publish();

  // The consumer sees records 2 and 3, in order and intact; the padding marker is invisible.
  assert.equal(consumer.available(), 16 + 16 + 24);
  const second = consumer.next();
  assert.equal(second, GUARD_BYTES + 32 + RECORD_HEADER_BYTES);
  assert.equal(firstBadByte(consumer.view, second, 11, 2, 8), -1);
  const third = consumer.next();
  assert.equal(third, wrapped);
  assert.equal(consumer.recordLength, 16);
  assert.equal(firstBadByte(consumer.view, third, 11, 3, 16), -1);
  assert.equal(consumer.next(), NIL);
  consumer.release();
  assert.equal(consumer.depth(), 0);
  assert.equal(guardsDamaged(), 0);
});

test('unpublished claims stay invisible; one publish shows the whole batch', () => {
  const producer = new RingProducer(RingBuffer.allocate(256));
  const consumer = new RingConsumer(producer.buffers);
  for (let seq = 0; seq < 4; seq++) writeRecord(producer.view, producer.tryClaim(seq * 3), 3, seq, seq * 3);
  assert.equal(consumer.available(), 0);
  assert.equal(consumer.hasData(), false);
  producer.publish();
  assert.equal(consumer.available(), 8 + 16 + 16 + 24, 'headers and 8-byte alignment included');
  const seen: number[] = [];
  const count = consumer.poll((view, offset, length) => {
    seen.push(length);
    assert.equal(firstBadByte(view, offset, 3, seen.length - 1, length), -1);
  });
  assert.equal(count, 4);
  assert.deepEqual(seen, [0, 3, 6, 9]);
  assert.equal(consumer.poll(() => assert.fail('empty ring')), 0);
});

test('records larger than half the ring are rejected at the call, never waited for', () => {
  const producer = new RingProducer(RingBuffer.allocate(64));
  assert.equal(producer.maxRecordSize, 24);
  for (const size of [25, 64, 1 << 20, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => producer.tryClaim(size), RangeError, `tryClaim(${size})`);
    assert.throws(() => producer.claimWait(size, 60_000), RangeError, `claimWait(${size})`);
  }
  assert.throws(() => RingBuffer.allocate(100), RangeError, 'not a power of two');
  assert.throws(() => RingBuffer.allocate(16), RangeError, 'below the minimum');
  assert.throws(() => RingBuffer.wrap(new SharedArrayBuffer(128), 4, 64), RangeError, 'misaligned region');
  assert.throws(() => RingBuffer.wrap(new SharedArrayBuffer(128), 72, 64), RangeError, 'region past the end');
  assert.throws(() => RingBuffer.allocate(64, { startCursor: 4 }), RangeError, 'misaligned start');
});

test('a record of the maximum size fits an empty ring at every position', () => {
  for (let start = 0; start < 64; start += 8) {
    const producer = new RingProducer(RingBuffer.allocate(64, { startCursor: start }));
    const consumer = new RingConsumer(producer.buffers);
    const max = producer.maxRecordSize;
    for (let round = 0; round < 4; round++) {
      const at = producer.tryClaim(max);
      assert.notEqual(at, NIL, `max record at index ${start}, round ${round}`);
      writeRecord(producer.view, at, 8, round, max);
      producer.publish();
      consumer.available();
      const got = consumer.next();
      assert.equal(got, at);
      assert.equal(consumer.recordLength, max);
      assert.equal(firstBadByte(consumer.view, got, 8, round, max), -1);
      consumer.release();
    }
  }
});

test('bounded waits time out on a stuck peer, and wake when the peer moves (one thread)', async () => {
  const producer = new RingProducer(RingBuffer.allocate(64));
  const consumer = new RingConsumer(producer.buffers);
  assert.equal(consumer.waitForData(5, 10), false, 'empty ring: data wait times out');
  assert.equal(await consumer.waitForDataAsync(5), false, 'empty ring: async data wait times out');
  while (producer.tryClaim(16) !== NIL);
  producer.publish();
  assert.equal(producer.claimWait(16, 5, 10), NIL, 'full ring: claimWait gives up');
  assert.equal(producer.waitForSpace(16, 5, 10), false);
  assert.equal(await producer.waitForSpaceAsync(16, 5), false);
  assert.equal(consumer.available(), 48, 'nothing dropped or added by the failed waits');

  // An async producer wait is woken by the consumer's release.
  const space = producer.waitForSpaceAsync(16, 60_000);
  setImmediate(() => {
    consumer.available();
    consumer.next();
    consumer.release();
  });
  assert.equal(await space, true);
  assert.notEqual(producer.tryClaim(16), NIL);
  producer.publish();

  // An async consumer wait is woken by the producer's publish.
  consumer.available();
  while (consumer.next() !== NIL);
  consumer.release();
  const data = consumer.waitForDataAsync(60_000);
  setImmediate(() => {
    producer.tryClaim(0);
    producer.publish();
  });
  assert.equal(await data, true);

  // Closing wakes a waiting consumer and marks the end once drained.
  consumer.available();
  while (consumer.next() !== NIL);
  consumer.release();
  const closed = consumer.waitForDataAsync(60_000);
  setImmediate(() => producer.close());
  assert.equal(await closed, false);
  assert.equal(consumer.isFinished(), true);
  assert.equal(consumer.waitForData(60_000), false, 'a closed ring does not block');
});

interface StartedWorker {
  readonly ready: Promise<void>;
  readonly exited: Promise<number>;
  /** Stops the worker even inside Atomics.wait; harmless once it has exited. */
  stop(): Promise<number>;
}

function startWorker(task: WorkerTask, onReport: (report: WorkerReport) => void): StartedWorker {
  const worker = new Worker(new URL('./ring-worker.js', import.meta.url), { workerData: task });
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  worker.on('message', (report: WorkerReport) => {
    if (report.kind === 'ready') markReady();
    else onReport(report);
  });
  const exited = new Promise<number>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', resolve);
  });
  return { ready, exited, stop: () => worker.terminate() };
}

/** Rejects if `promise` has not settled after `ms`: a guard against hangs, not a timing check. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

interface Transfer {
  readonly capacity: number;
  readonly count: number;
  readonly maxLength: number;
  readonly seed: number;
  /** Main thread waits for space with waitForSpaceAsync instead of the blocking claimWait. */
  readonly asyncProducer: boolean;
  /** Spins of both sides before they sleep. */
  readonly spins: number;
}

/**
 * Main-thread producer → worker verifier. The verifier sleeps with an hour-long timeout and the
 * producer gives up after 10 s, so a lost wake-up on either side fails the run instead of slowing it.
 */
async function producerToVerifier(transfer: Transfer): Promise<void> {
  const { capacity, count, maxLength, seed, spins } = transfer;
  const { buffers, guardsDamaged } = guardedRing(capacity, { startCursor: -64 * capacity });
  let verified: Extract<WorkerReport, { kind: 'verified' }> | undefined;
  const worker = startWorker({ mode: 'verify', buffers, seed, count, maxLength, waitMs: 3_600_000, spins }, (report) => {
    if (report.kind === 'verified') verified = report;
  });
  try {
    await produceSeeded(worker, buffers, transfer);
  } finally {
    await worker.stop();
  }
  assert.ok(verified, 'the verifier reported');
  assert.equal(verified.firstMismatch, '');
  assert.equal(verified.mismatches, 0);
  assert.equal(verified.count, count);
  assert.equal(verified.checksum, checksumOfSeeded(count, maxLength, seed), 'checksum of everything received = checksum of everything sent');
  assert.ok(verified.batches > 0 && verified.batches <= count);
  assert.equal(guardsDamaged(), 0, 'guard bytes untouched');
}

async function produceSeeded(worker: StartedWorker, buffers: RingBuffers, transfer: Transfer): Promise<void> {
  const { count, maxLength, seed, asyncProducer, spins } = transfer;
  await worker.ready;
  const producer = new RingProducer(buffers);
  const rng = new TestRng(seed);
  let seq = 0;
  while (seq < count) {
    const batch = 1 + rng.below(32);
    for (let i = 0; i < batch && seq < count; i++, seq++) {
      const length = recordLength(seed, seq, maxLength);
      let at = producer.tryClaim(length);
      if (at === NIL) {
        if (asyncProducer) {
          assert.ok(await producer.waitForSpaceAsync(length, 10_000), `no space for record ${seq} within 10 s`);
          at = producer.tryClaim(length);
        } else {
          at = producer.claimWait(length, 10_000, spins);
        }
      }
      assert.notEqual(at, NIL, `no space for record ${seq} within 10 s`);
      writeRecord(producer.view, at, seed, seq, length);
    }
    producer.publish();
  }
  producer.close();
  assert.equal(await within(worker.exited, 60_000, 'verifier exit'), 0);
}

/** The checksum of the seeded records, computed apart from any ring. */
function checksumOfSeeded(count: number, maxLength: number, seed: number): number {
  const scratch = new DataView(new ArrayBuffer(maxLength));
  let sum = CHECKSUM_START;
  for (let seq = 0; seq < count; seq++) {
    const length = recordLength(seed, seq, maxLength);
    writeRecord(scratch, 0, seed, seq, length);
    sum = checksum(scratch, 0, length, sum);
  }
  return sum;
}

test('200k seeded records through a 128-byte ring to a worker (constant back-pressure and wrap-around)', { timeout: 120_000 }, async () => {
  await producerToVerifier({ capacity: 128, count: 200_000, maxLength: 56, seed: 0xc0ffee, asyncProducer: false, spins: DEFAULT_SPINS });
});

test('100k records through a 64-byte ring with no spinning: every wait sleeps and must be woken', { timeout: 120_000 }, async () => {
  await producerToVerifier({ capacity: 64, count: 100_000, maxLength: 24, seed: 0x5eed, asyncProducer: false, spins: 0 });
});

test('200k seeded records through a 1 MiB ring to a worker', { timeout: 120_000 }, async () => {
  await producerToVerifier({ capacity: 1 << 20, count: 200_000, maxLength: 300, seed: 0xbeef, asyncProducer: false, spins: DEFAULT_SPINS });
});

test('an async producer (waitForSpaceAsync) on a 256-byte ring feeds a worker', { timeout: 120_000 }, async () => {
  await producerToVerifier({ capacity: 256, count: 50_000, maxLength: 120, seed: 77, asyncProducer: true, spins: 0 });
});

test('worker producer → main-thread consumer waiting with waitForDataAsync', { timeout: 120_000 }, async () => {
  // Neither side spins, and the worker waits for space with an hour-long timeout: a lost wake-up
  // on either side stalls the stream and trips the 20-second hang guard on the main thread.
  const { buffers, guardsDamaged } = guardedRing(128);
  const count = 50_000;
  const maxLength = 56;
  const seed = 4242;
  let produced: Extract<WorkerReport, { kind: 'produced' }> | undefined;
  const worker = startWorker({ mode: 'produce', buffers, seed, count, maxLength, waitMs: 3_600_000, spins: 0 }, (report) => {
    if (report.kind === 'produced') produced = report;
  });
  const consumer = new RingConsumer(buffers);
  let seq = 0;
  let sum = CHECKSUM_START;
  try {
    while (!consumer.isFinished()) {
      if (consumer.available() === 0) {
        await within(consumer.waitForDataAsync(30_000), 20_000, `record ${seq} (lost wake-up)`);
        continue;
      }
      for (let at = consumer.next(); at !== NIL; at = consumer.next()) {
        const length = consumer.recordLength;
        assert.equal(length, recordLength(seed, seq, maxLength), `record ${seq} length`);
        assert.equal(firstBadByte(consumer.view, at, seed, seq, length), -1, `record ${seq} bytes`);
        sum = checksum(consumer.view, at, length, sum);
        seq++;
      }
      consumer.release();
    }
    assert.equal(await within(worker.exited, 60_000, 'producer exit'), 0);
  } finally {
    await worker.stop();
  }
  assert.equal(seq, count);
  assert.ok(produced);
  assert.equal(produced.count, count);
  assert.equal(produced.checksum, sum);
  assert.equal(guardsDamaged(), 0);
});

test('a sleeping worker consumer is woken by the next publish (no lost wake-up)', { timeout: 60_000 }, async () => {
  const { buffers, guardsDamaged } = guardedRing(64);
  const seed = 31337;
  const maxLength = 24;
  const arrived: Extract<WorkerReport, { kind: 'record' }>[] = [];
  let notify: () => void = () => undefined;
  // The worker waits with an hour-long timeout, so only a wake-up can deliver a record: a lost one
  // trips the 20-second hang guard. Nothing here depends on how long anything takes.
  const worker = startWorker({ mode: 'echo', buffers, seed, count: 0, maxLength, waitMs: 3_600_000, spins: 0 }, (report) => {
    if (report.kind === 'record') {
      arrived.push(report);
      notify();
    }
  });
  const rounds = 30;
  try {
    await worker.ready;
    const producer = new RingProducer(buffers);
    for (let seq = 0; seq < rounds; seq++) {
      // Wait until the consumer has announced that it sleeps, then publish one record.
      while (controlCell(buffers, RING_CONTROL.consumerSleeping) === 0) await sleep(1);
      if (seq % 3 === 2) await sleep(5); // sometimes publish well after it went to sleep, sometimes at once
      const length = recordLength(seed, seq, maxLength);
      const at = producer.tryClaim(length);
      assert.notEqual(at, NIL);
      writeRecord(producer.view, at, seed, seq, length);
      const delivered = new Promise<void>((resolve) => (notify = resolve));
      producer.publish();
      await within(delivered, 20_000, `record ${seq} after the consumer went to sleep (lost wake-up)`);
      assert.deepEqual(arrived[seq], { kind: 'record', seq, length, intact: true });
    }
    producer.close();
    assert.equal(await within(worker.exited, 20_000, 'consumer exit after close'), 0);
  } finally {
    await worker.stop();
  }
  assert.equal(arrived.length, rounds);
  assert.equal(guardsDamaged(), 0);
});
