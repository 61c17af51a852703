/**
 * Who may call the admin methods (balance.update). The rules, from `http.admin` in the config:
 * - a configured token is required everywhere (`Authorization: Bearer <token>`, compared in constant time);
 * - on the admin listener (http.admin.port, bound to http.admin.host) that is the only condition;
 * - on the public listener it depends on `public_access`: "loopback" (the default) admits only
 *   clients connected from 127.0.0.1 / ::1 whose request carries no proxy header, "token" admits
 *   any client with the token, "none" admits nobody.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpAdminConfig } from '../../conf/schema.js';

export type Listener = 'public' | 'admin';

/** What the transport knows about the client of one request. */
export interface ClientInfo {
  /** The `authorization` header, '' when absent (read only when a token is configured). */
  readonly authorization: string;
  /** Whether the request carries X-Forwarded-For, Forwarded or X-Real-IP (a proxy on this host relayed it). */
  readonly proxied: boolean;
  /** The peer's address, 4 (IPv4) or 16 (IPv6) bytes. */
  remoteAddress(): Uint8Array;
}

/** Headers that reveal a reverse proxy: behind one, every client would look like loopback. */
export const PROXY_HEADERS: readonly string[] = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** 127.0.0.0/8, ::1, and IPv4-mapped 127.0.0.0/8 (::ffff:127.x.y.z). */
export function isLoopback(address: Uint8Array): boolean {
  if (address.length === 4) return address[0] === 127;
  if (address.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (address[i] !== 0) return false;
  if (address[10] === 0 && address[11] === 0) {
    for (let i = 12; i < 15; i++) if (address[i] !== 0) return false;
    return address[15] === 1;
  }
  return address[10] === 0xff && address[11] === 0xff && address[12] === 127;
}

export class AdminAccess {
  private readonly tokenDigest: Buffer | null;
  private readonly publicAccess: HttpAdminConfig['public_access'];

  constructor(config: Readonly<HttpAdminConfig>) {
    this.tokenDigest = config.token === undefined ? null : digest(config.token);
    this.publicAccess = config.public_access;
  }

  /** Whether requests on this listener need their `authorization` header read. */
  readsAuthorization(): boolean {
    return this.tokenDigest !== null;
  }

  /** Whether requests on this listener need the proxy headers read. */
  readsProxyHeaders(listener: Listener): boolean {
    return listener === 'public' && this.publicAccess === 'loopback';
  }

  /** Whether this client may call an admin method on this listener. */
  allows(listener: Listener, client: ClientInfo): boolean {
    if (this.tokenDigest !== null && !this.tokenMatches(client.authorization)) return false;
    if (listener === 'admin') return true;
    switch (this.publicAccess) {
      case 'none':
        return false;
      case 'token':
        return this.tokenDigest !== null;
      case 'loopback':
        return !client.proxied && isLoopback(client.remoteAddress());
    }
  }

  /** Constant-time comparison (of SHA-256 digests, so that the length does not leak either). */
  private tokenMatches(authorization: string): boolean {
    if (this.tokenDigest === null) return false;
    const presented = BEARER.exec(authorization)?.[1];
    if (presented === undefined) return false;
    return timingSafeEqual(digest(presented), this.tokenDigest);
  }
}
