/**
 * The upgrade rules of the original accessws: when ws.origin is set, the Origin header must end
 * with it; when the client offers subprotocols, the list must contain ws.protocol ("chat") and the
 * reply names it; a client that offers none gets none. Anything else is refused with 400.
 */
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import type { WsConfig } from '../../conf/schema.js';

export interface SessionSlot<T> {
  session: T | null;
}

export function upgrade<T>(ws: Readonly<WsConfig>, res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
  const key = req.getHeader('sec-websocket-key');
  const offered = req.getHeader('sec-websocket-protocol');
  const extensions = req.getHeader('sec-websocket-extensions');
  const origin = req.getHeader('origin');
  const protocols = offered === '' ? [] : offered.split(',').map((s) => s.trim());
  if ((ws.origin !== '' && !origin.endsWith(ws.origin)) || (protocols.length > 0 && !protocols.includes(ws.protocol))) {
    res.writeStatus('400 Bad Request').end('', true);
    return;
  }
  const slot: SessionSlot<T> = { session: null };
  res.upgrade(slot, key, protocols.length > 0 ? ws.protocol : '', extensions, context);
}
