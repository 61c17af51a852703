/**
 * The original accessws's authentication callouts: an HTTP GET to the operator's web service with
 * the client's credential in `Authorization`, answered by `{"code": 0, "data": {"user_id": n}}`.
 * code ≠ 0 → error 11 with the service's message; no answer in time → 5; anything unreadable → 2.
 */
import { INTERNAL_ERROR, SERVICE_TIMEOUT, type RpcError } from '../rpc/errors.js';

export type AuthOutcome = { readonly user: number } | { readonly error: RpcError };

/** Runs one callout: GET `url` with `authorization`; never rejects. */
export type Callout = (url: URL, authorization: string, timeoutMs: number) => Promise<AuthOutcome>;

const MAX_USER_ID = 0xffffffff;

/** The outcome a service's reply body stands for. */
export function calloutOutcome(body: string): AuthOutcome {
  let reply: unknown;
  try {
    reply = JSON.parse(body);
  } catch {
    return { error: INTERNAL_ERROR };
  }
  if (typeof reply !== 'object' || reply === null) return { error: INTERNAL_ERROR };
  const { code, message, data } = reply as Record<string, unknown>;
  if (typeof code !== 'number' || !Number.isSafeInteger(code)) return { error: INTERNAL_ERROR };
  if (code !== 0) return typeof message === 'string' ? { error: { code: 11, message } } : { error: INTERNAL_ERROR };
  const user = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).user_id : undefined;
  if (typeof user !== 'number' || !Number.isInteger(user) || user < 1 || user > MAX_USER_ID) return { error: INTERNAL_ERROR };
  return { user };
}

/** The callout over HTTP(S) with the headers the original sent. */
export const httpCallout: Callout = async (url, authorization, timeoutMs) => {
  try {
    const response = await fetch(url, {
      method: 'GET',
      headers: { Authorization: authorization, 'Accept-Language': 'en_US', 'Content-Type': 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    return calloutOutcome(await response.text());
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    return { error: name === 'TimeoutError' || name === 'AbortError' ? SERVICE_TIMEOUT : INTERNAL_ERROR };
  }
};

/** Whether `value` can travel in an HTTP header as it is (visible ASCII and spaces, no line breaks). */
export function headerSafe(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}
