/**
 * One WebSocket connection: who it is authenticated as, its depth subscription, its limits, and the
 * one way to send to it. A client that does not read is dropped as soon as the bytes waiting for it
 * pass `maxBackpressure` (uWS also refuses to buffer past that), so memory per connection is bounded.
 * Order and asset subscriptions live in UserSubscriptions, keyed by this session.
 */
import type { DepthFeed } from './depth-feed.js';
import { RateWindow } from './limits.js';

/** What a session needs from its socket (uWS's WebSocket has this shape). */
export interface Socket {
  /** 0 = buffered (back-pressure), 1 = sent, 2 = dropped because of back-pressure. */
  send(message: string): number;
  getBufferedAmount(): number;
  /** Closes at once, no close frame. */
  close(): void;
  /** Sends a close frame with a code and a reason, then closes. */
  end(code?: number, reason?: string): void;
}

export const SEND_DROPPED = 2;

export interface SessionLimits {
  readonly maxBackpressure: number;
  readonly maxRequestsPerSecond: number;
}

export class Session {
  /** The authenticated user; 0 before server.auth / server.sign succeeded. */
  user = 0;
  /** The label given to server.auth ("api" after server.sign); kept, unused, as in the original. */
  source = '';
  /** The one depth subscription of this connection. */
  depth: DepthFeed | null = null;
  /** When the client last sent a frame (ms). */
  lastActivity: number;
  /** Set once the socket is closed: nothing may be sent any more. */
  closed = false;
  /** Why the server closed it, for the log ('' when the client did). */
  closeReason = '';
  readonly rate: RateWindow;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly limits: SessionLimits,
    now: number,
  ) {
    this.lastActivity = now;
    this.rate = new RateWindow(limits.maxRequestsPerSecond);
  }

  get authenticated(): boolean {
    return this.user !== 0;
  }

  /**
   * Sends one text message. Closes the connection instead when the client is too far behind.
   * Returns false when nothing was sent (closed now or before).
   */
  send(text: string): boolean {
    if (this.closed) return false;
    const status = this.socket.send(text);
    if (status === SEND_DROPPED || this.socket.getBufferedAmount() > this.limits.maxBackpressure) {
      this.close('slow reader');
      return false;
    }
    return true;
  }

  /** Closes at once (no close frame: there may be no room for one). */
  close(reason = 'closed by server'): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.closed = true;
    this.socket.close();
  }

  /** Closes with a close frame: the original's answer to a frame it cannot read. */
  reject(reason: string): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.closed = true;
    this.socket.end(1003, reason);
  }
}
