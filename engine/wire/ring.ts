/**
 * Single-producer / single-consumer ring of variable-length binary records in shared memory: it
 * carries commands from the gateway/router to a shard, and replies and events back.
 *
 * Layout. Two SharedArrayBuffers, postable to a Worker as one {@link RingBuffers} object:
 *  - `control`: four 64-byte lines of Int32 cells, so that the two hot cursors never share a
 *    cache line (no false sharing) and the rarely written wait flags stay out of both:
 *      line 0  producer cursor        (written by the producer once per published batch)
 *      line 1  consumer cursor        (written by the consumer once per drained batch)
 *      line 2  consumer-sleeping ticket (0 = awake), closed flag
 *      line 3  producer-waiting ticket (0 = not waiting), the consumer cursor it needs
 *  - `data`: `capacity` bytes (a power of two) starting at `dataOffset`, addressed as
 *    `cursor & mask`. `wrap` places the region inside a bigger buffer (tests put canaries around it).
 *
 * Records. Each record is an 8-byte header (i32 payload length, i32 reserved) and its payload,
 * padded to a multiple of 8, so that 8-byte fields of a `defineLayout` record stay aligned.
 * A record is always contiguous: when it would straddle the end of the buffer, the producer writes
 * a padding marker (length {@link PAD}) in the tail and puts the record at index 0. Readers get an
 * offset into `view` (a DataView over the whole data buffer) and read the record in place.
 * The largest payload is `capacity / 2 - 8` bytes: with a record of at most half the ring, an empty
 * ring always has room for it whatever the position (either it fits before the end, or the part
 * before the current index is at least as large as it is), so a waiting producer cannot deadlock.
 *
 * Cursors are 32-bit counters of bytes ever written / released, stored in Int32 cells and kept as
 * int32 in JS (`(x + n) | 0`). They wrap at 2^32 and that is harmless: the capacity divides 2^32,
 * so `cursor & mask` stays right, and the fill level `(producer - consumer) | 0` is exact modulo
 * 2^32 and never more than the capacity (at most 2^30). Measured against the alternatives
 * (bench/micro/ring.ts, "cursor cells"): a store plus a load on Int32 cells runs about 65 M/s on
 * the 2-core reference machine, on BigInt64 cells about 40 M/s (bigint arithmetic and boxing),
 * and with a double split over two Int32 cells about 30 M/s, which would also need a seqlock
 * because its two stores can be seen torn.
 *
 * Batching. The producer claims any number of records (`tryClaim`) and makes them all visible
 * with one `publish()`: one Atomics.store of its cursor, then an Atomics.notify only if the
 * consumer announced that it sleeps. It caches the consumer cursor and re-reads it only when the
 * cached value says the record might not fit (the Disruptor's SingleProducerSequencer). The
 * consumer loads the producer cursor once (`available`), walks the records (`next`), and stores
 * its own cursor once (`release`), waking the producer only if it waits for that much space.
 * `publishTo(position)` publishes only the records claimed before a position read from `claimed`:
 * the producer can keep the newest records invisible while it claims more behind them.
 *
 * Memory ordering. The payload and header bytes are plain (unordered) DataView writes; the
 * cursors are written with Atomics.store and read with Atomics.load, which are sequentially
 * consistent. In the JS memory model a SeqCst store synchronizes-with the SeqCst load that reads
 * its value, and program order is part of happens-before. The producer writes the record bytes
 * before it stores the producer cursor; the consumer reads the record bytes only below the cursor
 * value it loaded. So the byte writes happen-before the byte reads, and the consumer sees the
 * whole record, never a torn one. The other direction is symmetric: the consumer reads a record
 * before it stores the consumer cursor past it, and the producer overwrites bytes only after
 * loading a consumer cursor that is past them, so a record is never overwritten while being read.
 *
 * Waiting without lost wake-ups. A consumer that finds the ring empty spins a bounded number of
 * times, then stores a fresh nonzero ticket in the sleeping cell, re-checks the producer cursor,
 * and only then waits (Atomics.wait on the cell, expecting its ticket). `publish` stores the
 * cursor, then loads the cell and, if it holds a ticket, swaps that ticket for 0 and notifies.
 * All four operations are SeqCst, so either the consumer's re-check sees the new cursor or the
 * producer's load sees the ticket; and Atomics.wait compares the cell with the ticket atomically
 * with going to sleep, so a swap that lands just before the wait makes it return at once. The
 * ticket changes with every sleep, so a swap aimed at an earlier sleep fails instead of ending a
 * later one early: a wait returns false only on timeout or close. The producer waits for space
 * the same way on its own cell, with the consumer cursor it needs stored next to it; the
 * consumer wakes it only once that much space is free. Atomics.wait blocks the thread, so a
 * thread that also serves sockets uses the `…Async` forms (Atomics.waitAsync).
 */

