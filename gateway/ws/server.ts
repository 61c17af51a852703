/**
 * The WebSocket gateway on uWebSockets.js, wire-compatible with ViaBTC's accessws (see README,
 * "WebSocket API"): one listener on ws.host:ws.port, any path. This file only wires uWS to the
 * hub (shared state), the frame dispatcher and the engine's event stream.
 *
 * Limits per connection: messages above ws.max_message_bytes close it (uWS), sends past
 * ws.max_backpressure_bytes close it (Session.send; uWS refuses to buffer past that too), and
 * ws.idle_timeout_ms without a frame closes it (our sweep: the original counted only incoming
 * frames, uWS's own timer counts outgoing ones too, and is capped at 960 s).
 */
import { pino, type Logger } from 'pino';
import uWS from 'uWebSockets.js';
import type { TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import type { Config } from '../../conf/schema.js';
import type { EngineClient } from '../engine-client.js';
import type { Callout } from './auth-callout.js';
import { handleFrame } from './dispatch.js';
import { upgrade, type SessionSlot } from './handshake.js';
import { Hub, type HubStats } from './hub.js';
import { startIdleSweep } from './limits.js';
import type { Session } from './session.js';

export interface WsGatewayOptions {
  readonly logger?: Logger;
  /** Wall clock in ms; Date.now by default. */
  readonly clock?: () => number;
  /** Replaces the HTTP auth callout (tests). */
  readonly callout?: Callout;
}

export interface WsGateway {
  /** The port listened on (the real one when the config asked for 0). */
  readonly port: number;
  stats(): HubStats;
  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** uWS.js 20.30 has App.close() (closes listen sockets and connections) but its typings omit it. */
type ClosableApp = TemplatedApp & { close?: () => void };

type Slot = SessionSlot<Session>;

/** Starts the listener and subscribes to the engine's events; rejects when the port cannot be bound. */
export async function startWsGateway(client: EngineClient, config: Readonly<Config>, options: WsGatewayOptions = {}): Promise<WsGateway> {
  const ws = config.ws;
  const logger = options.logger ?? pino({ name: 'ws-gateway' });
  const hub = new Hub({ client, ws, logger, clock: options.clock ?? Date.now, ...(options.callout ? { callout: options.callout } : {}) });

  const app: ClosableApp = uWS.App();
  app.ws<Slot>('/*', {
    maxPayloadLength: ws.max_message_bytes,
    maxBackpressure: ws.max_backpressure_bytes,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    compression: uWS.DISABLED,
    upgrade: (res, req, context) => upgrade<Session>(ws, res, req, context),
    open: (socket: WebSocket<Slot>) => {
      socket.getUserData().session = hub.open(socket);
    },
    message: (socket: WebSocket<Slot>, message, isBinary) => {
      const session = socket.getUserData().session;
      if (session === null || session.closed) return;
      try {
        handleFrame(hub, session, message, isBinary);
      } catch (err) {
        logger.error({ err, session: session.id }, 'WebSocket frame handling failed');
        session.close('internal error');
      }
    },
    close: (socket: WebSocket<Slot>) => {
      const slot = socket.getUserData();
      if (slot.session !== null) hub.closed(slot.session);
      slot.session = null;
    },
  });
  app.any('/*', (res) => {
    res.writeStatus('426 Upgrade Required').end('', true);
  });

  const listenSocket = await new Promise<us_listen_socket | false>((resolve) => app.listen(ws.host, ws.port, resolve));
  if (listenSocket === false) {
    hub.stop();
    app.close?.();
    throw new Error(`cannot listen on ${ws.host}:${ws.port}`);
  }
  const stopSweep = startIdleSweep(hub.sessions, ws.idle_timeout_ms, hub.clock);
  let closed = false;

  return {
    port: uWS.us_socket_local_port(listenSocket),
    stats: () => hub.stats(),
    close: () => {
      if (!closed) {
        closed = true;
        stopSweep();
        uWS.us_listen_socket_close(listenSocket);
        hub.stop();
        app.close?.();
      }
      return Promise.resolve();
    },
  };
}
