/**
 * One incoming frame: envelope checks (an unreadable frame closes the connection, as in the
 * original), the request-rate limit, the methods, the answer, then whatever a method left to do
 * after its reply (a subscription's first push). A frame is one JSON request, a JSON batch (an
 * array of requests, answered by one array of replies) or a binary order-entry frame (binary.ts).
 * Answers leave in the order the frames came (replies.ts), even when the engine's shards answer
 * out of order. Nothing a client sends can throw out of here: a failure inside a method is logged
 * and answered "internal error".
 */
import { Code } from '../../engine/codes.js';
import type { ReplyView } from '../../engine/router/router.js';
import type { RpcOutcome } from '../rpc/engine-methods.js';
import { INTERNAL_ERROR, METHOD_NOT_FOUND, REQUIRE_AUTH } from '../rpc/errors.js';
import { OrderCommand, orderError, type OrderOpValue } from '../rpc/order-entry.js';
import {
  isOrderFrame, readRequest, recordCount, REPLY_SIZE, REQUEST_SIZE, SourceCache, validOp, writeReplyError, writeReplyHead, writeReplyOrder,
} from './binary.js';
import { errorText, frameText, outcomeText, parseFrame, resultJsonText, type RpcRequest } from './envelope.js';
import { TOO_MANY_REQUESTS } from './errors.js';
import type { Hub } from './hub.js';
import { callWsMethod, DEFERRED, type DeferredAnswer, type MethodContext } from './methods.js';
import { BinaryAnswer, JsonAnswer, type FrameAnswer } from './replies.js';
import type { Session } from './session.js';

export function handleFrame(hub: Hub, session: Session, message: ArrayBuffer, isBinary: boolean): void {
  const now = hub.clock();
  session.lastActivity = now;
  if (isOrderFrame(message, isBinary)) {
    handleOrderFrame(hub, session, message, now);
    return;
  }
  const text = frameText(message);
  const requests = text === null ? null : parseFrame(text);
  if (requests === null) {
    session.reject('invalid request');
    return;
  }
  const ctx = new FrameContext(hub, session);
  if (!Array.isArray(requests)) {
    const frame = new JsonAnswer(1, false);
    answer(ctx, requests, now, frame, 0);
    if (frame.pending === 0 && session.head === null) {
      // Nothing ahead of it: sent at once (uWS corks inside its callbacks).
      if (session.send(frame.message())) runAfter(hub, session, ctx.after);
      return;
    }
    queue(hub, session, frame, ctx);
    return;
  }
  const frame = new JsonAnswer(requests.length, true);
  for (let i = 0; i < requests.length; i++) answer(ctx, requests[i]!, now, frame, i);
  queue(hub, session, frame, ctx);
}

/** What a method sees of its frame: the hub, the connection, where to leave work for after the reply, and (defer) where its answer goes. */
class FrameContext implements MethodContext {
  after: (() => void)[] | null = null;
  /** The request being run: its frame's answer, its place in it, its id and method. */
  frame: JsonAnswer | null = null;
  index = 0;
  request: RpcRequest | null = null;

  constructor(readonly hub: Hub, readonly session: Session) {}

  afterReply(f: () => void): void {
    (this.after ??= []).push(f);
  }

  defer(): (make: () => DeferredAnswer) => void {
    const { hub, session, frame, index, request } = this;
    if (frame === null || request === null) throw new Error('defer() outside a request');
    let answered = false;
    return (make) => {
      if (answered) return;
      answered = true;
      let text: string;
      try {
        const a = make();
        text = 'json' in a ? resultJsonText(request.id, a.json) : outcomeText(request.id, a);
      } catch (err) {
        text = outcomeText(request.id, failed(hub, session, request, err));
      }
      if (frame.set(index, text)) completed(hub, session, frame);
    };
  }
}

/** Runs one request; its reply text goes to slot `index` of `frame`, now or when it is ready. */
function answer(ctx: FrameContext, request: RpcRequest, now: number, frame: JsonAnswer, index: number): void {
  const { hub, session } = ctx;
  if (!session.rate.allow(now)) {
    frame.set(index, errorText(request.id, TOO_MANY_REQUESTS));
    return;
  }
  ctx.frame = frame;
  ctx.index = index;
  ctx.request = request;
  let outcome: ReturnType<typeof callWsMethod>;
  try {
    outcome = callWsMethod(ctx, request.method, request.params);
  } catch (err) {
    outcome = failed(hub, session, request, err);
  }
  if (outcome === DEFERRED) return;
  if (outcome instanceof Promise) {
    const later = (text: string): void => {
      if (frame.set(index, text)) completed(hub, session, frame);
    };
    outcome.then(
      (o) => later(replyText(hub, session, request, o)),
      (err: unknown) => later(replyText(hub, session, request, failed(hub, session, request, err))),
    ).catch((err: unknown) => hub.log.error({ err, session: session.id }, 'WebSocket reply failed'));
    return;
  }
  frame.set(index, replyText(hub, session, request, outcome));
}

