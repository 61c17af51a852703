/**
 * The spare segment file: while a shard writes segment n, a helper thread zero-fills and
 * fdatasyncs `<shard>.spare` (built as `<shard>.spare.tmp`, renamed when complete), so that the
 * writer can roll by renaming it instead of growing a new file. Writing over a zero-filled,
 * synced file changes no metadata, so fdatasync need not commit the inode's size through the
 * filesystem journal (ext4: jbd2) at every sync — the cost of appending.
 *
 * The shard thread never waits for the helper: it reads one state cell and takes the spare only
 * when it is READY. The two threads share a few Int32 cells (no messages: the shard runs a
 * blocking loop without event loop turns, so it would never receive any):
 *  - STATE: EMPTY (the helper prepares one) → READY (the helper) → EMPTY (the writer took it);
 *    FAILED when the helper hit an I/O error (no more spares; the writer creates segments itself);
 *    CLOSED once the writer stopped the helper.
 *  - GATE: the helper holds it (BUSY) around every file operation; stop() swaps FREE → STOPPED,
 *    waiting out at most one step (a 256 KiB write and its fdatasync), so after stop() the helper
 *    never touches the directory again.
 *  - MADE: spares completed (tests, statistics).
 *  - TRIM, and two Float64 cells after the Int32s: a segment the writer left (its first epoch)
 *    and the bytes of its frames. The helper cuts that segment's zero tail off (ftruncate; 1 ms
 *    here for the 4 MiB of headroom, too much for a shard's roll). The writer posts a trim only
 *    while TRIM is 0, and the helper clears it once done, so the pair is never read half-written;
 *    a trim the helper has not done when stopped is done by the writer (or, after a crash, never:
 *    a zero tail is harmless).
 *
 * The helper writes the zeros in 256 KiB steps, each followed by fdatasync (little dirty data: a
 * shard's own fdatasync never waits long behind the helper's writeback) and a pause
 * (SPARE_PAUSE_MS by default: ~100 MiB/s, a 68 MiB spare in ~0.7 s here), so that it takes a
 * fraction of the disk. Measured here, a 4 KiB write + fdatasync into a preallocated file while a
 * helper zero-fills without end: p50 / p99 / p99.9 90 / 240–260 / 360–700 µs with 256 KiB steps
 * and 2 ms pauses, 90 / 310–360 / 520–580 µs with 1 MiB steps and 8 ms pauses (about the same
 * rate), 90 / 146 / 194 µs with no helper (appending: 135 / 182 / 403). Its thread
 * runs at the lowest CPU priority (spare-worker.ts). It starts a spare only while the
 * filesystem has room for it and a reserve besides (SpareFile.start). It is unref'd and
 * terminated on stop(): it never keeps a process alive.
 */
