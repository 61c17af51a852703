/**
 * A minimal HTTP/1.1 client for the load generator: one keep-alive TCP connection to 127.0.0.1,
 * POST of a JSON body, at most ONE request in flight (never pipelined: uWebSockets.js closes a
 * connection that sends a request while an asynchronous answer is pending), replies framed by
 * Content-Length (what the gateway always sends).
 *
 * Why not node:http or undici: at tens of thousands of requests per second the client shares the
 * machine's two cores with the server, and a generic client's per-request work (header objects,
 * streams, promises) would be measured instead of the server. This one writes one preformatted
 * string per request, reads into one reused buffer (net's `onread`: no stream machinery and no
 * buffer allocated per read) and scans the reply head for its status and length; bodies are
 * returned as strings for the caller to parse and check.
 */
import { connect, type Socket } from 'node:net';

/** Called once per request: an error (transport failure, malformed reply) or the status and body. */
export type ReplyCallback = (err: Error | null, status: number, body: string) => void;

const HEAD_END = Buffer.from('\r\n\r\n');
/** Where every connection's reads land (net's `onread`): each read is consumed before the next one. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;
const CONNECTION_CLOSE = /\r\nconnection: *close/i;
const CHUNKED = /\r\ntransfer-encoding:/i;

export class HttpConnection {
  private readonly socket: Socket;
  private readonly prefix: string;
  private pending: ReplyCallback | null = null;
  /** The start of a reply whose end has not arrived yet (a copy: reads land in READ_BUFFER). */
  private buffered: Buffer | null = null;
  private closedError: Error | null = null;
  /** When the request in flight was written (process.hrtime ns as a number), for the watchdog. */
  sentAt = 0;

  private constructor(socket: Socket, host: string, port: number) {
    this.socket = socket;
    this.prefix = `POST / HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: `;
    socket.setNoDelay(true);
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  /** Opens a connection; resolves once it is established. */
  static open(host: string, port: number): Promise<HttpConnection> {
    return new Promise((resolve, reject) => {
      let connection: HttpConnection | null = null;
      const socket = connect({
        host, port,
        onread: {
          buffer: READ_BUFFER,
          callback: (bytes) => {
            connection?.onData(READ_BUFFER.subarray(0, bytes));
            return true; // keep reading
          },
        },
      });
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        connection = new HttpConnection(socket, host, port);
        resolve(connection);
      });
    });
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Sends one request; `body` must be ASCII (our JSON is). Throws if a request is in flight. */
  post(body: string, callback: ReplyCallback, nowNs: number): void {
    if (this.pending !== null) throw new Error('one request at a time per connection');
    if (this.closedError !== null) {
      const err = this.closedError;
      queueMicrotask(() => callback(err, 0, ''));
      return;
    }
    this.pending = callback;
    this.sentAt = nowNs;
    this.socket.write(`${this.prefix}${body.length}\r\n\r\n${body}`, 'latin1');
  }

  close(): void {
    this.closedError ??= new Error('connection closed by the client');
    this.socket.destroy();
  }

  /** Ends the request in flight with an error and closes the connection (the watchdog's timeout). */
  abort(reason: string): void {
    this.fail(new Error(reason));
    this.socket.destroy();
  }

  /** Handles the bytes of one read (in READ_BUFFER: what is kept for later is copied). */
  private onData(chunk: Buffer): void {
    let buf = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
    this.buffered = null;
    while (buf.length > 0) {
      const headEnd = buf.indexOf(HEAD_END);
      if (headEnd < 0) {
        this.buffered = Buffer.from(buf);
        return;
      }
      const head = buf.toString('latin1', 0, headEnd);
      const status = Number(head.slice(9, 12));
      const length = CONTENT_LENGTH.exec(head);
      if (!head.startsWith('HTTP/1.1 ') || !Number.isInteger(status) || length === null || CHUNKED.test(head)) {
        this.abort(`malformed HTTP reply head: ${JSON.stringify(head.slice(0, 200))}`);
        return;
      }
      const bodyStart = headEnd + 4;
      const bodyEnd = bodyStart + Number(length[1]);
      if (buf.length < bodyEnd) {
        this.buffered = Buffer.from(buf);
        return;
      }
      const body = buf.toString('utf8', bodyStart, bodyEnd);
      const callback = this.pending;
      this.pending = null;
      if (callback === null) {
        this.abort('a reply arrived with no request in flight');
        return;
      }
      if (CONNECTION_CLOSE.test(head)) {
        this.closedError = new Error(`the server closed the connection after HTTP ${status}`);
        this.socket.end();
      }
      callback(null, status, body);
      buf = buf.subarray(bodyEnd);
    }
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    const callback = this.pending;
    this.pending = null;
    if (callback !== null) callback(err, 0, '');
  }
}

/** Opens `count` connections (a few at a time, so the listener's backlog never overflows). */
export async function openConnections(host: string, port: number, count: number): Promise<HttpConnection[]> {
  const connections: HttpConnection[] = [];
  while (connections.length < count) {
    const batch = Math.min(32, count - connections.length);
    connections.push(...(await Promise.all(Array.from({ length: batch }, () => HttpConnection.open(host, port)))));
  }
  return connections;
}

/** One request, waiting for its reply (at most `timeoutMs`): for set-up and checks, not for load. */
export function postOnce(connection: HttpConnection, body: string, timeoutMs = 15_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => connection.abort(`no reply within ${timeoutMs / 1000} s`), timeoutMs);
    connection.post(body, (err, status, text) => {
      clearTimeout(timer);
      if (err === null) resolve({ status, body: text });
      else reject(err);
    }, 0);
  });
}
