/**
 * The methods of accessws. Public: server.*, depth.* (served from the engine now) and the market
 * data kinds (kline, price, state, today, deals: "service unavailable" until the market data
 * service runs, except queries a connected service serves). After server.auth / server.sign:
 * order.* and asset.* (else error 6), including order entry — order.put_limit, order.put_market,
 * order.cancel for the connection's user — which the original did not have (our extension; the
 * binary form of the same three is in binary.ts).
 */
import { Code } from '../../engine/codes.js';
import type { MaybePromise } from '../rpc/backend.js';
import { callFromTable, type RpcOutcome } from '../rpc/engine-methods.js';
import { REQUIRE_AUTH, SERVICE_UNAVAILABLE } from '../rpc/errors.js';
import { OrderCommand, orderError, OrderOp, orderResultJson, readOrderParams, type OrderOpValue } from '../rpc/order-entry.js';
import * as p from '../rpc/params.js';
import type { AuthOutcome } from './auth.js';
import type { Hub } from './hub.js';
import type { Session } from './session.js';

/** What a method that answers from a callback returns (see MethodContext.defer). */
export const DEFERRED = Symbol('deferred');

/** A deferred answer: an outcome, or a result already printed as JSON text. */
export type DeferredAnswer = RpcOutcome | { readonly json: string };

export interface MethodContext {
  readonly hub: Hub;
  readonly session: Session;
  /** Runs `f` right after the reply to this request was sent (e.g. a subscription's first push). */
  afterReply(f: () => void): void;
  /**
   * For a method that answers from a callback (order entry: the engine's reply drain) instead of a
   * promise: returns the function to call exactly once with a function making the answer (run at
   * once; if it throws, the answer is "internal error"); the method then returns DEFERRED.
   */
  defer(): (make: () => DeferredAnswer) => void;
}

type Handler = (ctx: MethodContext, params: readonly unknown[]) => MaybePromise<RpcOutcome> | typeof DEFERRED;

/** Longest server.auth `source`, in bytes (the original: < 32). */
const MAX_SOURCE_BYTES = 31;
/** Longest server.sign access id we look at. */
const MAX_ACCESS_ID_BYTES = 64;
/** Longest token or authorisation we look at. */
const MAX_CREDENTIAL_BYTES = 4096;

const SUCCESS: RpcOutcome = { result: { status: 'success' } };
const ok = (result: unknown): RpcOutcome => ({ result });

function then<T>(value: MaybePromise<T>, f: (t: T) => RpcOutcome): MaybePromise<RpcOutcome> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** Runs a method of a connected service, or answers "service unavailable" when none serves it. */
function forward(hub: Hub, method: string, params: readonly unknown[]): MaybePromise<RpcOutcome> {
  return hub.client.methods.has(method) ? hub.client.call(method, params) : { error: SERVICE_UNAVAILABLE };
}

/** A private method: runs `f` with the connection's user, or answers error 6. */
function authed(f: (ctx: MethodContext, user: number, params: readonly unknown[]) => ReturnType<Handler>): Handler {
  return (ctx, params) => (ctx.session.authenticated ? f(ctx, ctx.session.user, params) : { error: REQUIRE_AUTH });
}

function login(ctx: MethodContext, outcome: MaybePromise<AuthOutcome>, source: string): MaybePromise<RpcOutcome> {
  return then(outcome, (o) => {
    if ('error' in o) return o;
    if (!ctx.session.closed) ctx.hub.authenticate(ctx.session, o.user, source);
    return SUCCESS;
  });
}

/**
 * Order entry as the connection's user: the HTTP method's params without the user id, the same
 * checks, result and errors (gateway/rpc/order-entry.ts).
 */
function orderEntry(op: OrderOpValue): Handler {
  return authed((ctx, user, params) => {
    const { hub } = ctx;
    const command = readOrderParams(hub.backend.specs, op, params, 0, new OrderCommand());
    command.user = user;
    const answer = ctx.defer();
    const code = hub.client.submitOrder(command, (reply) => answer(() => orderResultJson(hub.backend, op, reply)));
    if (code !== Code.OK) answer(() => ({ error: orderError(op, code) }));
    return DEFERRED;
  });
}

