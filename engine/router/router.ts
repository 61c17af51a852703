/**
 * The router: starts one worker per shard, assigns each market to a shard, writes commands into
 * the shards' rings and turns their replies back into results. Runs on the thread that serves
 * sockets, so it waits for replies with Atomics.waitAsync and never blocks.
 *
 * Read-only queries that shared memory answers safely do not travel: balances are read from the
 * shared balance table, depth from the shards' published depth board.
 *
 * Failure: a shard that throws or exits unexpectedly makes the engine stop accepting commands
 * (ENGINE_STOPPED) — running on with a shard in an unknown state is worse than stopping; every
 * pending request is answered ENGINE_STOPPED and listeners get the error.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../../conf/schema.js';
import { BalanceTable } from '../balance/table.js';
import { Code, type CodeValue } from '../codes.js';
import { ORDER_RECORD, readOrderRecord, type EventRecord } from '../core/events.js';
import { OrderView } from '../core/order-view.js';
import { MAX_SOURCES, MAX_LABEL_BYTES } from '../engine.js';
import { SharedIds } from '../ids.js';
import { buildSpecs, type Specs } from '../money/specs.js';
import type { Depth } from '../queries.js';
import { DepthBoard } from '../shard/depth-board.js';
import type { ShardStats } from '../shard/loop.js';
import type { ShardInit, ShardJournalInit, ShardMessage } from '../shard/types.js';
import { EpochControl } from '../journal/epochs.js';
import type { RecoveryReport } from '../journal/recover.js';
import { recoverShards } from './recovery.js';
import { LazyCopy } from '../journal/lazy-copy.js';
import { armBalancesCopy, balanceCopySpec, CopyBuffers, warmBalanceBuffers, type EngineCopy } from '../journal/snapshot-copy.js';
import { namesOf } from '../journal/snapshot-image.js';
import { writeSnapshotInBackground } from '../journal/snapshot-writer.js';
import { deleteSegmentsBefore } from '../journal/snapshot.js';
import { ReplyKind, REPLY_HEAD } from '../wire/commands.js';
import { NIL, RingBuffer, RingConsumer, RingProducer } from '../wire/ring.js';
import { assignShards, marketsOfShard } from './assignment.js';
import { CommandWriter } from './command-writer.js';
import { PendingTable } from './pending.js';
import { eventRecordBytes, readEvents, readReply, readRequestId, type CommandReply } from './replies.js';

export type { CommandReply } from './replies.js';
export type EventListener = (events: EventRecord[]) => void;
/**
 * Receives a batch's event records undecoded (core/events.ts layout), a view valid only during
 * the call; the strings that BALANCE records index are not included. For consumers that count,
 * scan or copy records: they cost the router's thread no decoding (nor garbage).
 */
export type EventRecordsListener = (records: Uint8Array) => void;
/**
 * The answer to a command sent with a callback (`submitLimit`, `submitMarket`, `submitCancel`).
 * One object, reused for every reply: valid only during the callback. `code` and `orderId` are
 * read from the reply record without decoding it; `decode()` builds the full CommandReply.
 */
export interface ReplyView {
  readonly code: CodeValue;
  /** Id of the order an OK place or cancel reports (its first order record), 0 when there is none. */
  readonly orderId: number;
  /**
   * The first order record (what an OK place or cancel reports) read into a view the reply view
   * owns and reuses: valid only during the callback, allocates nothing. Null when there is none.
   */
  order(): OrderView | null;
  decode(): CommandReply;
}
/** Called once with the answer. An exception it throws is reported as a warning (like an EventListener's). */
export type ReplyCallback = (reply: ReplyView) => void;

interface Shard {
  readonly index: number;
  readonly worker: Worker;
  readonly writer: CommandWriter;
  readonly replies: RingConsumer;
  /** Resolves when the worker posted 'stopped' or exited. */
  readonly exited: Promise<void>;
}

