/**
 * The gateway's shared state: the open connections, the subscriptions of every kind, the
 * authenticator, and what a connection's life changes in them (open, authenticate, close).
 */
import type { Logger } from 'pino';
import type { WsConfig } from '../../conf/schema.js';
import type { EventRecord } from '../../engine/core/events.js';
import type { EngineClient } from '../engine-client.js';
import { Authenticator } from './auth.js';
import type { Callout } from './auth-callout.js';
import { DepthFeeds } from './depth-feed.js';
import { DepthRules } from './depth-params.js';
import { sendReady } from './dispatch.js';
import { pushEvents } from './pushes.js';
import { FlushQueue } from './replies.js';
import { Session, type Socket } from './session.js';
import { UserSubscriptions } from './subscriptions.js';

export interface HubOptions {
  readonly client: EngineClient;
  readonly ws: Readonly<WsConfig>;
  readonly logger: Logger;
  /** Wall clock in ms (tests may move it). */
  readonly clock: () => number;
  /** The auth callout (tests may replace the HTTP one). */
  readonly callout?: Callout;
}

export interface HubStats {
  readonly connections: number;
  readonly orderSubscribers: number;
  readonly assetSubscribers: number;
  readonly depthFeeds: number;
  /** Connections closed because they did not read their pushes. */
  readonly slowClosed: number;
}

export class Hub {
  readonly client: EngineClient;
  readonly ws: Readonly<WsConfig>;
  readonly log: Logger;
  readonly clock: () => number;
  readonly sessions = new Set<Session>();
  readonly orders = new UserSubscriptions();
  readonly assets = new UserSubscriptions();
  readonly depth: DepthFeeds;
  readonly depthRules: DepthRules;
  readonly auth: Authenticator;
  /** Connections whose next answers are complete, sent (corked) once the current reply drain is over. */
  readonly flushes = new FlushQueue((session) => session.cork(() => sendReady(this, session)));
  private nextSession = 1;
  private slowClosed = 0;
  private stopped = false;
  private listening = false;

  constructor(options: HubOptions) {
    this.client = options.client;
    this.ws = options.ws;
    this.log = options.logger;
    this.clock = options.clock;
    this.depthRules = new DepthRules(options.ws.depth_limits, options.ws.depth_merge);
    this.auth = new Authenticator(options.ws.auth, options.clock, options.callout);
    this.depth = new DepthFeeds({
      backend: options.client.backend,
      intervalMs: options.ws.depth_interval_ms,
      clock: options.clock,
      onError: (err) => this.log.error({ err }, 'depth read failed'),
    });
  }

  /** A connection opened. */
  open(socket: Socket): Session {
    const session = new Session(this.nextSession++, socket, {
      maxBackpressure: this.ws.max_backpressure_bytes,
      maxRequestsPerSecond: this.ws.max_requests_per_second,
    }, this.clock());
    this.sessions.add(session);
    return session;
  }

  /** A connection closed, by either side: forget everything it subscribed to. */
  closed(session: Session): void {
    if (!this.sessions.delete(session)) return;
    session.closed = true;
    if (session.closeReason === 'slow reader') {
      this.slowClosed++;
      this.log.warn({ session: session.id, user: session.user }, 'WebSocket client disconnected: it did not read its pushes');
    }
    this.orders.drop(session);
    this.assets.drop(session);
    this.depth.unsubscribe(session);
  }

  /** server.auth / server.sign succeeded. Another user's order and asset subscriptions are dropped first. */
  authenticate(session: Session, user: number, source: string): void {
    if (session.user !== user) {
      this.orders.drop(session);
      this.assets.drop(session);
    }
    session.user = user;
    session.source = source;
  }

  /**
   * Starts following the engine's events; called by the first order, asset or depth subscription.
   * Until then nobody needs pushes, and the engine's events are not decoded for this gateway
   * (decoding every batch costs the thread that serves sockets several percent under load).
   */
  listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.client.onEvents((records) => this.onEvents(records));
  }

  /** One batch of engine events, after the command that caused them was answered. */
  onEvents(records: readonly EventRecord[]): void {
    if (this.stopped || this.sessions.size === 0) return;
    try {
      pushEvents(this, records);
    } catch (err) {
      this.log.error({ err }, 'WebSocket pushes failed');
    }
  }

  get backend(): EngineClient['backend'] {
    return this.client.backend;
  }

  stats(): HubStats {
    return {
      connections: this.sessions.size,
      orderSubscribers: this.orders.size,
      assetSubscribers: this.assets.size,
      depthFeeds: this.depth.size,
      slowClosed: this.slowClosed,
    };
  }

  /** Stops pushing and closes every connection. */
  stop(): void {
    this.stopped = true;
    this.depth.stop();
    for (const session of [...this.sessions]) session.close('server stopping');
    // uWS calls `closed` for each; a socket that was already gone is forgotten here.
    for (const session of [...this.sessions]) this.closed(session);
  }
}
