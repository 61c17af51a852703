/**
 * The background half of a snapshot: from the raw copies the paused shards and the router took
 * (snapshot-copy.ts) to a durable file — the book-ordered image (one walk per book), the encoding,
 * temp file, fdatasync, rename, directory sync (snapshot.ts writeSnapshot). The router runs it on
 * a worker thread of its own (`writeSnapshotInBackground`), the copies shared rather than copied
 * again, so neither the shards nor the router's event loop (sockets, group commit) wait for it.
 */
import { Worker } from 'node:worker_threads';
import { LazyCopy, type LazyCopySpec } from './lazy-copy.js';
import type { EngineCopy } from './snapshot-copy.js';
import { encodeSnapshot } from './snapshot-codec.js';
import { composeSnapshot, engineImageOf, type BalancesImage, type SnapshotNames } from './snapshot-image.js';
import { writeSnapshotFile } from './snapshot.js';

/** Everything a snapshot file is made of, as copied at an epoch boundary. Structured-cloneable. */
export interface SnapshotJob {
  readonly dir: string;
  /** The durable epoch the copies were taken at (every shard paused after it). */
  readonly epoch: number;
  readonly names: SnapshotNames;
  readonly balances: BalancesImage;
  /** One per shard. */
  readonly parts: readonly EngineCopy[];
  /** Lazy copies besides the parts' own (the balance table's) that must be finished before the copies are read. */
  readonly pending: readonly LazyCopySpec[];
}

export interface SnapshotWritten {
  readonly path: string;
  readonly bytes: number;
}

/** Derives, encodes and writes the snapshot on the calling thread. */
export function writeSnapshotJob(job: SnapshotJob): SnapshotWritten {
  finishCopies(job);
  const image = composeSnapshot(job.epoch, job.names, job.balances, job.parts.map(engineImageOf));
  const bytes = encodeSnapshot(image);
  return { path: writeSnapshotFile(job.dir, job.epoch, bytes), bytes: bytes.byteLength };
}

/**
 * Copies what the lazy copies of a job still lack (lazy-copy.ts; the shards copy a chunk only when
 * they are about to change it), which also turns their guards off. Returns the chunks copied here.
 */
export function finishCopies(job: Pick<SnapshotJob, 'parts' | 'pending'>): number {
  let copied = 0;
  for (const spec of [...job.pending, ...job.parts.flatMap((part) => part.pending)]) copied += new LazyCopy(spec).finish();
  return copied;
}

/**
 * writeSnapshotJob on a new worker thread. Copies on shared memory (CopyBuffers) are shared with
 * it, not copied: their owner must not copy into them again before this resolves or rejects.
 * Rejects when the worker throws or exits without an answer.
 */
export function writeSnapshotInBackground(job: SnapshotJob): Promise<SnapshotWritten> {
  const worker = new Worker(new URL('./snapshot-worker.js', import.meta.url), { workerData: job });
  return new Promise<SnapshotWritten>((resolve, reject) => {
    worker.once('message', (written: SnapshotWritten) => resolve(written));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the snapshot writer exited with code ${code} before it answered`)));
  });
}
