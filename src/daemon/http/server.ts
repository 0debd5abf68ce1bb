// The daemon's one HTTP listener ([cluster] metrics_listen, docs/metrics.md): read-only, three
// paths, GET and HEAD only. Hardened against what a hostile or broken client sends: headers
// bounded in size and time (slowloris), the whole request bounded in time, no request body,
// a bounded number of connections; a bad request is answered (or the socket dropped) and never
// reaches the daemon. Nothing here can throw into the event loop.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../log.js';
import { EVENT } from '../../events.js';
import type { HostPort } from '../../util/host-port.js';
import { closeServer, hardenedHttpServer, listenServer, type HttpServerLimits } from '../../util/http-server.js';

export const HTTP_LIMITS: HttpServerLimits = {
  /** bytes of the request line and headers together */
  headerBytes: 8 * 1024,
  /** ms to receive the request line and headers */
  headersMs: 5_000,
  /** ms to receive the whole request */
  requestMs: 10_000,
  /** ms a keep-alive connection stays open idle */
  keepAliveMs: 5_000,
  /** ms of socket inactivity before it is closed */
  idleMs: 15_000,
  connections: 64,
};

export interface Page {
  type: string;
  body: string | Buffer;
}

/** What the listener serves: each route yields its page (may throw: that is a 500). */
export type Routes = Record<string, () => Page | Promise<Page>>;

export interface HttpListener {
  address(): AddressInfo;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function send(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(buf.length), ...extra });
  res.end(req.method === 'HEAD' ? undefined : buf);
}

export async function listenHttp(at: HostPort, routes: Routes, log: Logger): Promise<HttpListener> {
  const server = hardenedHttpServer(HTTP_LIMITS);
  server.maxRequestsPerSocket = 100;
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      try {
        // a body is never expected: do not read it, close after the answer
        const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
        if (hasBody) {
          res.shouldKeepAlive = false;
          return send(req, res, 413, 'text/plain; charset=utf-8', 'request body not accepted\n', { connection: 'close' });
        }
        if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
        const path = (req.url ?? '').split('?')[0]!;
        const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
        if (!route) return send(req, res, 404, 'text/plain; charset=utf-8', 'not found\n');
        const page = await route();
        send(req, res, 200, page.type, page.body);
      } catch (e) {
        log.warn({ event: EVENT.httpError, err: e instanceof Error ? e.message : String(e), url: String(req.url).slice(0, 200) }, 'http: answer failed');
        if (!res.headersSent) send(req, res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      }
    })();
  });
  await listenServer(server, at);
  server.on('error', (e: Error) => log.warn({ event: EVENT.httpError, err: e.message }, `http: ${e.message}`));
  const addr = server.address() as AddressInfo;
  log.info({ event: EVENT.httpListening, addr: addr.address, port: addr.port }, `http listening on ${addr.address}:${addr.port}`);
  return {
    address: () => addr,
    close: () => closeServer(server),
  };
}
