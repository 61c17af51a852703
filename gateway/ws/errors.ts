/**
 * Errors only the WebSocket gateway gives (the shared catalog is gateway/rpc/errors.ts).
 * Code 11 is server.auth / server.sign's "not authenticated", as in the original; code 3 is the
 * common "service unavailable", here with a message that says why.
 */
import type { RpcError } from '../rpc/errors.js';

/** Built-in verification failed (unknown token or key, wrong signature, replayed tonce). */
export const AUTH_FAIL: RpcError = { code: 11, message: 'auth fail' };
/** server.sign's tonce is too far from the server's clock. */
export const TONCE_OUT_OF_WINDOW: RpcError = { code: 11, message: 'tonce out of window' };
/** More requests in one second than ws.max_requests_per_second. */
export const TOO_MANY_REQUESTS: RpcError = { code: 3, message: 'too many requests' };
