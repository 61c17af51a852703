/**
 * The envelope of accessws: requests as over HTTP (same parser), replies in the original's member
 * order (error, result, id), pushes as `{"method", "params", "id": null}`.
 */
import type { RpcOutcome } from '../rpc/engine-methods.js';
import type { RpcError } from '../rpc/errors.js';

export { parseRequest, type RpcRequest } from '../http/envelope.js';

/** Text and binary frames both carry UTF-8 JSON; invalid UTF-8 makes the frame unreadable. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A frame's text, or null when it is not valid UTF-8. Reads the buffer before returning (uWS neuters it afterwards). */
export function frameText(message: ArrayBuffer): string | null {
  try {
    return utf8.decode(message);
  } catch {
    return null;
  }
}

export function resultText(id: number, result: unknown): string {
  return JSON.stringify({ error: null, result: result ?? null, id });
}

export function errorText(id: number, error: RpcError): string {
  return JSON.stringify({ error: { code: error.code, message: error.message }, result: null, id });
}

export function outcomeText(id: number, outcome: RpcOutcome): string {
  return 'error' in outcome ? errorText(id, outcome.error) : resultText(id, outcome.result);
}

/** A server push, e.g. pushText('order.update', [1, order]). */
export function pushText(method: string, params: readonly unknown[]): string {
  return JSON.stringify({ method, params, id: null });
}