import { closeSync, existsSync, fdatasyncSync, openSync, renameSync, rmSync, statfsSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { segmentName } from './segment-files.js';

/** Bytes the helper writes (and fdatasyncs) per step. */
export const SPARE_STEP_BYTES = 256 << 10;
/** Default pause of the helper after each step, in milliseconds. */
export const SPARE_PAUSE_MS = 2;
/** How often a helper kept back by a full disk looks again, in milliseconds. */
const FREE_SPACE_RECHECK_MS = 1_000;
/** How long stop() waits for the helper to end its current step before it terminates it. */
const STOP_WAIT_MS = 10_000;

const STATE = 0;
const GATE = 1;
const MADE = 2;
const TRIM = 3;
/** Bytes of the Int32 cells; the Float64 cells (TRIM_EPOCH, TRIM_BYTES) follow. */
const INT_BYTES = 16;
const TRIM_EPOCH = 0;
const TRIM_BYTES = 1;
const CELL_BYTES = INT_BYTES + 16;

const EMPTY = 0;
const READY = 1;
const FAILED = 2;
const CLOSED = 3;

const FREE = 0;
const BUSY = 1;
const STOPPED = 2;

/** The spare of `shard`: never a segment name (segment-files.ts lists `<shard>-<epoch>.log` only). */
export function spareName(shard: number): string {
  return `${String(shard).padStart(3, '0')}.spare`;
}

/**
 * The size of a spare for segments of `segmentBytes`: a segment exceeds the limit by the rest of
 * an epoch (segment-writer.ts), so a little more; writing past it still works (the file grows).
 */
export function spareBytesFor(segmentBytes: number): number {
  return segmentBytes + Math.max(segmentBytes >> 4, 256 << 10);
}

/** What the helper thread is started with. Structured-cloneable. */
export interface SpareJob {
  readonly dir: string;
  readonly shard: number;
  readonly bytes: number;
  readonly pauseMs: number;
  /** Free bytes the filesystem must keep besides the spare for the helper to start one. */
  readonly reserveBytes: number;
  /** The shared cells (see above): CELL_BYTES. */
  readonly cells: SharedArrayBuffer;
}

/** The writer's side: the state of the shard's spare and the helper thread that prepares it. */
export class SpareFile {
  private readonly cells: Int32Array;
  private readonly trim: Float64Array;
  private worker: Worker | null;

  private constructor(readonly path: string, private readonly job: SpareJob) {
    this.cells = new Int32Array(job.cells, 0, INT_BYTES / 4);
    this.trim = new Float64Array(job.cells, INT_BYTES, 2);
    this.worker = new Worker(new URL('./spare-worker.js', import.meta.url), { workerData: job });
    this.worker.unref();
    this.worker.on('error', () => undefined); // the helper reports failures through STATE; nothing may throw in the writer's thread
  }

  /**
   * Starts preparing `dir`'s spare for `shard`, `bytes` long. A leftover of an earlier run is
   * reused when complete and large enough (it was renamed `.spare` only once zero-filled and
   * synced), else deleted; a half-built `.spare.tmp` is deleted. The helper starts a spare only
   * while the filesystem has `reserveBytes` free besides it (by default one more spare's worth): a
   * disk nearly full is left to the segments and snapshots themselves, which then roll into plain files.
   */
  static start(dir: string, shard: number, bytes: number, pauseMs = SPARE_PAUSE_MS, reserveBytes = bytes): SpareFile {
    const path = join(dir, spareName(shard));
    const cells = new SharedArrayBuffer(CELL_BYTES);
    rmSync(`${path}.tmp`, { force: true });
    if (existsSync(path)) {
      if (statSync(path).size >= bytes) Atomics.store(new Int32Array(cells), STATE, READY);
      else rmSync(path, { force: true });
    }
    return new SpareFile(path, { dir, shard, bytes, pauseMs, reserveBytes, cells });
  }

  /** Deletes a leftover spare of `shard` (writers that do not prepare segments). */
  static discard(dir: string, shard: number): void {
    const path = join(dir, spareName(shard));
    rmSync(`${path}.tmp`, { force: true });
    rmSync(path, { force: true });
  }

  /** True when a complete spare waits to be taken. One load: cheap enough for every new epoch. */
  get ready(): boolean {
    return Atomics.load(this.cells, STATE) === READY;
  }

  /** Spares the helper completed. */
  get made(): number {
    return Atomics.load(this.cells, MADE);
  }

  /**
   * Renames the spare to `target` when one is ready (the helper then starts the next one).
   * Returns false, leaving everything as it was, when none is. The caller syncs the directory.
   */
  take(target: string): boolean {
    if (!this.ready) return false;
    let taken = true;
    try {
      renameSync(this.path, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      taken = false; // deleted behind our back: have another one made
    }
    Atomics.store(this.cells, STATE, EMPTY);
    Atomics.notify(this.cells, STATE);
    return taken;
  }

  /**
   * Has the helper cut the segment of `shard` starting at `firstEpoch` to `bytes` (its frames),
   * off the writer's thread. False, nothing posted, while an earlier trim is still pending (the
   * caller may do it itself or leave the zero tail).
   */
  trimLater(firstEpoch: number, bytes: number): boolean {
    if (this.worker === null || Atomics.load(this.cells, TRIM) !== 0) return false;
    this.trim[TRIM_EPOCH] = firstEpoch;
    this.trim[TRIM_BYTES] = bytes;
    Atomics.store(this.cells, TRIM, 1);
    Atomics.notify(this.cells, STATE); // wakes a helper waiting with a spare ready
    return true;
  }

  /** Blocks until a spare is ready, at most `timeoutMs`; true when one is (tests, tools: never on a hot path). */
  waitReady(timeoutMs: number): boolean {
    const deadline = process.hrtime.bigint() + BigInt(Math.round(timeoutMs * 1e6));
    for (;;) {
      const state = Atomics.load(this.cells, STATE);
      if (state === READY) return true;
      if (state !== EMPTY) return false;
      const left = Number(deadline - process.hrtime.bigint()) / 1e6;
      if (left <= 0) return false;
      Atomics.wait(this.cells, STATE, EMPTY, left);
    }
  }

  /**
   * Stops the helper: waits for its current step to end (it never touches the directory
   * afterwards), deletes a half-built spare and terminates the thread. A complete spare is kept
   * for the next writer of the shard.
   */
  stop(): void {
    const worker = this.worker;
    if (worker === null) return;
    this.worker = null;
    let stopped = true;
    while (Atomics.compareExchange(this.cells, GATE, FREE, STOPPED) === BUSY) {
      if (Atomics.wait(this.cells, GATE, BUSY, STOP_WAIT_MS) === 'timed-out') {
        stopped = false; // a step stuck in I/O: terminate the thread, leave its file alone
        break;
      }
    }
    Atomics.store(this.cells, STATE, CLOSED);
    Atomics.notify(this.cells, STATE);
    Atomics.notify(this.cells, GATE);
    if (stopped) {
      rmSync(`${this.path}.tmp`, { force: true });
      if (Atomics.load(this.cells, TRIM) !== 0) trimSegment(this.job, this.trim[TRIM_EPOCH]!, this.trim[TRIM_BYTES]!);
    }
    worker.terminate().catch(() => undefined);
  }
}

/**
 * The helper thread's loop (spare-worker.ts): prepares a spare whenever the state is EMPTY,
 * waits while it is READY, returns once stopped or after an I/O error (state FAILED).
 */
export function runSparePreparer(job: SpareJob): void {
  const cells = new Int32Array(job.cells, 0, INT_BYTES / 4);
  const trim = new Float64Array(job.cells, INT_BYTES, 2);
  const spare = join(job.dir, spareName(job.shard));
  const temp = `${spare}.tmp`;
  const zeros = new Uint8Array(SPARE_STEP_BYTES);
  /** Runs `action` holding the gate; false (nothing done) once stopped. */
  const step = (action: () => void): boolean => {
    if (Atomics.compareExchange(cells, GATE, FREE, BUSY) !== FREE) return false;
    try {
      action();
    } finally {
      Atomics.store(cells, GATE, FREE);
      Atomics.notify(cells, GATE);
    }
    return true;
  };
  /** Does a pending trim; false once stopped. */
  const trimPending = (): boolean => {
    if (Atomics.load(cells, TRIM) === 0) return true;
    return step(() => {
      trimSegment(job, trim[TRIM_EPOCH]!, trim[TRIM_BYTES]!);
      Atomics.store(cells, TRIM, 0);
    });
  };
  const prepare = (): boolean => {
    let fd = -1;
    if (!step(() => { fd = openSync(temp, 'w'); })) return false;
    try {
      for (let done = 0; done < job.bytes;) {
        const at = done;
        const n = Math.min(SPARE_STEP_BYTES, job.bytes - at);
        const wrote = step(() => {
          for (let w = 0; w < n;) w += writeSync(fd, zeros, w, n - w, at + w);
          fdatasyncSync(fd);
        });
        if (!wrote || !trimPending()) return false;
        done += n;
        if (job.pauseMs > 0) Atomics.wait(cells, GATE, FREE, job.pauseMs); // returns at once when stopped
      }
    } finally {
      closeSync(fd);
    }
    return step(() => renameSync(temp, spare));
  };
  for (;;) {
    if (!trimPending()) return;
    const state = Atomics.load(cells, STATE);
    if (state === READY) {
      Atomics.wait(cells, STATE, READY);
      continue;
    }
    if (state !== EMPTY) return;
    if (!roomFor(job)) {
      Atomics.wait(cells, STATE, EMPTY, FREE_SPACE_RECHECK_MS); // woken at once by stop() or a trim
      continue;
    }
    try {
      if (!prepare()) return;
    } catch {
      step(() => rmSync(temp, { force: true }));
      Atomics.compareExchange(cells, STATE, EMPTY, FAILED);
      Atomics.notify(cells, STATE);
      return;
    }
    Atomics.add(cells, MADE, 1);
    if (Atomics.compareExchange(cells, STATE, EMPTY, READY) !== EMPTY) return; // stopped meanwhile
    Atomics.notify(cells, STATE);
  }
}

/** True when the filesystem has room for the spare and the reserve after it (true when it cannot tell). */
function roomFor(job: SpareJob): boolean {
  try {
    const space = statfsSync(job.dir);
    return space.bavail * space.bsize >= job.bytes + job.reserveBytes;
  } catch {
    return true;
  }
}

/**
 * Cuts the segment of `job.shard` starting at `firstEpoch` to `bytes`, if it is longer. Not
 * synced. A failure (the segment deleted meanwhile, say) leaves it as it was: a zero tail is harmless.
 */
function trimSegment(job: SpareJob, firstEpoch: number, bytes: number): void {
  const path = join(job.dir, segmentName(job.shard, firstEpoch));
  try {
    if (statSync(path).size > bytes) truncateSync(path, bytes);
  } catch {
    // left as it was
  }
}
