/**
 * Micro-benchmark of the SPSC ring (engine/wire/ring.ts): records per second from the main thread
 * (producer) to a worker (consumer), as the gateway → shard path uses it.
 *
 *   npm run build && node dist/bench/micro/ring.js [records]
 *
 * Method: the producer claims a record, writes its payload in 8-byte words (word 0 = sequence
 * number and a check value, word k = seq + k), and publishes every `producerBatch` records; when
 * the ring is full it publishes and waits (spin, then Atomics.wait). The consumer drains whatever
 * is published in one batch, reads every word, checks each record and sums the sequence numbers;
 * the run fails unless every record arrived intact and in order (sum = n(n-1)/2). Time runs from
 * the first claim to the consumer's report. "avg batch" is records per consumer batch (one
 * Atomics.load of the producer cursor and one Atomics.store of the consumer cursor each).
 *
 * A second table compares the cursor cell representations the ring could use (one Atomics.store
 * of the own cursor plus one Atomics.load of the other's, single thread), which is why the ring
 * keeps 32-bit cursors in Int32 cells.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NIL, RingBuffer, RingProducer } from '../../engine/wire/ring.js';
import type { RingBenchReport, RingBenchTask } from './ring-worker.js';

export interface RingBenchOptions {
  /** Records per measured run (default 5,000,000). */
  readonly records?: number;
  /** Data capacity of the ring in bytes (default 256 KiB). */
  readonly capacity?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface RingBenchResult {
  readonly name: string;
  readonly ops_per_sec: number;
  /** Records moved in the measured run. */
  readonly commands: number;
  /** Records per consumer batch. */
  readonly avg_batch: number;
  readonly record_bytes: number;
  readonly producer_batch: number;
  readonly seconds: number;
}

interface RingCase {
  readonly recordBytes: number;
  readonly producerBatch: number;
}

const CASES: readonly RingCase[] = [
  { recordBytes: 32, producerBatch: 64 },
  { recordBytes: 128, producerBatch: 64 },
  { recordBytes: 32, producerBatch: 1 },
  { recordBytes: 128, producerBatch: 1 },
];

/** Runs every case (after a short warm-up of each) and checks every run. */
export async function runRingBench(options: RingBenchOptions = {}): Promise<RingBenchResult[]> {
  const records = options.records ?? 5_000_000;
  const capacity = options.capacity ?? 256 * 1024;
  const log = options.log ?? ((): void => undefined);
  const results: RingBenchResult[] = [];
  for (const c of CASES) {
    await runOnce(c, Math.min(records, 200_000), capacity); // warm-up: JIT both threads
    const result = await runOnce(c, records, capacity);
    log(`ring ${result.name}: ${Math.round(result.ops_per_sec).toLocaleString('en-US')} records/s, avg batch ${result.avg_batch.toFixed(1)}`);
    results.push(result);
  }
  return results;
}

async function runOnce(c: RingCase, records: number, capacity: number): Promise<RingBenchResult> {
  const buffers = RingBuffer.allocate(capacity);
  const task: RingBenchTask = { buffers };
  const worker = new Worker(new URL('./ring-worker.js', import.meta.url), { workerData: task });
  const reports = reportsOf(worker);
  await nextReport(reports, 'ready');

  const producer = new RingProducer(buffers);
  const view = producer.view;
  const size = c.recordBytes;
  const words = size >>> 3;
  const batch = c.producerBatch;
  const started = performance.now();
  let pending = 0;
  for (let seq = 0; seq < records; seq++) {
    let at = producer.tryClaim(size);
    if (at === NIL) {
      if (!producer.waitForSpace(size, 10_000)) throw new Error('ring bench: consumer stalled for 10 s');
      at = producer.tryClaim(size);
    }
    view.setUint32(at, seq, true);
    view.setUint32(at + 4, (seq ^ 0x5a5a5a5a) >>> 0, true);
    for (let w = 1; w < words; w++) view.setFloat64(at + w * 8, seq + w, true);
    if (++pending === batch) {
      producer.publish();
      pending = 0;
    }
  }
  producer.close();
  const done = await nextReport(reports, 'done');
  const seconds = (performance.now() - started) / 1000;
  await worker.terminate();

  if (done.kind !== 'done') throw new Error('unreachable');
  if (done.records !== records || done.bad !== 0 || done.seqSum !== (records * (records - 1)) / 2) {
    throw new Error(`ring bench check failed: ${done.records}/${records} records, ${done.bad} bad, sequence sum ${done.seqSum}`);
  }
  return {
    name: `${size}B/batch${batch}`,
    ops_per_sec: records / seconds,
    commands: records,
    avg_batch: records / done.batches,
    record_bytes: size,
    producer_batch: batch,
    seconds,
  };
}

