/**
 * Test helpers for the HTTP gateway: a server on 127.0.0.1 with a free port over a fresh engine, an
 * HTTP client on node:http (keep-alive agent or one connection per request), and a raw TCP client
 * for what HTTP libraries hide (split writes, pipelining, connection close). Everything is bounded
 * in time: a stuck exchange fails instead of hanging.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { pino, type Logger } from 'pino';
import { validateConfig } from '../../../conf/load.js';
import { defaultConfig } from '../../../conf/defaults.js';
import type { ConfigInput } from '../../../conf/schema.js';
import { Engine } from '../../../engine/engine.js';
import { InProcessEngineClient } from '../../engine-client.js';
import type { RpcService } from '../dispatch.js';
import { startHttpGateway, type HttpGateway } from '../server.js';

export const TIMEOUT_MS = 5000;

type HttpInput = NonNullable<ConfigInput['http']>;

export interface TestServer {
  readonly gateway: HttpGateway;
  readonly engine: Engine;
  readonly port: number;
  /** JSON log lines the gateway wrote. */
  readonly logs: string[];
  close(): void;
}

export interface TestServerOptions {
  readonly http?: HttpInput;
  /** Services instead of the engine's in-process client. */
  readonly services?: (engine: Engine) => RpcService[];
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const config = validateConfig({ ...defaultConfig, http: { host: '127.0.0.1', port: 0, ...options.http } });
  const engine = new Engine(config);
  const logs: string[] = [];
  const logger: Logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const services = options.services?.(engine) ?? [new InProcessEngineClient(engine)];
  const gateway = await startHttpGateway({ http: config.http, services, logger });
  return { gateway, engine, port: gateway.port, logs, close: () => gateway.close() };
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** A keep-alive agent, or false (the default) for a connection of its own. */
  readonly agent?: http.Agent | false;
  readonly path?: string;
}

/** One HTTP request; rejects on a network error or after TIMEOUT_MS. */
export function request(port: number, body: string | null, options: RequestOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: options.path ?? '/', method: options.method ?? 'POST', headers: options.headers ?? {}, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

export interface Envelope {
  readonly error: { code: number; message: string } | null;
  readonly result: unknown;
  readonly id: number;
}

/** POSTs one JSON-RPC request and parses the envelope (which must be there). */
export async function rpc(
  port: number,
  method: string,
  params: unknown[],
  options: RequestOptions & { id?: number } = {},
): Promise<{ status: number; envelope: Envelope; headers: IncomingHttpHeaders }> {
  const id = options.id ?? 1;
  const res = await request(port, JSON.stringify({ id, method, params }), { ...options, headers: { 'content-type': 'application/json', ...options.headers } });
  return { status: res.status, envelope: JSON.parse(res.body) as Envelope, headers: res.headers };
}

/** The result of a call that must succeed with HTTP 200, typed as the caller expects it (tests assert the shape). */
export async function ok<T = unknown>(port: number, method: string, params: unknown[], options: RequestOptions = {}): Promise<T> {
  const { status, envelope } = await rpc(port, method, params, options);
  if (status !== 200 || envelope.error !== null) throw new Error(`${method} failed: ${status} ${JSON.stringify(envelope)}`);
  return envelope.result as T;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: string;
}

export interface RawOptions {
  /** Complete responses to wait for. */
  readonly responses: number;
  /** Also wait until the server closes the connection. */
  readonly expectClose?: boolean;
  /** Pause between writes, so that each piece leaves in its own TCP segment. */
  readonly pauseMs?: number;
}

/**
 * Writes the pieces on one TCP connection (no delay, pausing between them) and reads responses.
 * Resolves with the parsed responses and whether the server closed the connection, once the
 * wanted responses (and close) arrived or the server closed; rejects after TIMEOUT_MS.
 */
export function rawExchange(port: number, pieces: readonly (string | Buffer)[], options: RawOptions): Promise<{ responses: RawResponse[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let received = Buffer.alloc(0);
    let closed = false;
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve({ responses: parseResponses(received), closed });
    };
    const timer = setTimeout(() => finish(new Error(`raw exchange timed out; got ${JSON.stringify(received.toString())}`)), TIMEOUT_MS);
    const check = (): void => {
      const count = parseResponses(received).length;
      if (closed || (count >= options.responses && options.expectClose !== true)) finish();
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      check();
    });
    socket.on('close', () => {
      closed = true;
      check();
    });
    socket.on('error', () => {
      closed = true;
      check();
    });
    socket.on('connect', () => {
      void (async () => {
        for (const [i, piece] of pieces.entries()) {
          if (i > 0) await new Promise((r) => setTimeout(r, options.pauseMs ?? 20));
          if (socket.destroyed) return;
          socket.write(piece);
        }
      })();
    });
  });
}

/** Complete HTTP/1.1 responses (Content-Length framed) at the start of a byte stream. */
export function parseResponses(data: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return responses;
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = Number((lines[0] ?? '').split(' ')[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get('content-length') ?? '0');
    const bodyStart = headEnd + 4;
    if (data.length < bodyStart + length) return responses;
    responses.push({ status, headers, body: data.subarray(bodyStart, bodyStart + length).toString('utf8') });
    at = bodyStart + length;
  }
}

/** A POST request as raw bytes, with a Content-Length. */
export function rawPost(body: string, extraHeaders = ''): string {
  return `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`;
}
