/**
 * Test helpers for the WebSocket gateway: a gateway on 127.0.0.1 with a free port over a fresh
 * in-process engine (calls through `engine` stand in for HTTP), and a client on the `ws` package
 * that keeps every message and waits for replies, pushes or the close with a bounded timeout.
 */
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import { validateConfig } from '../../../conf/load.js';
import { defaultConfig } from '../../../conf/defaults.js';
import type { Config, ConfigInput } from '../../../conf/schema.js';
import { Engine } from '../../../engine/engine.js';
import { InProcessEngineClient } from '../../engine-client.js';
import type { Callout } from '../auth-callout.js';
import { startWsGateway, type WsGateway } from '../server.js';

export const TIMEOUT_MS = 5000;

export type WsInput = NonNullable<ConfigInput['ws']>;

export interface TestGateway {
  readonly gateway: WsGateway;
  readonly client: InProcessEngineClient;
  readonly config: Readonly<Config>;
  readonly port: number;
  /** JSON log lines the gateway wrote. */
  readonly logs: string[];
  /** Runs an engine method in-process (standing in for HTTP); throws on an error reply. */
  call<T = unknown>(method: string, params: unknown[]): Promise<T>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  readonly ws?: WsInput;
  readonly clock?: () => number;
  readonly callout?: Callout;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const config = validateConfig({ ...defaultConfig, ws: { host: '127.0.0.1', port: 0, ...options.ws } });
  const client = new InProcessEngineClient(new Engine(config));
  const logs: string[] = [];
  const logger: Logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const gateway = await startWsGateway(client, config, {
    logger, ...(options.clock ? { clock: options.clock } : {}), ...(options.callout ? { callout: options.callout } : {}),
  });
  return {
    gateway, client, config, port: gateway.port, logs,
    call: async <T>(method: string, params: unknown[]): Promise<T> => {
      const outcome = await client.call(method, params);
      if ('error' in outcome) throw new Error(`${method} failed: ${JSON.stringify(outcome.error)}`);
      return outcome.result as T;
    },
    close: () => gateway.close(),
  };
}

export interface Reply {
  readonly error: { code: number; message: string } | null;
  readonly result: unknown;
  readonly id: number;
}

export interface Push {
  readonly method: string;
  readonly params: unknown[];
  readonly id: null;
}

export type Message = Reply | Push;

const isPush = (m: Message): m is Push => m.id === null && 'method' in m;

/** Waits for `condition` (checked now and on every change) or rejects after TIMEOUT_MS. */
function waitFor<T>(subscribe: (check: () => void) => () => void, probe: () => T | undefined, what: string, timeoutMs = TIMEOUT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    let unsubscribe: () => void = () => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const check = (): void => {
      const value = probe();
      if (value === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    };
    unsubscribe = subscribe(check);
    check();
  });
}

/** A WebSocket client that records everything the server sends. */
export class WsClient {
  /** Every message received, in order, parsed. */
  readonly messages: Message[] = [];
  /** The same messages as the server sent them. */
  readonly texts: string[] = [];
  /** Frames that were not JSON (none expected). */
  readonly garbage: string[] = [];
  /** Binary frames received (the answers to binary order entry), in order. */
  readonly binaries: Buffer[] = [];
  closed = false;
  closeCode = 0;
  private readonly listeners = new Set<() => void>();
  /** Request ids start high, away from the ids tests write by hand. */
  private nextId = 1_000_000;
  /** Per push method, the index of the first message not yet looked at by `nextPush`. */
  private readonly pushCursor = new Map<string, number>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (isBinary) {
        this.binaries.push(bytes);
        this.changed();
        return;
      }
      const text = bytes.toString('utf8');
      try {
        this.messages.push(JSON.parse(text) as Message);
        this.texts.push(text);
      } catch {
        this.garbage.push(text);
      }
      this.changed();
    });
    socket.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      this.changed();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/`, options.protocols ?? [], { headers: options.headers ?? {}, handshakeTimeout: TIMEOUT_MS });
      const client = new WsClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
    });
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private watch = (check: () => void): (() => void) => {
    this.listeners.add(check);
    return () => this.listeners.delete(check);
  };

  /** Sends a raw text (or binary) frame. */
  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** Sends a request and waits for the reply with its id. */
  async request(method: string, params: unknown[] = [], id = this.nextId++): Promise<Reply> {
    this.sendRaw(JSON.stringify({ id, method, params }));
    return this.reply(id, method);
  }

  /** The reply with `id` (already received or coming). */
  reply(id: number, what = `reply ${id}`): Promise<Reply> {
    return waitFor(this.watch, () => this.messages.find((m): m is Reply => !isPush(m) && m.id === id), what);
  }

  /** A request that must succeed; its result. */
  async ok<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const reply = await this.request(method, params);
    if (reply.error !== null) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
    return reply.result as T;
  }

  /**
   * The next push of `method` after the last one this returned for that method (optionally the
   * first such push matching `match`; the ones skipped are not returned later).
   */
  async nextPush(method: string, match: (p: Push) => boolean = () => true): Promise<Push> {
    return waitFor(this.watch, () => {
      for (let i = this.pushCursor.get(method) ?? 0; i < this.messages.length; i++) {
        const m = this.messages[i]!;
        if (isPush(m) && m.method === method && match(m)) {
          this.pushCursor.set(method, i + 1);
          return m;
        }
      }
      return undefined;
    }, `${method} push`);
  }

  /** The `n`-th binary frame received (0-based; already received or coming). */
  binary(n: number): Promise<Buffer> {
    return waitFor(this.watch, () => this.binaries[n], `binary frame ${n}`);
  }

  /** Pushes received so far, of one method. */
  pushes(method: string): Push[] {
    return this.messages.filter((m): m is Push => isPush(m) && m.method === method);
  }

  /** Resolves when the server closed the connection. */
  whenClosed(timeoutMs = TIMEOUT_MS): Promise<number> {
    return waitFor(this.watch, () => (this.closed ? this.closeCode : undefined), 'close', timeoutMs);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.socket.close();
    return this.whenClosed().then(() => undefined, () => this.socket.terminate());
  }
}

/** Waits until `probe` returns a value (polling every few ms), or rejects after TIMEOUT_MS. */
export async function eventually<T>(probe: () => T | undefined | false, what: string, timeoutMs = TIMEOUT_MS): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