type Reports = { readonly queue: RingBenchReport[]; wake: () => void; failure: Error | undefined };

function reportsOf(worker: Worker): Reports {
  const reports: Reports = { queue: [], wake: () => undefined, failure: undefined };
  worker.on('message', (report: RingBenchReport) => {
    reports.queue.push(report);
    reports.wake();
  });
  worker.on('error', (err) => {
    reports.failure = err;
    reports.wake();
  });
  return reports;
}

async function nextReport(reports: Reports, kind: RingBenchReport['kind']): Promise<RingBenchReport> {
  for (;;) {
    if (reports.failure !== undefined) throw reports.failure;
    const report = reports.queue.shift();
    if (report !== undefined) {
      if (report.kind !== kind) throw new Error(`ring bench: expected ${kind}, got ${report.kind}`);
      return report;
    }
    await new Promise<void>((wake) => (reports.wake = wake));
  }
}

export interface CellBenchResult {
  readonly name: string;
  readonly ops_per_sec: number;
}

/**
 * Cost of the cursor traffic per record with each cell representation: store the own cursor,
 * load the other's. Single thread, so it measures the instructions (and BigInt boxing), not
 * cache-line transfers, which are the same for all three.
 */
export function runCursorCellBench(iterations = 10_000_000): CellBenchResult[] {
  const rounds = [cellsInt32, cellsBigInt64, cellsSplitDouble];
  const best = new Map<string, number>();
  for (let round = 0; round < 3; round++) {
    for (const run of rounds) {
      const started = performance.now();
      const check = run(iterations);
      const opsPerSec = iterations / ((performance.now() - started) / 1000);
      if (!Number.isFinite(check)) throw new Error('cell bench check failed');
      best.set(run.name, Math.max(best.get(run.name) ?? 0, opsPerSec));
    }
  }
  return [
    { name: 'Int32 cells, 32-bit wrapping cursors (chosen)', ops_per_sec: best.get(cellsInt32.name) ?? 0 },
    { name: 'BigInt64 cells, bigint cursors', ops_per_sec: best.get(cellsBigInt64.name) ?? 0 },
    { name: 'double split in two Int32 cells (tears without a seqlock)', ops_per_sec: best.get(cellsSplitDouble.name) ?? 0 },
  ];
}

function cellsInt32(n: number): number {
  const cells = new Int32Array(new SharedArrayBuffer(128));
  let cursor = 0x7fff0000 | 0;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    cursor = (cursor + 40) | 0;
    Atomics.store(cells, 0, cursor);
    acc = (acc + ((cursor - Atomics.load(cells, 16)) | 0)) | 0;
  }
  return acc;
}

function cellsBigInt64(n: number): number {
  const cells = new BigInt64Array(new SharedArrayBuffer(128));
  let cursor = 0n;
  let acc = 0n;
  for (let i = 0; i < n; i++) {
    cursor += 40n;
    Atomics.store(cells, 0, cursor);
    acc += cursor - Atomics.load(cells, 8);
  }
  return Number(acc & 0xffffn);
}

function cellsSplitDouble(n: number): number {
  const cells = new Int32Array(new SharedArrayBuffer(128));
  let cursor = 0;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    cursor += 40;
    Atomics.store(cells, 1, (cursor / 4294967296) | 0);
    Atomics.store(cells, 0, cursor | 0);
    acc += cursor - (Atomics.load(cells, 17) * 4294967296 + (Atomics.load(cells, 16) >>> 0));
  }
  return acc;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  const records = arg === undefined ? undefined : Number(arg);
  if (records !== undefined && !(Number.isInteger(records) && records > 0)) throw new Error(`usage: node dist/bench/micro/ring.js [records], got ${arg}`);
  const results = await runRingBench(records === undefined ? {} : { records });
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  console.log('SPSC ring, main thread → worker, 256 KiB ring, 8-byte header per record');
  console.log(table(
    ['case', 'records', 'records/s', 'MB/s (payload)', 'avg consumer batch'],
    results.map((r) => [r.name, fmt(r.commands), fmt(r.ops_per_sec), (r.ops_per_sec * r.record_bytes / 1e6).toFixed(0), r.avg_batch.toFixed(1)]),
  ));
  console.log('');
  console.log('cursor cells: store own cursor + load the other, one thread');
  console.log(table(['representation', 'ops/s'], runCursorCellBench().map((r) => [r.name, fmt(r.ops_per_sec)])));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
