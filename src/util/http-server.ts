// An HTTP server hardened the same way for every listener of the daemon (the metrics page, the
// Docker volume plugin): request line and headers bounded in size and time (slowloris), the
// whole request bounded in time, idle sockets closed, a bounded number of connections, strict
// parsing; a malformed request is answered with its status if the socket still can and dropped,
// and a socket error never reaches the event loop. Routing and bodies are the caller's.
import http from 'node:http';
import type { Socket } from 'node:net';

export interface HttpServerLimits {
  /** bytes of the request line and headers together */
  headerBytes: number;
  /** ms to receive the request line and headers */
  headersMs: number;
  /** ms to receive the whole request */
  requestMs: number;
  /** ms a keep-alive connection stays open idle */
  keepAliveMs: number;
  /** ms of socket inactivity before it is closed */
  idleMs: number;
  connections: number;
}

export function hardenedHttpServer(limits: HttpServerLimits): http.Server {
  const server = http.createServer({
    maxHeaderSize: limits.headerBytes,
    headersTimeout: limits.headersMs,
    requestTimeout: limits.requestMs,
    keepAliveTimeout: limits.keepAliveMs,
    connectionsCheckingInterval: 500,
    insecureHTTPParser: false,
    joinDuplicateHeaders: false,
  });
  server.maxConnections = limits.connections;
  server.setTimeout(limits.idleMs, (s: Socket) => s.destroy());
  // malformed requests, oversized headers, timeouts: answer if the socket still can, drop it
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    if (socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
  server.on('connection', (s: Socket) => s.on('error', () => s.destroy()));
  return server;
}

/** Listen (host:port or a unix socket path); rejects with the listen error (EADDRINUSE...). */
export function listenServer(server: http.Server, at: { host: string; port: number } | string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (typeof at === 'string') server.listen(at, done);
    else server.listen({ host: at.host, port: at.port }, done);
  });
}

/** Stop accepting and drop the open connections; resolves once the server is closed. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
}
