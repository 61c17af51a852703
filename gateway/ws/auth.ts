/**
 * Who a connection is: server.auth [token, source] and server.sign [access_id, authorisation, tonce].
 *
 * Built-in verifier (ws.auth.tokens, ws.auth.keys): a token table, and API keys whose
 * authorisation is hex HMAC-SHA256(secret_key, "access_id=<id>&tonce=<tonce>"), compared in
 * constant time, with the tonce (ms) within ±tonce_window_ms of the server's clock and accepted
 * once. Credentials the tables do not know go to the original's callouts when ws.auth.auth_url /
 * sign_url are set, and fail with error 11 otherwise: nothing is open by default.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { WsAuthConfig } from '../../conf/schema.js';
import { INVALID_ARGUMENT } from '../rpc/errors.js';
import { headerSafe, httpCallout, type AuthOutcome, type Callout } from './auth-callout.js';
import { AUTH_FAIL, TONCE_OUT_OF_WINDOW } from './errors.js';

export type { AuthOutcome } from './auth-callout.js';

interface ApiKey {
  readonly secret: string;
  readonly user: number;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The string an API client signs for server.sign. */
export function signedText(accessId: string, tonce: number): string {
  return `access_id=${accessId}&tonce=${tonce}`;
}

/** The authorisation a client with `secret` sends for server.sign (hex HMAC-SHA256). */
export function signature(secret: string, accessId: string, tonce: number): string {
  return createHmac('sha256', secret).update(signedText(accessId, tonce)).digest('hex');
}

export class Authenticator {
  /** SHA-256 of each token → user: a lookup reveals nothing about the tokens through timing. */
  private readonly tokens = new Map<string, number>();
  private readonly keys = new Map<string, ApiKey>();
  /** Per access id, the tonces accepted within the window (a signature is good once). */
  private readonly usedTonces = new Map<string, Set<number>>();
  private readonly authUrl: URL | null;
  private readonly signUrl: URL | null;

  constructor(
    private readonly config: Readonly<WsAuthConfig>,
    private readonly clock: () => number,
    private readonly callout: Callout = httpCallout,
  ) {
    for (const [token, user] of Object.entries(config.tokens)) this.tokens.set(sha256(token), user);
    for (const key of config.keys) this.keys.set(key.access_id, { secret: key.secret_key, user: key.user_id });
    this.authUrl = config.auth_url === undefined ? null : new URL(config.auth_url);
    this.signUrl = config.sign_url === undefined ? null : new URL(config.sign_url);
  }

  /** server.auth: the token table, then the auth_url callout. */
  token(token: string): AuthOutcome | Promise<AuthOutcome> {
    const user = this.tokens.get(sha256(token));
    if (user !== undefined) return { user };
    if (this.authUrl === null) return { error: AUTH_FAIL };
    if (!headerSafe(token)) return { error: INVALID_ARGUMENT };
    return this.callout(this.authUrl, token, this.config.timeout_ms);
  }

  /** server.sign: the key table (window, signature, replay), then the sign_url callout. */
  sign(accessId: string, authorisation: string, tonce: number): AuthOutcome | Promise<AuthOutcome> {
    const key = this.keys.get(accessId);
    if (key === undefined && this.signUrl !== null) {
      if (!headerSafe(authorisation)) return { error: INVALID_ARGUMENT };
      const url = new URL(this.signUrl);
      url.searchParams.set('access_id', accessId);
      url.searchParams.set('tonce', String(tonce));
      return this.callout(url, authorisation, this.config.timeout_ms);
    }
    // Checked before the key is looked at, so that the answer does not tell which access ids exist.
    const now = this.clock();
    if (Math.abs(tonce - now) > this.config.tonce_window_ms) return { error: TONCE_OUT_OF_WINDOW };
    if (key === undefined || !sameSignature(authorisation, signature(key.secret, accessId, tonce))) return { error: AUTH_FAIL };
    if (!this.firstUse(accessId, tonce, now)) return { error: AUTH_FAIL };
    return { user: key.user };
  }

  /** Records a tonce; false when it was used already. Forgets tonces that left the window. */
  private firstUse(accessId: string, tonce: number, now: number): boolean {
    let used = this.usedTonces.get(accessId);
    if (used === undefined) {
      used = new Set();
      this.usedTonces.set(accessId, used);
    }
    for (const old of used) if (Math.abs(old - now) > this.config.tonce_window_ms) used.delete(old);
    if (used.has(tonce)) return false;
    used.add(tonce);
    return true;
  }
}

/** Constant-time comparison of a client's hex signature with the expected one. */
function sameSignature(given: string, expected: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'));
}
