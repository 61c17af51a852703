/**
 * From a request body to a reply, independent of the socket library: envelope checks, routing a
 * method to the service that serves it, the admin rule, and the guarantee that nothing a client
 * sends can throw out of here (a failure inside a service becomes "internal error" and is logged).
 */
import type { Logger } from 'pino';
import { Code } from '../../engine/codes.js';
import type { EngineClient } from '../engine-client.js';
import { INTERNAL_ERROR, INVALID_ARGUMENT, METHOD_NOT_FOUND, REQUIRE_AUTH, SERVICE_UNAVAILABLE } from '../rpc/errors.js';
import type { RpcOutcome } from '../rpc/engine-methods.js';
import { ORDER_METHOD, OrderCommand, orderError, orderOpOf, orderResultJson, readOrderRequest, type OrderOpValue } from '../rpc/order-entry.js';
import { InvalidParams } from '../rpc/params.js';
import type { AdminAccess, ClientInfo, Listener } from './admin.js';
import { BAD_REQUEST, errorReply, parseRequest, resultJsonReply, resultReply, STATUS_NOT_FOUND, type HttpReply } from './envelope.js';
import { ADMIN_METHODS, PROTOCOL_METHODS } from './protocol-methods.js';

/**
 * What the gateway needs from a service (the engine client, later history and market data).
 * A service that also offers submitOrder gets order.put_limit, order.put_market and order.cancel
 * through it: no promise per order, the reply printed without an intermediate object.
 */
export type RpcService = Pick<EngineClient, 'methods' | 'call'> & Partial<Pick<EngineClient, 'submitOrder' | 'backend'>>;

type OrderService = Pick<EngineClient, 'submitOrder' | 'backend'>;

/** Where a request's reply goes: the exchange of the socket layer. */
export interface Responder extends ClientInfo {
  /** Sends the reply (once; later calls are ignored). */
  reply(reply: HttpReply): void;
}

export class Dispatcher {
  /** Method name → the service that serves it (the first one that lists it). */
  private readonly routes = new Map<string, RpcService>();
  /** Protocol methods no connected service serves yet. */
  readonly unavailable: ReadonlySet<string>;
  /** The order command being read; the engine client copies it into the shard's ring at once. */
  private readonly command = new OrderCommand();

  constructor(services: readonly RpcService[], private readonly admin: AdminAccess, private readonly log: Logger) {
    for (const service of services) {
      for (const method of service.methods) if (!this.routes.has(method)) this.routes.set(method, service);
    }
    this.unavailable = new Set(PROTOCOL_METHODS.filter((m) => !this.routes.has(m)));
  }

  /**
   * Answers one request body through `client.reply`: at once for everything decided here, later
   * when a service runs the method (an in-process service answers within the current microtask
   * checkpoint, so the reply is written before the next request on the connection is read).
   * Nothing a client sends can throw out of here.
   */
  handle(body: string, listener: Listener, client: Responder): void {
    const request = parseRequest(body);
    if (request === null) {
      client.reply(BAD_REQUEST);
      return;
    }
    const { id, method, params } = request;
    try {
      const service = this.routes.get(method);
      if (service === undefined) {
        client.reply(this.unavailable.has(method) ? errorReply(id, SERVICE_UNAVAILABLE) : errorReply(id, METHOD_NOT_FOUND, STATUS_NOT_FOUND));
        return;
      }
      if (ADMIN_METHODS.has(method) && !this.admin.allows(listener, client)) {
        this.log.warn({ method, listener, proxied: client.proxied }, 'admin method refused');
        client.reply(errorReply(id, REQUIRE_AUTH));
        return;
      }
      const op = orderOpOf(method);
      if (op !== 0 && service.submitOrder !== undefined && service.backend !== undefined) {
        this.order(service as OrderService, op, id, params, client);
        return;
      }
      service.call(method, params).then(
        (outcome) => client.reply(this.outcomeReply(id, method, outcome)),
        (err: unknown) => client.reply(this.failure(id, method, err)),
      ).catch((err: unknown) => this.log.error({ err, method, id }, 'HTTP reply failed'));
    } catch (err) {
      client.reply(this.failure(id, method, err));
    }
  }

  /** order.put_limit, order.put_market, order.cancel: params checked here, the command sent with a callback. */
  private order(service: OrderService, op: OrderOpValue, id: number, params: readonly unknown[], client: Responder): void {
    const backend = service.backend;
    let command: OrderCommand;
    try {
      command = readOrderRequest(backend.specs, op, params, this.command);
    } catch (err) {
      if (!(err instanceof InvalidParams)) throw err;
      client.reply(errorReply(id, INVALID_ARGUMENT));
      return;
    }
    const code = service.submitOrder(command, (reply) => {
      let answer: HttpReply;
      try {
        const result = orderResultJson(backend, op, reply);
        answer = 'error' in result ? errorReply(id, result.error) : resultJsonReply(id, result.json);
      } catch (err) {
        answer = this.failure(id, ORDER_METHOD[op], err);
      }
      client.reply(answer);
    });
    if (code !== Code.OK) client.reply(errorReply(id, orderError(op, code)));
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
