/**
 * From a request body to a reply, independent of the socket library: envelope checks, routing a
 * method to the service that serves it, the admin rule, and the guarantee that nothing a client
 * sends can throw out of here (a failure inside a service becomes "internal error" and is logged).
 */
import type { Logger } from 'pino';
import type { EngineClient } from '../engine-client.js';
import { INTERNAL_ERROR, METHOD_NOT_FOUND, REQUIRE_AUTH, SERVICE_UNAVAILABLE } from '../rpc/errors.js';
import type { RpcOutcome } from '../rpc/engine-methods.js';
import type { AdminAccess, ClientInfo, Listener } from './admin.js';
import { BAD_REQUEST, errorReply, parseRequest, resultReply, STATUS_NOT_FOUND, type HttpReply } from './envelope.js';
import { ADMIN_METHODS, PROTOCOL_METHODS } from './protocol-methods.js';

/** What the gateway needs from a service (the engine client, later history and market data). */
export type RpcService = Pick<EngineClient, 'methods' | 'call'>;

export class Dispatcher {
  /** Method name → the service that serves it (the first one that lists it). */
  private readonly routes = new Map<string, RpcService>();
  /** Protocol methods no connected service serves yet. */
  readonly unavailable: ReadonlySet<string>;

  constructor(services: readonly RpcService[], private readonly admin: AdminAccess, private readonly log: Logger) {
    for (const service of services) {
      for (const method of service.methods) if (!this.routes.has(method)) this.routes.set(method, service);
    }
    this.unavailable = new Set(PROTOCOL_METHODS.filter((m) => !this.routes.has(m)));
  }

  /**
   * The reply to one request body. Synchronous for everything decided here; a promise when a
   * service runs the method (an in-process service resolves it within the current microtask
   * checkpoint, so the reply is written before the next request on the connection is read).
   */
  handle(body: string, listener: Listener, client: ClientInfo): HttpReply | Promise<HttpReply> {
    const request = parseRequest(body);
    if (request === null) return BAD_REQUEST;
    const { id, method, params } = request;
    try {
      const service = this.routes.get(method);
      if (service === undefined) {
        return this.unavailable.has(method) ? errorReply(id, SERVICE_UNAVAILABLE) : errorReply(id, METHOD_NOT_FOUND, STATUS_NOT_FOUND);
      }
      if (ADMIN_METHODS.has(method) && !this.admin.allows(listener, client)) {
        this.log.warn({ method, listener, proxied: client.proxied }, 'admin method refused');
        return errorReply(id, REQUIRE_AUTH);
      }
      return service.call(method, params).then(
        (outcome) => this.outcomeReply(id, method, outcome),
        (err: unknown) => this.failure(id, method, err),
      );
    } catch (err) {
      return this.failure(id, method, err);
    }
  }

  private outcomeReply(id: number, method: string, outcome: RpcOutcome): HttpReply {
    try {
      return 'error' in outcome ? errorReply(id, outcome.error) : resultReply(id, outcome.result);
    } catch (err) {
      return this.failure(id, method, err);
    }
  }

  private failure(id: number, method: string, err: unknown): HttpReply {
    this.log.error({ err, method, id }, 'method failed');
    return errorReply(id, INTERNAL_ERROR);
  }
}
