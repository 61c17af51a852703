/**
 * One WebSocket connection: who it is authenticated as, its depth subscription, its limits, the
 * queue of answers that keeps replies in request order (replies.ts), and the one way to send to
 * it. A client that does not read is dropped as soon as the bytes waiting for it pass
 * `maxBackpressure` (uWS also refuses to buffer past that), so memory per connection is bounded.
 * Order and asset subscriptions live in UserSubscriptions, keyed by this session.
 */
import type { DepthFeed } from './depth-feed.js';
import { RateWindow } from './limits.js';
import type { FrameAnswer } from './replies.js';

/** What a session needs from its socket (uWS's WebSocket has this shape). */
export interface Socket {
  /** 0 = buffered (back-pressure), 1 = sent, 2 = dropped because of back-pressure. */
  send(message: string | Uint8Array, isBinary?: boolean): number;
  /** Runs `f` with the socket corked: everything it sends leaves in as few writes as possible. */
  cork(f: () => void): unknown;
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
  /** The answers not sent yet, oldest first (see replies.ts). */
  head: FrameAnswer | null = null;
  tail: FrameAnswer | null = null;
  /** Queued in the hub's FlushQueue. */
  flushScheduled = false;

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
   * Sends one message (text, or binary when `binary`). Closes the connection instead when the
   * client is too far behind. Returns false when nothing was sent (closed now or before).
   */
  send(message: string | Uint8Array, binary = false): boolean {
    if (this.closed) return false;
    const status = this.socket.send(message, binary);
    if (status === SEND_DROPPED || this.socket.getBufferedAmount() > this.limits.maxBackpressure) {
      this.close('slow reader');
      return false;
    }
    return true;
  }

  /** Runs `f` with the socket corked (for sends outside uWS's own callbacks, which cork already). */
  cork(f: () => void): void {
    if (this.closed) return;
    this.socket.cork(f);
  }

  /** Appends an answer to the queue. */
  enqueue(answer: FrameAnswer): void {
    if (this.tail === null) this.head = answer;
    else this.tail.next = answer;
    this.tail = answer;
  }

  /** Removes and returns the head of the queue when it is complete, else null. */
  takeReady(): FrameAnswer | null {
    const head = this.head;
    if (head === null || head.pending > 0) return null;
    this.head = head.next;
    if (this.head === null) this.tail = null;
    head.next = null;
    return head;
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
