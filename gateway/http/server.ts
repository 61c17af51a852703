/**
 * The HTTP JSON-RPC gateway on uWebSockets.js, wire-compatible with ViaBTC's accesshttp: any path,
 * POST only, one JSON-RPC request per body, replies in the original's envelope and statuses
 * (see envelope.ts), plus `Content-Type: application/json` on JSON bodies.
 *
 * One public listener (http.host:http.port) and, when http.admin.port is set, an admin listener on
 * http.admin.host; both serve every method, and admin.ts decides who may call balance.update.
 * Replies on one connection go out in request order: an in-process service answers before uWS
 * reads the next request (uWS closes a connection that sends a request while one is pending).
 */
import type { Logger } from 'pino';
import uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { HttpConfig } from '../../conf/schema.js';
import { AdminAccess, PROXY_HEADERS, type Listener } from './admin.js';
import { BodyReader, wholeBody } from './body.js';
import { Dispatcher, type Responder, type RpcService } from './dispatch.js';
import { BAD_REQUEST, INTERNAL_FAILURE, STATUS_OK, TOO_LARGE, type HttpReply } from './envelope.js';

export interface HttpGatewayOptions {
  readonly http: Readonly<HttpConfig>;
  /** The services behind the gateway (the engine first; history and market data when they exist). */
  readonly services: readonly RpcService[];
  readonly logger: Logger;
}

export interface HttpGateway {
  /** The public listener's port (the real one when the config asked for 0). */
  readonly port: number;
  /** The admin listener's port, or null when there is none. */
  readonly adminPort: number | null;
  /** Protocol methods that answer "service unavailable" because no service serves them yet. */
  readonly unavailable: ReadonlySet<string>;
  /** Stops listening and closes every connection. Idempotent. */
  close(): void;
}

/** uWS.js 20.30 has App.close() (closes listen sockets and connections) but its typings omit it. */
type ClosableApp = TemplatedApp & { close?: () => void };

/** Header name and value as bytes: uWS copies them as they are, without converting a string to UTF-8 each time. */
const CONTENT_TYPE = Buffer.from('Content-Type');
const JSON_TYPE = Buffer.from('application/json');

/** Starts the listeners; rejects when a port cannot be bound. */
export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const { http, logger } = options;
  const admin = new AdminAccess(http.admin);
  const dispatcher = new Dispatcher(options.services, admin, logger);
  const opened: { app: ClosableApp; socket: us_listen_socket }[] = [];
  const closeAll = (): void => {
    for (const { app, socket } of opened.splice(0)) {
      uWS.us_listen_socket_close(socket);
      app.close?.();
    }
  };

  const open = async (listener: Listener, host: string, port: number): Promise<number> => {
    const app: ClosableApp = uWS.App();
    const handler = new RequestHandler(listener, http.max_body_bytes, admin, dispatcher, logger);
    app.any('/*', (res, req) => handler.onRequest(res, req));
    const socket = await new Promise<us_listen_socket | false>((resolve) => app.listen(host, port, resolve));
    if (socket === false) throw new Error(`cannot listen on ${host}:${port}`);
    opened.push({ app, socket });
    return uWS.us_socket_local_port(socket);
  };

  try {
    const port = await open('public', http.host, http.port);
    const adminPort = http.admin.port === undefined ? null : await open('admin', http.admin.host, http.admin.port);
    return { port, adminPort, unavailable: dispatcher.unavailable, close: closeAll };
  } catch (err) {
    closeAll();
    throw err;
  }
}

/** Serves the requests of one listener. */
class RequestHandler {
  private readonly readsAuthorization: boolean;
  private readonly readsProxyHeaders: boolean;

  constructor(
    readonly listener: Listener,
    readonly maxBodyBytes: number,
    admin: AdminAccess,
    readonly dispatcher: Dispatcher,
    readonly log: Logger,
  ) {
    this.readsAuthorization = admin.readsAuthorization();
    this.readsProxyHeaders = admin.readsProxyHeaders(listener);
  }

  /** Runs inside uWS's callback: `req` is valid only until this returns. */
  onRequest(res: HttpResponse, req: HttpRequest): void {
    const exchange = new Exchange(this, res);
    res.onAborted(() => exchange.abort());
    try {
      if (req.getMethod() !== 'post') {
        exchange.reply(BAD_REQUEST);
        return;
      }
      const declared = req.getHeader('content-length');
      if (declared !== '' && !(Number(declared) <= this.maxBodyBytes)) {
        exchange.reply(TOO_LARGE);
        return;
      }
      if (this.readsAuthorization) exchange.authorization = req.getHeader('authorization');
      if (this.readsProxyHeaders) exchange.proxied = PROXY_HEADERS.some((name) => req.getHeader(name) !== '');
      res.onData((chunk, isLast) => exchange.onChunk(chunk, isLast));
    } catch (err) {
      exchange.fail(err);
    }
  }
}

/** One request and its response. Never touches `res` after the response is sent or aborted. */
class Exchange implements Responder {
  authorization = '';
  proxied = false;
  private reader: BodyReader | null = null;
  /** Aborted by the client, or answered: `res` must not be used any more. */
  private finished = false;

  constructor(private readonly handler: RequestHandler, private readonly res: HttpResponse) {}

  remoteAddress(): Uint8Array {
    return new Uint8Array(this.res.getRemoteAddress());
  }

  abort(): void {
    this.finished = true;
  }

  onChunk(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.finished) return;
    try {
      const max = this.handler.maxBodyBytes;
      if (!isLast) {
        this.reader ??= new BodyReader(max);
        if (!this.reader.add(chunk)) this.reply(TOO_LARGE);
        return;
      }
      const body = this.reader === null ? wholeBody(chunk, max) : this.reader.finish(chunk);
      if (body === null) {
        this.reply(TOO_LARGE);
        return;
      }
      this.handler.dispatcher.handle(body, this.handler.listener, this);
    } catch (err) {
      this.fail(err);
    }
  }

  reply(reply: HttpReply): void {
    if (this.finished) return;
    this.finished = true;
    const res = this.res;
    res.cork(() => {
      if (reply.status !== STATUS_OK) res.writeStatus(reply.status); // else uWS writes "200 OK" itself
      if (reply.body !== '') res.writeHeader(CONTENT_TYPE, JSON_TYPE);
      res.end(reply.body, reply.close);
    });
  }

  /** A failure of the transport itself (the dispatcher answers method failures with "internal error"). */
  fail(err: unknown): void {
    this.handler.log.error({ err, listener: this.handler.listener }, 'HTTP request handling failed');
    try {
      this.reply(INTERNAL_FAILURE);
    } catch (again) {
      this.handler.log.error({ err: again }, 'HTTP error reply failed');
    }
  }
}