type Resolver = (reply: CommandReply) => void;

/** What router.snapshot() reports: where the file went, the epoch it holds, the pause and the background time. */
export interface SnapshotTaken {
  readonly path: string;
  readonly epoch: number;
  readonly pauseMs: number;
  readonly writeMs: number;
  readonly bytes: number;
  readonly deletedSegments: number;
}

const utf8 = new TextEncoder();
/** Balance copy-buffer bytes paged in per event-loop turn before a snapshot (256 pages: ~0.5 ms when faults are cheap). */
const WARM_STEP_BYTES = 1 << 20;
type WaitAsync = (cells: BigInt64Array, index: number, value: bigint, timeoutMs: number) =>
  { async: false; value: string } | { async: true; value: Promise<string> };
/** Atomics.waitAsync (typed here: the project's lib is ES2023). */
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
const stopped = (code: CodeValue): CommandReply => ({ code, total: 0, orders: [], summary: null });

class RingReplyView implements ReplyView {
  code: CodeValue = Code.OK;
  orderId = 0;
  private readonly firstOrder = new OrderView();
  private view: DataView | null = null;
  private at = 0;
  private length = 0;

  /** Points at a reply record in the ring. */
  set(view: DataView, at: number, length: number): this {
    this.view = view;
    this.at = at;
    this.length = length;
    this.code = view.getInt32(at + REPLY_HEAD.at.code, true) as CodeValue;
    this.orderId = view.getUint32(at + REPLY_HEAD.at.count, true) > 0 ? view.getFloat64(at + REPLY_HEAD.size + ORDER_RECORD.at.id, true) : 0;
    return this;
  }

  /** An answer that never came from a shard (the engine stopped). */
  none(code: CodeValue): this {
    this.view = null;
    this.code = code;
    this.orderId = 0;
    return this;
  }

  order(): OrderView | null {
    return this.orderId === 0 || this.view === null ? null : readOrderRecord(this.view, this.at + REPLY_HEAD.size, this.firstOrder);
  }

  decode(): CommandReply {
    return this.view === null ? stopped(this.code) : readReply(this.view, this.at, this.length);
  }
}

export class Router {
  readonly specs: Specs;
  readonly balances: BalanceTable;
  readonly depthBoard: DepthBoard;
  /** Shard of each market, by market index. */
  readonly shardOfMarket: readonly number[];
  private readonly shards: Shard[] = [];
  /** Commands sent through the promise API, by request id (a table, not a Map: see pending.ts). */
  private readonly waiting = new PendingTable<Resolver>();
  /** Commands sent with a callback (submit…), by request id. */
  private readonly callbacks = new PendingTable<ReplyCallback>();
  private readonly replyView = new RingReplyView();
  private readonly listeners: EventListener[] = [];
  private readonly recordListeners: EventRecordsListener[] = [];
  private readonly failureListeners: ((err: Error) => void)[] = [];
  private readonly sourceIds = new Map<string, number>();
  private readonly sourceTexts: Uint8Array[] = [];
  private readonly sourceNames: string[] = [];
  private nextRequest = 1;
  private state: 'running' | 'stopping' | 'stopped' | 'failed' = 'running';
  private failure: Error | null = null;
  /** Set once stop() finished: the reply pumps end (also after a failure, so the process can exit). */
  private closed = false;
  /**
   * The shared epoch cells, when a journal is configured. There is no committer: each shard
   * closes epochs, makes its batches durable and publishes DURABLE itself (journal/epochs.ts).
   */
  private epochs: EpochControl | null = null;
  /** Snapshot parts arriving from the shards, by generation. */
  private readonly snapshotParts = new Map<number, (shard: number, copy: EngineCopy) => void>();
  /** The snapshot being taken (one at a time), settled once its file is durable or it failed; stop() waits for it. */
  private snapshotRun: Promise<unknown> | null = null;
  /** Where snapshots copy the balance table, reused by every snapshot (one at a time). */
  private readonly snapshotBuffers = new CopyBuffers();
  /** The balance table's lazy snapshot copy (every thread's BalanceTable has one over the same memory); null without a journal. */
  private readonly balanceCopy: LazyCopy | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  /** Keeps the event loop alive while the reply pumps wait (one timer for the router's life, not one per wait). */
  private pumpKeepAlive: NodeJS.Timeout | null = null;
  /** What start-up recovered from the journal (null without a journal). */
  recovery: RecoveryReport | null = null;
  /** Each shard's batch-loop counters as its worker reported them on stopping (null until then). */
  private readonly shardStats: (ShardStats | null)[] = [];