/** The distinct indexes of a subscribe's names; unknown names and too long lists are invalid. */
function names(params: readonly unknown[], max: number, lookup: (name: unknown) => { index: number }): Set<number> {
  if (params.length > max) throw new p.InvalidParams(`at most ${max} names`);
  return new Set(params.map((name) => lookup(name).index));
}

const handlers: Record<string, Handler> = {
  'server.ping': () => ok('pong'),
  'server.time': ({ hub }) => ok(Math.floor(hub.clock() / 1000)),

  'server.auth': (ctx, params) => {
    p.expectCount(params, 2);
    const token = p.text(params[0], MAX_CREDENTIAL_BYTES);
    const source = p.text(params[1], MAX_SOURCE_BYTES);
    return login(ctx, ctx.hub.auth.token(token), source);
  },

  'server.sign': (ctx, params) => {
    p.expectCount(params, 3);
    const accessId = p.text(params[0], MAX_ACCESS_ID_BYTES);
    const authorisation = p.text(params[1], MAX_CREDENTIAL_BYTES);
    const tonce = p.integer(params[2], 1, Number.MAX_SAFE_INTEGER);
    return login(ctx, ctx.hub.auth.sign(accessId, authorisation, tonce), 'api');
  },

  'order.query': authed(({ hub }, user, params) => {
    p.expectCount(params, 3);
    return hub.client.call('order.pending', [user, ...params]);
  }),
  'order.history': authed(({ hub }, user, params) => {
    p.expectCount(params, 6);
    return forward(hub, 'order.finished', [user, ...params]);
  }),
  'order.put_limit': orderEntry(OrderOp.PUT_LIMIT),
  'order.put_market': orderEntry(OrderOp.PUT_MARKET),
  'order.cancel': orderEntry(OrderOp.CANCEL),
  'order.subscribe': authed(({ hub, session }, _user, params) => {
    const specs = hub.backend.specs;
    hub.orders.set(session, names(params, hub.ws.max_subscriptions, (name) => p.market(specs, name)));
    hub.listen();
    return SUCCESS;
  }),
  'order.unsubscribe': authed(({ hub, session }) => {
    hub.orders.drop(session);
    return SUCCESS;
  }),

  'asset.query': authed(({ hub }, user, params) => hub.client.call('balance.query', [user, ...params])),
  'asset.history': authed(({ hub }, user, params) => {
    p.expectCount(params, 6);
    return forward(hub, 'balance.history', [user, ...params]);
  }),
  'asset.subscribe': authed(({ hub, session }, _user, params) => {
    const specs = hub.backend.specs;
    hub.assets.set(session, names(params, hub.ws.max_subscriptions, (name) => p.asset(specs, name)));
    hub.listen();
    return SUCCESS;
  }),
  'asset.unsubscribe': authed(({ hub, session }) => {
    hub.assets.drop(session);
    return SUCCESS;
  }),

  'depth.query': ({ hub }, params) => forward(hub, 'order.depth', params),
  'depth.subscribe': (ctx, params) => {
    const { hub, session } = ctx;
    const request = hub.depthRules.parse(hub.backend.specs, params);
    hub.listen();
    ctx.afterReply(() => hub.depth.subscribe(session, request));
    return SUCCESS;
  },
  'depth.unsubscribe': ({ hub, session }) => {
    hub.depth.unsubscribe(session);
    return SUCCESS;
  },
};

/** Market data: the queries go to the service that serves them; pushes wait for the market data service. */
const MARKET_DATA: Record<string, string> = {
  kline: 'market.kline', price: 'market.last', state: 'market.status', today: 'market.status_today', deals: 'market.deals',
};
for (const [kind, method] of Object.entries(MARKET_DATA)) {
  handlers[`${kind}.query`] = ({ hub }, params) => forward(hub, method, params);
  handlers[`${kind}.subscribe`] = () => ({ error: SERVICE_UNAVAILABLE });
  handlers[`${kind}.unsubscribe`] = () => ({ error: SERVICE_UNAVAILABLE });
}

export const wsMethodNames: readonly string[] = Object.keys(handlers);

/** Runs one method; bad params give "invalid argument" and change nothing. */
export function callWsMethod(ctx: MethodContext, method: string, params: readonly unknown[]): ReturnType<Handler> {
  return callFromTable(handlers, ctx, method, params);
}