function replyText(hub: Hub, session: Session, request: RpcRequest, outcome: RpcOutcome): string {
  try {
    return outcomeText(request.id, outcome);
  } catch (err) {
    return outcomeText(request.id, failed(hub, session, request, err));
  }
}

function failed(hub: Hub, session: Session, request: RpcRequest, err: unknown): RpcOutcome {
  hub.log.error({ err, method: request.method, id: request.id, session: session.id }, 'WebSocket method failed');
  return { error: INTERNAL_ERROR };
}

/** Appends a frame's answer to the connection's queue; sends what is ready (we are inside uWS's callback: corked). */
function queue(hub: Hub, session: Session, frame: FrameAnswer, ctx: FrameContext | null): void {
  if (ctx !== null) frame.after = ctx.after;
  session.enqueue(frame);
  if (session.head === frame && frame.pending === 0) sendReady(hub, session);
}

/** A frame's last answer arrived: when it heads its queue, the connection is flushed after this reply drain. */
function completed(hub: Hub, session: Session, frame: FrameAnswer): void {
  if (session.head === frame) hub.flushes.schedule(session);
}

/** Sends every complete answer at the head of the connection's queue, in order. */
export function sendReady(hub: Hub, session: Session): void {
  for (let frame = session.takeReady(); frame !== null; frame = session.takeReady()) {
    const message = frame.message();
    if (!session.send(message, typeof message !== 'string')) return;
    runAfter(hub, session, frame.after);
  }
}

function runAfter(hub: Hub, session: Session, after: (() => void)[] | null): void {
  if (after === null) return;
  try {
    for (const f of after) f();
  } catch (err) {
    hub.log.error({ err, session: session.id }, 'WebSocket method failed after its reply');
  }
}

/** The command every binary record is read into (the engine client copies what it needs before returning). */
const scratch = new OrderCommand();
/** The last source text decoded from a binary record (most frames repeat one). */
const sources = new SourceCache();

/**
 * A binary order-entry frame: every record is checked and sent to the engine at once (pipelined);
 * the reply records fill in as the engine answers, and the frame leaves when the last one has.
 * Checks in the JSON order: request rate (3), op (4), authentication (6), fields (1).
 * A frame that is not a whole number of records is unreadable: the connection is closed.
 */
function handleOrderFrame(hub: Hub, session: Session, message: ArrayBuffer, now: number): void {
  const count = recordCount(message);
  if (count === 0) {
    session.reject('invalid order frame');
    return;
  }
  const request = new DataView(message);
  const frame = new BinaryAnswer(count, REPLY_SIZE);
  const out = frame.view;
  const specs = hub.backend.specs;
  for (let i = 0; i < count; i++) {
    const at = i * REQUEST_SIZE;
    const to = i * REPLY_SIZE;
    const error = !session.rate.allow(now) ? TOO_MANY_REQUESTS.code
      : !validOp(request, at) ? METHOD_NOT_FOUND.code
        : !session.authenticated ? REQUIRE_AUTH.code
          : readRequest(request, at, specs, session.user, scratch, sources);
    writeReplyHead(out, to, request, at, error);
    if (error !== 0) {
      frame.pending--;
      continue;
    }
    const op = scratch.op;
    const code = hub.client.submitOrder(scratch, (reply) => binaryReply(hub, session, frame, to, op, reply));
    if (code !== Code.OK) {
      writeReplyError(out, to, orderError(op, code).code);
      frame.pending--;
    }
  }
  queue(hub, session, frame, null);
}

/** The engine answered record `to` of a binary frame. Runs inside the router's reply drain: must not throw. */
function binaryReply(hub: Hub, session: Session, frame: BinaryAnswer, to: number, op: OrderOpValue, reply: ReplyView): void {
  const out = frame.view;
  try {
    const order = reply.code === Code.OK ? reply.order() : null;
    if (order !== null) writeReplyOrder(out, to, order);
    else writeReplyError(out, to, reply.code === Code.OK ? INTERNAL_ERROR.code : orderError(op, reply.code).code);
  } catch (err) {
    hub.log.error({ err, session: session.id }, 'WebSocket order reply failed');
    writeReplyError(out, to, INTERNAL_ERROR.code);
  }
  if (frame.done()) completed(hub, session, frame);
}
