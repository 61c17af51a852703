/**
 * One incoming frame: envelope checks (an unreadable frame closes the connection, as in the
 * original), the request-rate limit, the method, the reply, then whatever the method left to do
 * after its reply (a subscription's first push). Nothing a client sends can throw out of here:
 * a failure inside a method is logged and answered "internal error".
 */
import type { RpcOutcome } from '../rpc/engine-methods.js';
import { INTERNAL_ERROR } from '../rpc/errors.js';
import { errorText, frameText, outcomeText, parseRequest } from './envelope.js';
import { TOO_MANY_REQUESTS } from './errors.js';
import type { Hub } from './hub.js';
import { callWsMethod, type MethodContext } from './methods.js';
import type { Session } from './session.js';

export function handleFrame(hub: Hub, session: Session, message: ArrayBuffer): void {
  const now = hub.clock();
  session.lastActivity = now;
  const text = frameText(message);
  const request = text === null ? null : parseRequest(text);
  if (request === null) {
    session.reject('invalid request');
    return;
  }
  const { id, method, params } = request;
  if (!session.rate.allow(now)) {
    session.send(errorText(id, TOO_MANY_REQUESTS));
    return;
  }
  const after: (() => void)[] = [];
  const ctx: MethodContext = { hub, session, afterReply: (f) => void after.push(f) };
  const failed = (err: unknown): RpcOutcome => {
    hub.log.error({ err, method, id, session: session.id }, 'WebSocket method failed');
    return { error: INTERNAL_ERROR };
  };
  const reply = (outcome: RpcOutcome): void => {
    let text: string;
    try {
      text = outcomeText(id, outcome);
    } catch (err) {
      text = outcomeText(id, failed(err));
    }
    if (!session.send(text)) return;
    try {
      for (const f of after) f();
    } catch (err) {
      failed(err);
    }
  };
  let outcome;
  try {
    outcome = callWsMethod(ctx, method, params);
  } catch (err) {
    outcome = failed(err);
  }
  if (outcome instanceof Promise) outcome.then(reply, (err: unknown) => reply(failed(err)));
  else reply(outcome);
}