  private constructor(readonly config: Readonly<Config>) {
    this.specs = buildSpecs(config);
    this.shardOfMarket = assignShards(config);
    this.balances = new BalanceTable(BalanceTable.allocate(config.engine.max_users, this.specs.assets.length));
    this.depthBoard = new DepthBoard(DepthBoard.allocate(this.specs.markets.length, config.engine.depth_levels));
    if (config.journal.dir !== null) {
      // Before recovery allocates and frees (see reserveEngineBuffers).
      this.balanceCopy = new LazyCopy(balanceCopySpec(this.balances, this.snapshotBuffers));
      this.balances.lazyCopy = this.balanceCopy;
    }
    this.internSource('');
  }

  /**
   * Starts the shards and resolves once every one is ready. With `journal.dir` set, the state of
   * the last run is recovered first, and every command is journaled and made durable (epoch group
   * commit, one fdatasync per shard batch) before its reply is released.
   */
  static async start(config: Readonly<Config>, options: { readonly log?: (line: string) => void } = {}): Promise<Router> {
    const router = new Router(config);
    const ids = SharedIds.allocate(2);
    const ready: Promise<void>[] = [];
    const dir = config.journal.dir;
    let journal: ((shard: number) => ShardJournalInit) | null = null;
    if (dir !== null) {
      const recovered = recoverShards(config, dir, router.balances, ids, router.shardOfMarket, options.log);
      router.recovery = recovered.report;
      for (const image of recovered.images) router.restoreSources(image.sources);
      const control = EpochControl.allocate(config.engine.shards, recovered.firstEpoch);
      router.epochs = new EpochControl(control);
      if (config.journal.snapshot_interval_s > 0) {
        router.snapshotTimer = setInterval(() => {
          router.snapshot().catch((err: unknown) => options.log?.(`periodic snapshot failed: ${String(err)}`));
        }, config.journal.snapshot_interval_s * 1000).unref();
      }
      journal = (shard) => ({
        dir, control, durability: config.journal.durability, segmentBytes: config.journal.segment_bytes,
        firstEpoch: recovered.firstEpoch, recovered: recovered.images[shard] ?? null,
      });
    }
    for (let index = 0; index < config.engine.shards; index++) {
      const commands = RingBuffer.allocate(config.engine.ring_bytes);
      const replies = RingBuffer.allocate(config.engine.ring_bytes);
      const init: ShardInit = {
        shard: index, config, ids, commands, replies,
        markets: marketsOfShard(router.shardOfMarket, index),
        balances: router.balances.buffers,
        balanceCopy: router.balanceCopy?.spec ?? null,
        depth: router.depthBoard.buffers,
        journal: journal === null ? null : journal(index),
      };
      const worker = new Worker(new URL('../shard/worker.js', import.meta.url), { workerData: init });
      let markReady: () => void = () => undefined;
      ready.push(new Promise<void>((resolve, reject) => {
        markReady = resolve;
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`shard ${index} exited with code ${code} before it was ready`)));
      }));
      let markExited: () => void = () => undefined;
      const exited = new Promise<void>((resolve) => (markExited = resolve));
      worker.on('message', (message: ShardMessage) => {
        if (message.type === 'ready') markReady();
        if (message.type === 'stopped') {
          router.shardStats[index] = { ...message.stats };
          markExited();
        }
        if (message.type === 'snapshot') router.snapshotParts.get(message.generation)?.(message.shard, message.copy);
      });
      worker.on('error', (err) => router.fail(err));
      worker.on('exit', (code) => {
        markExited();
        // While stop() drains, an exit with requests still unanswered is a failure too (they never will be).
        if (router.state === 'running' || router.unanswered > 0) router.fail(new Error(`shard ${index} exited with code ${code}`));
      });
      const shard: Shard = { index, worker, writer: new CommandWriter(new RingProducer(commands), true /* one publish per task */), replies: new RingConsumer(replies), exited };
      router.shards.push(shard);
      router.pump(shard);
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      router.state = 'stopped'; // so that the other workers' exits are not reported as failures
      await Promise.all(router.shards.map((s) => s.worker.terminate()));
      throw err;
    }
    return router;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Why the engine stopped accepting commands, when a shard failed. */
  get error(): Error | null {
    return this.failure;
  }

  /** Listeners receive each batch's events (deals, order events, balance updates) in order per shard. */
  onEvents(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** Like onEvents, with each batch's event records undecoded (see EventRecordsListener). */
  onEventRecords(listener: EventRecordsListener): void {
    this.recordListeners.push(listener);
  }

  /** Called once if a shard fails (the engine has then stopped accepting commands). */
  onFailure(listener: (err: Error) => void): void {
    this.failureListeners.push(listener);
  }

  /** Id of a source label shared by all shards; -1 when invalid or too many. */
  internSource(source: string): number {
    const known = this.sourceIds.get(source);
    if (known !== undefined) return known;
    const text = utf8.encode(source);
    if (text.length > MAX_LABEL_BYTES || this.sourceTexts.length >= MAX_SOURCES) return -1;
    const id = this.sourceTexts.push(text) - 1;
    this.sourceNames.push(source);
    this.sourceIds.set(source, id);
    return id;
  }

  sourceName(id: number): string {
    return this.sourceNames[id] ?? '';
  }

  /** Takes back the labels a recovered run had interned, under the same ids (orders keep their source). */
  private restoreSources(labels: readonly string[]): void {
    labels.forEach((label, id) => {
      if (label === '' || this.sourceIds.has(label)) return;
      while (this.sourceNames.length <= id) {
        this.sourceNames.push('');
        this.sourceTexts.push(new Uint8Array(0));
      }
      this.sourceNames[id] = label;
      this.sourceTexts[id] = utf8.encode(label);
      this.sourceIds.set(label, id);
    });
  }

  placeLimit(
    user: number, market: number, side: number, amount: number, price: number,
    takerFee: number, makerFee: number, source: string, time: number,
  ): Promise<CommandReply> {
    const shard = this.shardFor(market);
    if (shard === null) return Promise.resolve(stopped(this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED));
    const sourceId = this.internSource(source);
    if (sourceId < 0) return Promise.resolve(stopped(Code.INVALID_SOURCE));
    return this.send((request) =>
      shard.writer.placeLimit(request, time, user, market, side, amount, price, takerFee, makerFee, sourceId, this.sourceTexts[sourceId]!),
    );
  }

  placeMarket(user: number, market: number, side: number, amount: number, takerFee: number, source: string, time: number): Promise<CommandReply> {
    const shard = this.shardFor(market);
    if (shard === null) return Promise.resolve(stopped(this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED));
    const sourceId = this.internSource(source);
    if (sourceId < 0) return Promise.resolve(stopped(Code.INVALID_SOURCE));
    return this.send((request) =>
      shard.writer.placeMarket(request, time, user, market, side, amount, takerFee, sourceId, this.sourceTexts[sourceId]!),
    );
  }

  cancel(user: number, market: number, orderId: number, time: number): Promise<CommandReply> {
    const shard = this.shardFor(market);
    if (shard === null) return Promise.resolve(stopped(this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED));
    return this.send((request) => shard.writer.cancel(request, time, user, market, orderId));
  }

  /**
   * Lower-overhead forms of placeLimit / placeMarket / cancel for callers that send many commands
   * (benchmarks, gateways): no promise and no decoded reply per command. They return Code.OK when
   * the command was sent — `done` is then called exactly once, with the reply or ENGINE_STOPPED —
   * or why it was not (BUSY, ENGINE_STOPPED, UNKNOWN_MARKET, INVALID_SOURCE), and then `done` is
   * never called. `done` runs inside the reply drain, so before the event listeners get the events
   * of the same shard batch (a promise's continuation runs after the drain, once they have).
   */
  submitLimit(
    done: ReplyCallback, user: number, market: number, side: number, amount: number, price: number,
    takerFee: number, makerFee: number, source: string, time: number,
  ): CodeValue {
    const shard = this.shardFor(market);
    if (shard === null) return this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED;
    const sourceId = this.internSource(source);
    if (sourceId < 0) return Code.INVALID_SOURCE;
    const request = this.nextRequest++;
    if (!shard.writer.placeLimit(request, time, user, market, side, amount, price, takerFee, makerFee, sourceId, this.sourceTexts[sourceId]!)) return Code.BUSY;
    this.callbacks.set(request, done);
    return Code.OK;
  }

  submitMarket(done: ReplyCallback, user: number, market: number, side: number, amount: number, takerFee: number, source: string, time: number): CodeValue {
    const shard = this.shardFor(market);
    if (shard === null) return this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED;
    const sourceId = this.internSource(source);
    if (sourceId < 0) return Code.INVALID_SOURCE;
    const request = this.nextRequest++;
    if (!shard.writer.placeMarket(request, time, user, market, side, amount, takerFee, sourceId, this.sourceTexts[sourceId]!)) return Code.BUSY;
    this.callbacks.set(request, done);
    return Code.OK;
  }

  submitCancel(done: ReplyCallback, user: number, market: number, orderId: number, time: number): CodeValue {
    const shard = this.shardFor(market);
    if (shard === null) return this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED;
    const request = this.nextRequest++;
    if (!shard.writer.cancel(request, time, user, market, orderId)) return Code.BUSY;
    this.callbacks.set(request, done);
    return Code.OK;
  }

  /**
   * balance.update goes to the shard chosen by the user id, so that one shard sees every update
   * of a user and its idempotency keys.
   */
  updateBalance(user: number, asset: number, business: string, businessId: number, change: bigint, detail: string, time: number): Promise<CommandReply> {
    if (!this.running) return Promise.resolve(stopped(Code.ENGINE_STOPPED));
    const shard = this.shards[(user >>> 0) % this.shards.length]!;
    if (!shard.writer.fitsBalanceUpdate(business, detail)) return Promise.resolve(stopped(Code.INVALID_ARGUMENT));
    return this.send((request) => shard.writer.balanceUpdate(request, time, user, asset, business, businessId, change, detail));
  }

  /** A user's pending orders in one market, newest first. */
  pending(user: number, market: number, offset: number, limit: number): Promise<CommandReply> {
    const shard = this.shardFor(market);
    if (shard === null) return Promise.resolve(stopped(this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED));
    return this.send((request) => shard.writer.queryPending(request, user, market, offset, limit));
  }

  /** A user's pending orders across several markets (gathered from their shards), newest first. */
  async pendingAcross(user: number, markets: readonly number[], offset: number, limit: number): Promise<CommandReply> {
    const pages = await Promise.all(markets.map((m) => this.pending(user, m, 0, offset + limit)));
    const failed = pages.find((p) => p.code !== Code.OK);
    if (failed !== undefined) return failed;
    // Newest first by creation time: ids come from per-shard blocks, so across shards they do not follow time.
    const all = pages.flatMap((p) => p.orders).sort((a, b) => b.ctime - a.ctime || b.id - a.id);
    return { code: Code.OK, total: pages.reduce((n, p) => n + p.total, 0), orders: all.slice(offset, offset + limit), summary: null };
  }

  /** A pending order, or ORDER_NOT_FOUND. */
  order(market: number, orderId: number): Promise<CommandReply> {
    const shard = this.shardFor(market);
    if (shard === null) return Promise.resolve(stopped(this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED));
    return this.send((request) => shard.writer.queryOrder(request, market, orderId));
  }

  book(market: number, side: number, offset: number, limit: number): Promise<CommandReply> {
    const shard = this.shardFor(market);
    if (shard === null) return Promise.resolve(stopped(this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED));
    return this.send((request) => shard.writer.queryBook(request, market, side, offset, limit));
  }

  summary(market: number): Promise<CommandReply> {
    const shard = this.shardFor(market);
    if (shard === null) return Promise.resolve(stopped(this.running ? Code.UNKNOWN_MARKET : Code.ENGINE_STOPPED));
    return this.send((request) => shard.writer.querySummary(request, market));
  }

  /**
   * Depth from the shared depth board (no round trip). Null when the published levels cannot
   * prove a merged answer complete; the board holds `engine.depth_levels` levels per side.
   */
  depth(market: number, limit: number, interval: number): Depth | null {
    if (!this.running || market < 0 || market >= this.specs.markets.length) return null;
    return this.depthBoard.read(market, limit, interval);
  }

  /** Depth from the board, or from the shard when the board cannot prove the merged answer complete. */
  fullDepth(market: number, limit: number, interval: number): Depth | Promise<Depth> {
    const fromBoard = this.depth(market, limit, interval);
    if (fromBoard !== null) return fromBoard;
    const shard = this.shardFor(market);
    if (shard === null) return { asks: [], bids: [] };
    return this.send((request) => shard.writer.queryDepth(request, market, limit, interval)).then((r) => r.depth ?? { asks: [], bids: [] });
  }

  /**
   * Takes a snapshot now (also what a periodic snapshot does): every shard pauses between two
   * batches and arms lazy copies of its books' typed arrays, the balance table's copy is armed
   * while all are paused, then they resume (journal/snapshot-copy.ts, lazy-copy.ts: O(chunks +
   * price levels), no memcpy in the pause). A worker thread of its own then copies every chunk
   * the shards' guards have not copied yet, orders the books, encodes and writes the file (temp
   * file, fdatasync, rename: journal/snapshot-writer.ts) while matching goes on, and journal
   * segments it makes unnecessary are deleted. Recovery then starts from it. Returns where it went,
   * how long the shards were paused (`pauseMs`: from the request until the balance table's copy was
   * armed and every shard's part had arrived, an upper bound) and how long the background part
   * took (`writeMs`: from then until the file was durable).
   */
  async snapshot(): Promise<SnapshotTaken> {
    const epochs = this.epochs;
    const dir = this.config.journal.dir;
    const balanceCopy = this.balanceCopy;
    if (epochs === null || dir === null || balanceCopy === null) throw new Error('snapshots need a journal (journal.dir)');
    if (!this.running) throw new Error('the engine is not running');
    if (this.snapshotRun !== null) throw new Error('a snapshot is already being taken');
    const run = this.takeSnapshot(epochs, dir, balanceCopy);
    this.snapshotRun = run;
    try {
      return await run;
    } finally {
      this.snapshotRun = null;
    }
  }

  private async takeSnapshot(epochs: EpochControl, dir: string, balanceCopy: LazyCopy): Promise<SnapshotTaken> {
    // Page in the balance table's copy buffers first (in steps: sockets keep being served), so
    // the copy in the pause takes no page faults.
    while (!warmBalanceBuffers(this.balances, this.snapshotBuffers, WARM_STEP_BYTES)) await new Promise((resolve) => setImmediate(resolve));
    // eslint-disable-next-line no-restricted-properties -- control plane: measures the pause for operators; no state depends on it
    const started = performance.now();
    const parts: EngineCopy[] = [];
    let received = 0;
    const generation = epochs.requestSnapshot();
    const copied = new Promise<void>((resolve) => {
      this.snapshotParts.set(generation, (shard, copy) => {
        parts[shard] = copy;
        if (++received === this.shards.length) resolve();
      });
    });
    for (const shard of this.shards) shard.writer.wake();
    // Every shard counts itself paused before arming its books' copies: the table is still meanwhile.
    await this.allPaused(epochs);
    const epoch = epochs.durable; // every shard is between batches: its frames synced, its epochs closed and published
    const balances = armBalancesCopy(this.balances, balanceCopy, this.snapshotBuffers);
    epochs.resume(generation); // a shard still arming goes on as soon as it is done
    await copied;
    this.snapshotParts.delete(generation);
    // eslint-disable-next-line no-restricted-properties -- as above
    const resumed = performance.now();
    const written = await writeSnapshotInBackground({ dir, epoch, names: namesOf(this.specs), balances, parts, pending: [balanceCopy.spec] });
    // eslint-disable-next-line no-restricted-properties -- as above
    const writeMs = performance.now() - resumed;
    const deletedSegments = deleteSegmentsBefore(dir, epoch).length;
    return { path: written.path, epoch, pauseMs: resumed - started, writeMs, bytes: written.bytes, deletedSegments };
  }

  /** Resolves once every shard counts itself paused for the requested snapshot (Atomics.waitAsync: sockets keep being served). */
  private async allPaused(epochs: EpochControl): Promise<void> {
    const shards = BigInt(this.shards.length);
    for (;;) {
      const paused = Atomics.load(epochs.cells, EpochControl.PAUSED_INDEX);
      if (paused >= shards) return;
      if (this.state === 'failed') throw this.failure ?? new Error('the engine failed during a snapshot');
      const waited = waitAsync(epochs.cells, EpochControl.PAUSED_INDEX, paused, 50);
      if (waited.async) await waited.value;
    }
  }

  /**
   * Stops accepting commands, waits for every pending reply, closes the rings (each shard drains
   * and exits) and waits for the workers. Resolves with each shard's batch-loop counters
   * (`ShardLoop.stats`: batches and commands over the router's life, by shard index; null for a
   * shard that exited without reporting them), e.g. for the average batch size in benchmarks.
   */
  async stop(): Promise<(ShardStats | null)[]> {
    if (this.state === 'stopped') return this.stoppedStats();
    if (this.state === 'running') this.state = 'stopping';
    if (this.snapshotTimer !== null) clearInterval(this.snapshotTimer);
    while (this.unanswered > 0 && this.state === 'stopping') await new Promise((r) => setTimeout(r, 1));
    // A snapshot under way finishes first (its pause needs the shards running; its file would
    // otherwise be left half written as a .tmp): a failure of it was already reported to its caller.
    await this.snapshotRun?.catch(() => undefined);
    for (const shard of this.shards) shard.writer.close();
    await Promise.all(this.shards.map((s) => Promise.race([s.exited, new Promise((r) => setTimeout(r, 5000).unref())]))); // unref: the timer must not keep the process alive after stop
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
    this.closed = true;
    for (const shard of this.shards) shard.replies.wake(); // ends the reply pumps' waits
    if (this.pumpKeepAlive !== null) clearInterval(this.pumpKeepAlive);
    this.pumpKeepAlive = null;
    this.state = this.state === 'failed' ? 'failed' : 'stopped';
    return this.stoppedStats();
  }

  private stoppedStats(): (ShardStats | null)[] {
    return this.shards.map((s) => this.shardStats[s.index] ?? null);
  }

  /**
   * Test hook for failure tests only: terminates shard `index`'s worker as a crash would, so that
   * tests can check how the router fails. Nothing in the engine calls it.
   */
  terminateShardForTest(index: number): Promise<number> {
    const shard = this.shards[index];
    return shard === undefined ? Promise.resolve(-1) : shard.worker.terminate();
  }

  /** Commands sent and not answered yet (promises and callbacks). */
  private get unanswered(): number {
    return this.waiting.size + this.callbacks.size;
  }

  private shardFor(market: number): Shard | null {
    if (!this.running) return null;
    const index = this.shardOfMarket[market];
    return index === undefined ? null : this.shards[index] ?? null;
  }

  /** Writes one command (via `write`, given the request id) and resolves with its reply; BUSY when the ring is full. */
  private send(write: (request: number) => boolean): Promise<CommandReply> {
    if (!this.running) return Promise.resolve(stopped(Code.ENGINE_STOPPED));
    const request = this.nextRequest++;
    if (!write(request)) return Promise.resolve(stopped(Code.BUSY));
    return new Promise<CommandReply>((resolve) => this.waiting.set(request, resolve));
  }

  /** Waits for replies on one shard's ring for as long as the router lives. */
  private pump(shard: Shard): void {
    this.pumpKeepAlive ??= setInterval(() => undefined, 2 ** 31 - 1);
    const wait = (): void => {
      if (this.closed) return;
      // No timeout: stop() wakes the wait. (Tens of thousands of abandoned 1 s timeouts expiring
      // together stalled the event loop for seconds under load.) No timer per wait either: a wait
      // per reply drain, each setting and clearing an interval, cost the thread two native calls
      // and garbage per drain; pumpKeepAlive keeps the loop alive until stop().
      void shard.replies.waitForDataAsync(Infinity, false).then(() => {
        this.drain(shard);
        if (shard.replies.hasData()) setImmediate(wait); // let sockets breathe between bursts
        else wait();
      });
    };
    wait();
  }

  private drain(shard: Shard): void {
    const ring = shard.replies;
    if (ring.available() === 0) return;
    for (let at = ring.next(); at !== NIL; at = ring.next()) {
      const v = ring.view;
      if (v.getUint8(at + REPLY_HEAD.at.kind) === ReplyKind.EVENTS) {
        if (this.recordListeners.length > 0) {
          const records = eventRecordBytes(v, at);
          for (const listener of this.recordListeners) call(listener, records, 'EventListenerError');
        }
        // Decoded only when someone listens, and once for all listeners.
        if (this.listeners.length === 0) continue;
        const events = readEvents(v, at);
        for (const listener of this.listeners) call(listener, events, 'EventListenerError');
        continue;
      }
      const request = readRequestId(v, at);
      const resolve = this.waiting.size === 0 ? undefined : this.waiting.take(request);
      if (resolve !== undefined) {
        resolve(readReply(v, at, ring.recordLength));
        continue;
      }
      const done = this.callbacks.take(request);
      if (done === undefined) continue;
      const reply = this.replyView.set(v, at, ring.recordLength);
      call(done, reply, 'ReplyCallbackError');
    }
    ring.release();
  }

  private fail(err: Error): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.state = 'failed';
    this.failure = err;
    for (const resolve of this.waiting.takeAll()) resolve(stopped(Code.ENGINE_STOPPED));
    const callbacks = this.callbacks.takeAll();
    for (const done of callbacks) call(done, this.replyView.none(Code.ENGINE_STOPPED), 'ReplyCallbackError');
    for (const listener of this.failureListeners) listener(err);
  }
}

/** Calls a consumer's callback; its exception must not stop replies from flowing: it is reported, not fatal. */
function call<T>(callback: (arg: T) => void, arg: T, type: string): void {
  try {
    callback(arg);
  } catch (err) {
    process.emitWarning(err instanceof Error ? err : new Error(String(err)), type);
  }
}