/** Bytes before a record's payload: i32 payload length (or {@link PAD}), i32 reserved. */
export const RECORD_HEADER_BYTES = 8;
/** The length field of a padding marker: skip to the end of the buffer. */
export const PAD = -1;
/** No offset: the ring is full (producer) or the batch is exhausted (consumer). */
export const NIL = -1;
/** Smallest and largest data capacity in bytes. */
export const MIN_RING_CAPACITY = 32;
export const MAX_RING_CAPACITY = 1 << 30;
/** Spins on the other side's cursor before going to sleep. */
export const DEFAULT_SPINS = 1000;

/** Int32 cell indices in the control buffer (16 cells = one 64-byte line). */
export const RING_CONTROL = {
  producerCursor: 0,
  consumerCursor: 16,
  consumerSleeping: 32,
  closed: 33,
  producerWaiting: 48,
  producerTarget: 49,
} as const;
export const RING_CONTROL_BYTES = 4 * 64;

const PRODUCER_CURSOR = RING_CONTROL.producerCursor;
const CONSUMER_CURSOR = RING_CONTROL.consumerCursor;
const CONSUMER_SLEEPING = RING_CONTROL.consumerSleeping;
const CLOSED = RING_CONTROL.closed;
const PRODUCER_WAITING = RING_CONTROL.producerWaiting;
const PRODUCER_TARGET = RING_CONTROL.producerTarget;

/** What both ends need; structured-cloneable, so it can be posted to a Worker. */
export interface RingBuffers {
  readonly control: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
  /** Byte offset of the data region inside `data` (a multiple of 8). */
  readonly dataOffset: number;
  /** Data capacity in bytes, a power of two. */
  readonly capacity: number;
}

export interface RingOptions {
  /**
   * Initial value of both cursors (a multiple of 8, taken modulo 2^32). Tests start just below
   * 2^32 so that the counters wrap early; production leaves it at 0.
   */
  readonly startCursor?: number;
}

/** Reads one record in place: `view.get…(offset + field)`, `length` payload bytes. */
export type RecordHandler = (view: DataView, offset: number, length: number) => void;

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
/** Atomics.waitAsync (Node ≥ 16); typed here because the project's lib is ES2023. */
const waitAsync = (Atomics as unknown as {
  waitAsync: (cells: Int32Array, index: number, value: number, timeoutMs: number) => WaitAsyncResult;
}).waitAsync;

/** Longest period a Node timer accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function keepLoopAlive(): void {
  // An interval that does nothing: while it is active, the event loop does not exit.
}

/**
 * Atomics.waitAsync on one cell, keeping the event loop alive while it waits (Node does not count
 * a pending waitAsync, nor its timeout, as work) unless `keepAlive` is false (the caller keeps it
 * alive itself). Resolves when woken, on timeout, or at once when the cell does not hold `value`.
 * Allocates a promise, and a timer when keeping the loop alive.
 */
function waitCellAsync(cells: Int32Array, index: number, value: number, timeoutMs: number, keepAlive = true): Promise<unknown> {
  const result = waitAsync(cells, index, value, timeoutMs);
  if (!result.async) return Promise.resolve();
  if (!keepAlive) return result.value;
  const timer = setInterval(keepLoopAlive, Math.min(Math.max(timeoutMs, 1), MAX_TIMER_MS));
  return result.value.then(() => clearInterval(timer));
}

