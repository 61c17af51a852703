/**
 * The envelope of accessws: requests as over HTTP (same parser), replies in the original's member
 * order (error, result, id), pushes as `{"method", "params", "id": null}`.
 */
import type { RpcOutcome } from '../rpc/engine-methods.js';
import type { RpcError } from '../rpc/errors.js';

import { parseJson, requestOf, type RpcRequest } from '../http/envelope.js';

export { parseRequest, type RpcRequest } from '../http/envelope.js';

/** Most requests one batch frame may carry (a longer array makes the frame unreadable). */
export const MAX_BATCH = 1000;

/**
 * The requests of a JSON frame: one request object, or (our extension) a batch — a non-empty
 * array of at most MAX_BATCH request objects. Null when the frame is neither (it closes the
 * connection, as any unreadable frame does).
 */
export function parseFrame(text: string): RpcRequest | RpcRequest[] | null {
  const value = parseJson(text);
  if (!Array.isArray(value)) return value === undefined ? null : requestOf(value);
  if (value.length === 0 || value.length > MAX_BATCH) return null;
  const requests: RpcRequest[] = [];
  for (const item of value) {
    const request = requestOf(item);
    if (request === null) return null;
    requests.push(request);
  }
  return requests;
}

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

/** A reply whose result is given as JSON text. */
export function resultJsonText(id: number, json: string): string {
  return `{"error":null,"result":${json},"id":${id}}`;
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
