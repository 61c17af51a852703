/**
 * The JSON-RPC envelope of accesshttp: the request object, and the reply bodies with their HTTP
 * statuses. Replies keep the original's member order: error, result, id.
 */
import type { RpcError } from '../rpc/errors.js';

export interface RpcRequest {
  readonly id: number;
  readonly method: string;
  readonly params: readonly unknown[];
}

export const STATUS_OK = '200 OK';
export const STATUS_BAD_REQUEST = '400 Bad Request';
export const STATUS_NOT_FOUND = '404 Not Found';
export const STATUS_TOO_LARGE = '413 Payload Too Large';
export const STATUS_INTERNAL_ERROR = '500 Internal Server Error';

/** What the transport writes: a status line, a JSON body (or '' for none), and whether to close the connection. */
export interface HttpReply {
  readonly status: string;
  readonly body: string;
  readonly close: boolean;
}

/** 400 with an empty body, connection closed: the original's answer to anything it cannot read. */
export const BAD_REQUEST: HttpReply = { status: STATUS_BAD_REQUEST, body: '', close: true };
export const TOO_LARGE: HttpReply = { status: STATUS_TOO_LARGE, body: '', close: true };
export const INTERNAL_FAILURE: HttpReply = { status: STATUS_INTERNAL_ERROR, body: '', close: true };

/** Deepest nesting of arrays and objects accepted, as the original's JSON parser (jansson's JSON_PARSER_MAX_DEPTH). */
export const MAX_DEPTH = 2048;

/** Whether the JSON text nests arrays/objects deeper than `max` (brackets inside strings do not count). */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * The request in a body, or null when the body is not a JSON object with an integer `id`, a string
 * `method` and an array `params` (other members, such as "jsonrpc", are ignored), or nests deeper
 * than MAX_DEPTH (which would exhaust the stack of whatever walks the params). Never throws.
 */
export function parseRequest(text: string): RpcRequest | null {
  const value = parseJson(text);
  return value === undefined ? null : requestOf(value);
}

/**
 * The JSON value of a text, or undefined when it is not JSON or nests deeper than MAX_DEPTH
 * (which would exhaust the stack of whatever walks it). Never throws.
 */
export function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  // Nesting deeper than MAX_DEPTH needs more than 2 × MAX_DEPTH characters: short bodies skip the scan.
  if (text.length > 2 * MAX_DEPTH && nestedDeeperThan(text, MAX_DEPTH)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A parsed JSON value as a request: an object with an integer `id`, a string `method` and an array `params`; else null. */
export function requestOf(value: unknown): RpcRequest | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { id, method, params } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return null;
  if (typeof method !== 'string' || !Array.isArray(params)) return null;
  return { id, method, params };
}

/** HTTP 200 with a result. */
export function resultReply(id: number, result: unknown): HttpReply {
  return { status: STATUS_OK, body: JSON.stringify({ error: null, result: result ?? null, id }), close: false };
}

/** HTTP 200 with a result given as JSON text. */
export function resultJsonReply(id: number, json: string): HttpReply {
  return { status: STATUS_OK, body: `{"error":null,"result":${json},"id":${id}}`, close: false };
}

/** An error envelope, HTTP 200 unless the status says otherwise (404 for an unknown method). */
export function errorReply(id: number, error: RpcError, status: string = STATUS_OK): HttpReply {
  return { status, body: JSON.stringify({ error: { code: error.code, message: error.message }, result: null, id }), close: false };
}