/** The next wait ticket: any nonzero int32 different from the previous one. */
function nextTicket(ticket: number): number {
  return ((ticket + 1) | 0) || 1;
}

/** The shared part of both ends: geometry and views. Use {@link RingProducer} and {@link RingConsumer}. */
export class RingBuffer {
  readonly capacity: number;
  readonly mask: number;
  /** Largest payload `tryClaim` accepts: `capacity / 2 - RECORD_HEADER_BYTES`. */
  readonly maxRecordSize: number;
  /** A view over the whole data buffer: record offsets index into it. */
  readonly view: DataView;
  /** The same bytes, for bulk copies. */
  readonly bytes: Uint8Array;
  protected readonly control: Int32Array;
  /** Byte offset of the data region inside the data buffer. */
  protected readonly base: number;

  constructor(readonly buffers: RingBuffers) {
    const { capacity, dataOffset, data, control } = buffers;
    if (!Number.isInteger(capacity) || capacity < MIN_RING_CAPACITY || capacity > MAX_RING_CAPACITY || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two in [${MIN_RING_CAPACITY}, 2^30], got ${capacity}`);
    }
    if (!Number.isInteger(dataOffset) || dataOffset < 0 || dataOffset % 8 !== 0 || dataOffset + capacity > data.byteLength) {
      throw new RangeError(`ring data region [${dataOffset}, +${capacity}) does not fit an 8-aligned place in a ${data.byteLength}-byte buffer`);
    }
    if (control.byteLength < RING_CONTROL_BYTES) throw new RangeError(`ring control buffer needs ${RING_CONTROL_BYTES} bytes`);
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.maxRecordSize = capacity / 2 - RECORD_HEADER_BYTES;
    this.view = new DataView(data);
    this.bytes = new Uint8Array(data);
    this.control = new Int32Array(control, 0, RING_CONTROL_BYTES / 4);
    this.base = dataOffset;
  }

  /** New buffers for a ring of `capacityBytes` (a power of two). */
  static allocate(capacityBytes: number, options: RingOptions = {}): RingBuffers {
    return RingBuffer.wrap(new SharedArrayBuffer(capacityBytes), 0, capacityBytes, options);
  }

  /** A ring whose data region is `[dataOffset, dataOffset + capacityBytes)` of an existing buffer. */
  static wrap(data: SharedArrayBuffer, dataOffset: number, capacityBytes: number, options: RingOptions = {}): RingBuffers {
    const buffers = { control: new SharedArrayBuffer(RING_CONTROL_BYTES), data, dataOffset, capacity: capacityBytes };
    new RingBuffer(buffers); // validates the geometry
    const start = options.startCursor ?? 0;
    if (!Number.isInteger(start) || start % 8 !== 0) throw new RangeError(`startCursor must be a multiple of 8, got ${start}`);
    const control = new Int32Array(buffers.control);
    Atomics.store(control, PRODUCER_CURSOR, start | 0);
    Atomics.store(control, CONSUMER_CURSOR, start | 0);
    return buffers;
  }

  /** Bytes a record with `size` payload bytes takes in the ring, header and alignment included. */
  static recordBytes(size: number): number {
    return (size + RECORD_HEADER_BYTES + 7) & ~7;
  }

  /** Bytes published and not yet released (the ring depth metric). */
  depth(): number {
    return (Atomics.load(this.control, PRODUCER_CURSOR) - Atomics.load(this.control, CONSUMER_CURSOR)) | 0;
  }

  /** Wakes a sleeping consumer without publishing anything (it re-checks its other duties). */
  wake(): void {
    Atomics.notify(this.control, CONSUMER_SLEEPING);
  }

  /** True once the producer closed the ring (it may still hold records to drain). */
  isClosed(): boolean {
    return Atomics.load(this.control, CLOSED) !== 0;
  }
}

/** The producing end. Use from one thread only. */
export class RingProducer extends RingBuffer {
  /** Claim cursor: end of the last claimed record. */
  private cursor: number;
  /** The cursor value last stored for the consumer. */
  private published: number;
  /** The consumer cursor as last loaded; the consumer only moves it forward. */
  private cachedConsumer: number;
  /** Ticket of the current (or last) wait for space. */
  private ticket: number;

  constructor(buffers: RingBuffers) {
    super(buffers);
    this.cursor = Atomics.load(this.control, PRODUCER_CURSOR);
    this.published = this.cursor;
    this.cachedConsumer = Atomics.load(this.control, CONSUMER_CURSOR);
    this.ticket = 0;
  }

  /**
   * Reserves a record of `size` payload bytes and writes its header; returns the payload's offset
   * in `view`, or {@link NIL} when the ring is full (nothing written). The record becomes visible
   * at the next `publish()`. Throws a RangeError when `size` is not an integer in
   * [0, maxRecordSize]: such a record could never fit, which is a programming error.
   */
  tryClaim(size: number): number {
    this.checkSize(size);
    const total = (size + RECORD_HEADER_BYTES + 7) & ~7;
    const index = this.cursor & this.mask;
    const tail = this.capacity - index;
    const need = total <= tail ? total : tail + total;
    if (need > this.capacity - ((this.cursor - this.cachedConsumer) | 0)) {
      this.cachedConsumer = Atomics.load(this.control, CONSUMER_CURSOR);
      if (need > this.capacity - ((this.cursor - this.cachedConsumer) | 0)) return NIL;
    }
    let at = this.base + index;
    if (total > tail) {
      this.view.setInt32(at, PAD, true);
      at = this.base;
    }
    this.view.setInt32(at, size, true);
    this.cursor = (this.cursor + need) | 0;
    return at + RECORD_HEADER_BYTES;
  }

  /**
   * `tryClaim`, waiting up to `timeoutMs` for space when the ring is full (publishing pending
   * claims first, so the consumer can free space). Returns {@link NIL} when the consumer did not
   * make room in time: answer "busy", never drop. Blocks the thread: not for a thread that
   * serves sockets (use `waitForSpaceAsync`, then `tryClaim`).
   */
  claimWait(size: number, timeoutMs: number, spins: number = DEFAULT_SPINS): number {
    const at = this.tryClaim(size);
    if (at !== NIL) return at;
    return this.waitForSpace(size, timeoutMs, spins) ? this.tryClaim(size) : NIL;
  }

  /** Makes every claimed record visible to the consumer, and wakes it if it sleeps. */
  publish(): void {
    this.publishTo(this.cursor);
  }

  /**
   * The claim cursor: where the next claimed record starts. A value read here marks "every record
   * claimed so far" for {@link publishTo}.
   */
  get claimed(): number {
    return this.cursor;
  }

  /** Bytes claimed and not published yet (0 when everything claimed is visible). */
  get unpublished(): number {
    return (this.cursor - this.published) | 0;
  }

  /**
   * Makes visible the records claimed before `position` — a value {@link claimed} had, not below
   * the last position published — and wakes the consumer if it sleeps; records claimed after it
   * stay invisible. Lets a producer hold back the tail of what it wrote (a shard keeps replies
   * until their epoch is durable) while claiming more behind it.
   */
  publishTo(position: number): void {
    const cursor = position | 0;
    if (cursor === this.published) return;
    this.published = cursor;
    Atomics.store(this.control, PRODUCER_CURSOR, cursor);
    const sleeping = Atomics.load(this.control, CONSUMER_SLEEPING);
    if (sleeping !== 0 && Atomics.compareExchange(this.control, CONSUMER_SLEEPING, sleeping, 0) === sleeping) {
      Atomics.notify(this.control, CONSUMER_SLEEPING);
    }
  }

  /** True when a record of `size` payload bytes fits now (re-reads the consumer cursor). */
  hasSpace(size: number): boolean {
    this.cachedConsumer = Atomics.load(this.control, CONSUMER_CURSOR);
    return this.bytesNeeded(size) <= this.capacity - ((this.cursor - this.cachedConsumer) | 0);
  }

  /**
   * Publishes pending claims, then waits until a record of `size` payload bytes fits: a bounded
   * spin, then Atomics.wait up to `timeoutMs`. Returns whether it fits: false means the consumer
   * did not free enough space in time. Blocks the thread. (A producer holding claims back with
   * `publishTo` must not call it: it publishes them.)
   */
  waitForSpace(size: number, timeoutMs: number, spins: number = DEFAULT_SPINS): boolean {
    this.publish();
    for (let i = 0; i <= spins; i++) if (this.hasSpace(size)) return true;
    const ticket = this.announceWait(size);
    if (!this.hasSpace(size)) Atomics.wait(this.control, PRODUCER_WAITING, ticket, timeoutMs);
    return this.endWait(size);
  }

  /**
   * `waitForSpace` for a thread that serves sockets: no spin, Atomics.waitAsync. Resolves to
   * whether a record of `size` payload bytes fits; claim it with `tryClaim` (it may have been
   * taken by other code on this thread meanwhile). One waiter at a time. Allocates a promise.
   */
  waitForSpaceAsync(size: number, timeoutMs: number): Promise<boolean> {
    this.publish();
    if (this.hasSpace(size)) return Promise.resolve(true);
    const ticket = this.announceWait(size);
    if (this.hasSpace(size)) return Promise.resolve(this.endWait(size));
    return waitCellAsync(this.control, PRODUCER_WAITING, ticket, timeoutMs).then(() => this.endWait(size));
  }

  /** Publishes pending claims and marks the ring closed; wakes a sleeping consumer. */
  close(): void {
    this.publish();
    Atomics.store(this.control, CLOSED, 1);
    Atomics.store(this.control, CONSUMER_SLEEPING, 0);
    Atomics.notify(this.control, CONSUMER_SLEEPING);
  }

  /** Cursor advance for a record of `size` payload bytes at the claim cursor, padding included. */
  private bytesNeeded(size: number): number {
    this.checkSize(size);
    const total = RingBuffer.recordBytes(size);
    const tail = this.capacity - (this.cursor & this.mask);
    return total <= tail ? total : tail + total;
  }

  private checkSize(size: number): void {
    if (!(size >= 0 && size <= this.maxRecordSize && (size | 0) === size)) {
      throw new RangeError(`record of ${size} bytes does not fit a ${this.capacity}-byte ring (at most ${this.maxRecordSize})`);
    }
  }

  /** Stores the consumer cursor that makes room for the record, then a fresh waiting ticket. */
  private announceWait(size: number): number {
    const target = (this.cursor + this.bytesNeeded(size) - this.capacity) | 0;
    this.ticket = nextTicket(this.ticket);
    Atomics.store(this.control, PRODUCER_TARGET, target);
    Atomics.store(this.control, PRODUCER_WAITING, this.ticket);
    return this.ticket;
  }

  private endWait(size: number): boolean {
    Atomics.store(this.control, PRODUCER_WAITING, 0);
    return this.hasSpace(size);
  }
}

/** The consuming end. Use from one thread only. */
export class RingConsumer extends RingBuffer {
  /** Payload length of the record `next()` returned last. */
  recordLength: number;
  /** Start of the next unread record. */
  private readPos: number;
  /** Producer cursor as loaded by `available()`: the end of the current batch. */
  private limit: number;
  /** The cursor value last stored for the producer. */
  private released: number;
  /** Ticket of the current (or last) sleep. */
  private ticket: number;

  constructor(buffers: RingBuffers) {
    super(buffers);
    this.recordLength = 0;
    this.readPos = Atomics.load(this.control, CONSUMER_CURSOR);
    this.limit = this.readPos;
    this.released = this.readPos;
    this.ticket = 0;
  }

  /** Starts a batch: loads the producer cursor once; returns the unread bytes in the batch (0 = empty). */
  available(): number {
    this.limit = Atomics.load(this.control, PRODUCER_CURSOR);
    return (this.limit - this.readPos) | 0;
  }

  /**
   * The payload offset (in `view`) of the next record of the current batch, its length in
   * `recordLength`; {@link NIL} at the end of the batch. The record stays valid until `release()`.
   */
  next(): number {
    let pos = this.readPos;
    if (pos === this.limit) return NIL;
    let index = pos & this.mask;
    let length = this.view.getInt32(this.base + index, true);
    if (length === PAD) {
      pos = (pos + this.capacity - index) | 0;
      if (pos === this.limit) throw new Error('ring corrupted: padding marker at the end of a batch');
      index = 0;
      length = this.view.getInt32(this.base, true);
    }
    if (length < 0 || length > this.maxRecordSize) throw new Error(`ring corrupted: record length ${length}`);
    this.recordLength = length;
    this.readPos = (pos + RingBuffer.recordBytes(length)) | 0;
    return this.base + index + RECORD_HEADER_BYTES;
  }

  /**
   * Ends a batch: gives back the space of every record `next()` returned (one Atomics.store),
   * and wakes the producer if it waits for that much space.
   */
  release(): void {
    const pos = this.readPos;
    if (pos === this.released) return;
    this.released = pos;
    Atomics.store(this.control, CONSUMER_CURSOR, pos);
    const waiting = Atomics.load(this.control, PRODUCER_WAITING);
    if (
      waiting !== 0 &&
      ((pos - Atomics.load(this.control, PRODUCER_TARGET)) | 0) >= 0 &&
      Atomics.compareExchange(this.control, PRODUCER_WAITING, waiting, 0) === waiting
    ) {
      Atomics.notify(this.control, PRODUCER_WAITING);
    }
  }

  /** Drains one batch through `handler`, then releases it; returns the number of records. */
  poll(handler: RecordHandler): number {
    if (this.available() === 0) return 0;
    let count = 0;
    for (let at = this.next(); at !== NIL; at = this.next()) {
      handler(this.view, at, this.recordLength);
      count++;
    }
    this.release();
    return count;
  }

  /** True when records are published beyond what this consumer has read. */
  hasData(): boolean {
    return Atomics.load(this.control, PRODUCER_CURSOR) !== this.readPos;
  }

  /** True when the producer closed the ring and every record was read. */
  isFinished(): boolean {
    return this.isClosed() && !this.hasData();
  }

  /**
   * Waits for records: a bounded spin, then Atomics.wait up to `timeoutMs` after announcing
   * sleep. Returns whether data is available: false on timeout or when the ring is closed.
   * Blocks the thread: for a dedicated worker (shard). Releases nothing.
   */
  waitForData(timeoutMs: number, spins: number = DEFAULT_SPINS): boolean {
    for (let i = 0; i <= spins; i++) if (this.hasData()) return true;
    const ticket = this.announceSleep();
    if (!this.hasData() && !this.isClosed()) Atomics.wait(this.control, CONSUMER_SLEEPING, ticket, timeoutMs);
    return this.endSleep();
  }

  /**
   * `waitForData` for a thread that serves sockets: no spin, Atomics.waitAsync, so the event loop
   * keeps running (and stays alive while the wait lasts, unless `keepAlive` is false: a caller
   * that waits again and again keeps the loop alive once instead of a timer per wait). Allocates
   * a promise (and a timer).
   */
  waitForDataAsync(timeoutMs: number, keepAlive = true): Promise<boolean> {
    if (this.hasData()) return Promise.resolve(true);
    const ticket = this.announceSleep();
    if (this.hasData() || this.isClosed()) return Promise.resolve(this.endSleep());
    return waitCellAsync(this.control, CONSUMER_SLEEPING, ticket, timeoutMs, keepAlive).then(() => this.endSleep());
  }

  private announceSleep(): number {
    this.ticket = nextTicket(this.ticket);
    Atomics.store(this.control, CONSUMER_SLEEPING, this.ticket);
    return this.ticket;
  }

  private endSleep(): boolean {
    Atomics.store(this.control, CONSUMER_SLEEPING, 0);
    return this.hasData();
  }
}
