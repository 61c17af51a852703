/**
 * depth.update: one feed per (market, limit, interval) with subscribers. A feed reads the book when
 * engine events say the market changed (no polling), at most once per ws.depth_interval_ms, and
 * pushes the original's diff to the subscribers that hold its last snapshot (a full snapshot every
 * 60 s). A new subscriber gets the feed's last snapshot at once (clean = true), so that the next
 * diff applies to what it holds; a feed's first snapshot is read right away.
 */
import type { Depth, DepthLevel } from '../../engine/queries.js';
import type { MarketSpec } from '../../engine/money/specs.js';
import type { EngineBackend } from '../rpc/backend.js';
import { amountText, priceText } from '../rpc/format.js';
import { nextPush, type DepthDiff } from './depth-diff.js';
import type { DepthRequest } from './depth-params.js';
import { pushText } from './envelope.js';
import type { Session } from './session.js';

export class DepthFeed {
  /** Subscribers that hold `last`. */
  readonly synced = new Set<Session>();
  /** Subscribers still waiting for their first snapshot (while the book is being read). */
  readonly waiting = new Set<Session>();
  /** The snapshot every synced subscriber holds. */
  last: Depth | null = null;
  /** When the last full snapshot went to the synced subscribers (ms). */
  lastClean = 0;
  /** When the book was last read (ms). */
  lastRead = -Infinity;
  /** The book changed since it was last read. */
  dirty = false;
  /** A read is under way (behind shards it is a promise). */
  reading = false;
  timer: NodeJS.Timeout | null = null;

  constructor(readonly key: string, readonly market: MarketSpec, readonly limit: number, readonly interval: number) {}

  get subscribers(): number {
    return this.synced.size + this.waiting.size;
  }
}

export interface DepthFeedsOptions {
  readonly backend: EngineBackend;
  /** Least time between two reads of one feed (ms). */
  readonly intervalMs: number;
  readonly clock: () => number;
  readonly onError: (err: unknown) => void;
}

export class DepthFeeds {
  private readonly feeds = new Map<string, DepthFeed>();
  private readonly byMarket = new Map<number, Set<DepthFeed>>();
  private stopped = false;

  constructor(private readonly options: DepthFeedsOptions) {}

  /** Feeds with subscribers. */
  get size(): number {
    return this.feeds.size;
  }

  /** Replaces the session's depth subscription. The snapshot is sent now or when the first read ends. */
  subscribe(session: Session, request: DepthRequest): void {
    this.unsubscribe(session);
    const key = `${request.market.index}:${request.limit}:${request.interval}`;
    let feed = this.feeds.get(key);
    if (feed === undefined) {
      feed = new DepthFeed(key, request.market, request.limit, request.interval);
      this.feeds.set(key, feed);
      let ofMarket = this.byMarket.get(request.market.index);
      if (ofMarket === undefined) {
        ofMarket = new Set();
        this.byMarket.set(request.market.index, ofMarket);
      }
      ofMarket.add(feed);
    }
    session.depth = feed;
    if (feed.last !== null && !feed.reading) {
      feed.synced.add(session);
      session.send(snapshotText(feed, feed.last));
      return;
    }
    feed.waiting.add(session);
    if (!feed.reading) this.read(feed);
  }

  unsubscribe(session: Session): void {
    const feed = session.depth;
    if (feed === null) return;
    session.depth = null;
    feed.synced.delete(session);
    feed.waiting.delete(session);
    if (feed.subscribers === 0) this.remove(feed);
  }

  /** Engine events touched the book of `market`. */
  bookChanged(market: number): void {
    const feeds = this.byMarket.get(market);
    if (feeds === undefined) return;
    for (const feed of feeds) {
      feed.dirty = true;
      this.schedule(feed);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const feed of this.feeds.values()) this.clearTimer(feed);
  }

  private remove(feed: DepthFeed): void {
    this.clearTimer(feed);
    this.feeds.delete(feed.key);
    const ofMarket = this.byMarket.get(feed.market.index);
    ofMarket?.delete(feed);
    if (ofMarket?.size === 0) this.byMarket.delete(feed.market.index);
  }

  private live(feed: DepthFeed): boolean {
    return !this.stopped && this.feeds.get(feed.key) === feed;
  }

  private clearTimer(feed: DepthFeed): void {
    if (feed.timer !== null) clearTimeout(feed.timer);
    feed.timer = null;
  }

  private schedule(feed: DepthFeed): void {
    if (feed.timer !== null || feed.reading || !this.live(feed)) return;
    const delay = Math.max(0, feed.lastRead + this.options.intervalMs - this.options.clock());
    feed.timer = setTimeout(() => {
      feed.timer = null;
      if (this.live(feed)) this.read(feed);
    }, delay);
  }

  private read(feed: DepthFeed): void {
    feed.reading = true;
    feed.dirty = false;
    feed.lastRead = this.options.clock();
    const fail = (err: unknown): void => {
      feed.reading = false;
      this.options.onError(err);
    };
    try {
      const depth = this.options.backend.fullDepth(feed.market.index, feed.limit, feed.interval);
      if (depth instanceof Promise) depth.then((d) => this.apply(feed, d), fail);
      else this.apply(feed, depth);
    } catch (err) {
      fail(err);
    }
  }

  /** A read finished: diff to the synced subscribers, the snapshot to the waiting ones. */
  private apply(feed: DepthFeed, depth: Depth): void {
    feed.reading = false;
    if (!this.live(feed)) return;
    const now = this.options.clock();
    if (feed.last === null) {
      feed.last = depth;
      feed.lastClean = now;
    } else {
      const push = nextPush(feed.last, depth, feed.limit, feed.lastClean, now);
      if (push !== null) {
        feed.last = depth;
        if (push.clean) feed.lastClean = now;
        const text = push.clean ? snapshotText(feed, depth) : diffText(feed, push.diff);
        for (const session of feed.synced) session.send(text);
      }
    }
    if (feed.waiting.size > 0) {
      const text = snapshotText(feed, feed.last);
      const waiting = [...feed.waiting];
      feed.waiting.clear();
      for (const session of waiting) {
        feed.synced.add(session);
        session.send(text);
      }
    }
    if (feed.dirty) this.schedule(feed);
  }
}

function levelsJson(market: MarketSpec, levels: readonly DepthLevel[]): [string, string][] {
  return levels.map((l) => [priceText(market, l.price), amountText(market, l.amount)]);
}

function snapshotText(feed: DepthFeed, depth: Depth): string {
  return pushText('depth.update', [true, { asks: levelsJson(feed.market, depth.asks), bids: levelsJson(feed.market, depth.bids) }, feed.market.name]);
}

function diffText(feed: DepthFeed, diff: DepthDiff): string {
  const changes: { asks?: [string, string][]; bids?: [string, string][] } = {};
  if (diff.asks !== undefined) changes.asks = levelsJson(feed.market, diff.asks);
  if (diff.bids !== undefined) changes.bids = levelsJson(feed.market, diff.bids);
  return pushText('depth.update', [false, changes, feed.market.name]);
}
