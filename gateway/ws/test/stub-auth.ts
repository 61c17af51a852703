/**
 * The stub auth service of scenario W: GET /auth with `Authorization: good` → user 1, other tokens
 * → code 1 "bad token"; GET /sign?access_id=…&tonce=… with `Authorization: signed` → user 7;
 * /slow never answers; /garbage answers something that is not JSON. Records what it was asked.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubAuth {
  readonly url: string;
  /** Requests seen: method, path with query, Authorization header. */
  readonly seen: { method: string; path: string; authorization: string }[];
  close(): Promise<void>;
}

export async function startStubAuth(): Promise<StubAuth> {
  const seen: StubAuth['seen'] = [];
  const server = http.createServer((req, res) => {
    const authorization = req.headers.authorization ?? '';
    seen.push({ method: req.method ?? '', path: req.url ?? '', authorization });
    const path = (req.url ?? '').split('?')[0];
    const json = (body: unknown): void => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    switch (path) {
      case '/auth':
        json(authorization === 'good' ? { code: 0, message: 'ok', data: { user_id: 1 } } : { code: 1, message: 'bad token' });
        return;
      case '/sign':
        json(authorization === 'signed' ? { code: 0, message: 'ok', data: { user_id: 7 } } : { code: 2, message: 'bad signature' });
        return;
      case '/zero':
        json({ code: 0, message: 'ok', data: { user_id: 0 } });
        return;
      case '/garbage':
        res.end('this is not json');
        return;
      case '/slow':
        return; // never answers
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
