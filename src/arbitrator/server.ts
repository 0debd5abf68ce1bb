// The quorum arbitrator: a tiny HTTP service that gives its vote to ONE partition of a cluster
// at a time, through a lease. A partition (a set of nodes that see each other) asks for the
// vote and renews it every second; while its lease lives, any other member set is refused.
// A reachability check would not do: both halves of a two-node split reach the arbitrator.
//
// Leases live in memory only. A restarted arbitrator has no lease, which is the state of a
// lease that expired — provided the old holder has stopped counting its last grant by the
// time anyone can get the vote again. A quick restart (systemctl restart) during a split
// would break that: the holder still counts a grant it got a second before, the other side
// asks first and gets the vote. Hence the restart hold (restartHoldMs): no grant at all for
// a while after start, longer than any node counts a grant. Persisting leases would add disk
// I/O to every renewal; safety rests on expiry, not on remembering the holder.
//
// Hostile input: handler.ts decides every answer and never throws; this file caps what a
// client can make the process hold (head size, body size, time, connections) and answers
// every parse error itself instead of letting it escape. See docs/arbitrator.md.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../log.js';
import { ArbitratorCore, type Lease, type Reply, type SecretSource } from './handler.js';
import type { ArbitratorCounters, DropReason } from './drops.js';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES, VOTE_PATH } from './protocol.js';

export type { Lease, SecretSource } from './handler.js';

/** The request head must be complete within this (slowloris): 408 and close. */
export const HEADERS_TIMEOUT_MS = 5_000;
/** The whole request, body included, must be complete within this: 408 and close. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** How often Node checks the two timeouts above (its default, 30 s, would let them overrun). */
const TIMEOUT_CHECK_MS = 500;
/** An idle keep-alive connection is closed after this. */
const KEEP_ALIVE_MS = 5_000;
/** Open connections past this are closed on accept. A cluster has a few nodes asking once a second. */
export const MAX_CONNECTIONS = 512;
/** Body bytes read and thrown away after a 413 before the connection is cut. */
const MAX_DRAIN_BYTES = 1024 * 1024;

export interface ArbitratorOptions {
  /** address to listen on ("0.0.0.0", "::", "127.0.0.1") */
  host: string;
  /** 0 picks a free port (see handle.port) */
  port: number;
  secrets: SecretSource;
  log: Logger;
  /** request path served (default /vote); anything else is 404 */
  path?: string;
  /**
   * ms after start during which no vote is granted (503): longer than any node counts a
   * grant, so that a grant made before a restart has run out on its holder's side before
   * the restarted arbitrator, which remembers nothing, can give the vote to anyone else.
   * Default 0 (tests); `nodemgr arbitrator` uses RESTART_HOLD_DEFAULT_MS.
   */
  restartHoldMs?: number;
  /** head timeout, ms (default HEADERS_TIMEOUT_MS; tests) */
  headersTimeoutMs?: number;
  /** whole-request timeout, ms (default REQUEST_TIMEOUT_MS; tests) */
  requestTimeoutMs?: number;
  /** open connections allowed (default MAX_CONNECTIONS; tests) */
  maxConnections?: number;
  /** clock, epoch ms (tests) */
  now?: () => number;
}

/** Default restart hold of `nodemgr arbitrator`: above the 4 s a ferry node counts a grant, with margin. */
export const RESTART_HOLD_DEFAULT_MS = 10_000;

export interface ArbitratorHandle {
  host: string;
  /** the bound port */
  port: number;
  /** current lease of a cluster, if live (for tests and diagnostics) */
  lease(cluster: string): Lease | undefined;
  /** what was dropped and answered since start, by reason (also GET /status from loopback) */
  counters(): ArbitratorCounters;
  /** stop listening and drop every connection; leases are forgotten */
  close(): Promise<void>;
}

const isLoopback = (a: string | undefined): boolean => a !== undefined && (a === '::1' || /^(::ffff:)?127\./.test(a));

/** What a parse error from Node's HTTP parser is, as a drop. */
function clientErrorReply(code: string | undefined): { reason: DropReason; status: number; text: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { reason: 'headers_too_large', status: 431, text: `request head larger than ${MAX_HEADER_BYTES} bytes` };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT') return { reason: 'timeout', status: 408, text: 'request not received in time' };
  return { reason: 'bad_request', status: 400, text: 'malformed HTTP request' };
}

function serialize(rep: Reply, close: boolean): { head: Record<string, string | number>; text: string } {
  const text = JSON.stringify(rep.body);
  return { text, head: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...(close ? { connection: 'close' } : {}), ...(rep.headers ?? {}) } };
}

/** Answer on a socket Node's HTTP server gave up on (no ServerResponse), then close it. */
function endRaw(socket: Socket, rep: Reply): void {
  // Node no longer listens for errors on a CONNECT socket: one unheard EPIPE would kill the process
  socket.on('error', () => socket.destroy());
  const { head, text } = serialize(rep, true);
  const lines = Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${rep.status} ${http.STATUS_CODES[rep.status] ?? ''}\r\n${lines}\r\n${text}`);
  // a peer that never reads nor closes does not keep the socket
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/** Start an arbitrator; resolves once it listens. */
export async function startArbitrator(o: ArbitratorOptions): Promise<ArbitratorHandle> {
  const now = o.now ?? Date.now;
  const log = o.log.child({ component: 'arbitrator' });
  const core = new ArbitratorCore({ secrets: o.secrets, log, path: o.path ?? VOTE_PATH, startedAt: now(), restartHoldMs: o.restartHoldMs ?? 0 });
  const remoteOf = (s: Socket): string => `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const remote = remoteOf(req.socket);
    const send = (rep: Reply, close = false): void => {
      if (res.headersSent || res.destroyed) return;
      const { head, text } = serialize(rep, close);
      res.writeHead(rep.status, head);
      res.end(text);
    };
    // every callback below runs under this: an exception is a counted 500 (or a cut
    // connection once an answer started), never an uncaught error that ends the process
    const guard =
      <A extends unknown[]>(fn: (...a: A) => void) =>
      (...a: A): void => {
        try {
          fn(...a);
        } catch (e) {
          try {
            send(core.drop('internal_error', 500, 'internal error', now(), { remote, err: e }), true);
          } catch {
            req.socket.destroy();
          }
        }
      };
    const declared = Number(req.headers['content-length'] ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    let refused = false;
    const refuseBig = (): void => {
      if (refused) return;
      refused = true;
      send(core.drop('body_too_large', 413, `request body larger than ${MAX_BODY_BYTES} bytes`, now(), { remote, size: Math.max(size, declared || 0) }), true);
    };
    // A body past the cap is read to its end and thrown away before the 413 goes out: a
    // connection closed while the client still sends is reset, and the reset can destroy
    // the 413 on its way. Past MAX_DRAIN_BYTES (declared or sent) the answer goes out at
    // once and the connection is cut.
    guard(() => {
      if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) {
        tooBig = true;
        refuseBig();
      }
    })();
    const onData = guard((c: Buffer) => {
      size += c.length;
      if (size > MAX_DRAIN_BYTES) {
        refuseBig();
        req.socket.destroySoon();
        return;
      }
      if (size > MAX_BODY_BYTES) {
        tooBig = true;
        chunks.length = 0;
        return;
      }
      if (!tooBig) chunks.push(c);
    });
    const onEnd = guard(() => {
      if (tooBig) {
        refuseBig();
        return;
      }
      const rep = core.handle({ method: req.method ?? '', url: req.url ?? '/', body: Buffer.concat(chunks), remote, local: isLoopback(req.socket.remoteAddress) }, now());
      send(rep, rep.close === true);
    });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => req.socket.destroy());
    res.on('error', () => req.socket.destroy());
  };

  const server = http.createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: o.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
      requestTimeout: o.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
      keepAliveTimeout: KEEP_ALIVE_MS,
      // no Host is no reason for Node to answer in our place, uncounted: the handler decides
      requireHostHeader: false,
    },
    onRequest,
  );
  server.maxHeadersCount = 64;
  server.maxRequestsPerSocket = 1000;
  const maxConnections = o.maxConnections ?? MAX_CONNECTIONS;
  server.maxConnections = maxConnections;
  // Node's parser refuses the request (bad request line, bad header, head too large, too
  // slow): answer it ourselves, count it, close the connection; never let it escape
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    try {
      const c = clientErrorReply(err.code);
      const rep = core.drop(c.reason, c.status, c.text, now(), { remote: remoteOf(socket), code: err.code });
      // as Node's own handler: no answer if a response already started on this socket
      const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (!socket.writable || inFlight?.headersSent) {
        socket.destroy();
        return;
      }
      endRaw(socket, rep);
    } catch {
      socket.destroy();
    }
  });
  // CONNECT would otherwise be closed silently, uncounted
  server.on('connect', (_req: http.IncomingMessage, socket: Socket) => {
    try {
      endRaw(socket, core.drop('bad_method', 405, 'POST a vote request', now(), { remote: remoteOf(socket), method: 'CONNECT' }));
    } catch {
      socket.destroy();
    }
  });
  server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
    core.drop('connection_limit', 0, `more than ${maxConnections} open connections`, now(), { remote: `${data?.remoteAddress ?? '?'}:${data?.remotePort ?? '?'}` });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log.error({ event: 'arbitrator.server_error', err: e }, 'arbitrator server error'));
  const bound = server.address() as AddressInfo;
  log.info({ event: 'arbitrator.listening', host: bound.address, port: bound.port, path: core.path, restartHoldMs: o.restartHoldMs ?? 0 }, 'arbitrator listening');
  // the counters' summary line also comes when nothing is asked any more
  const summary = setInterval(() => core.counters.summarize(now()), 60_000);
  summary.unref();

  return {
    host: bound.address,
    port: bound.port,
    lease: (cluster: string) => core.lease(cluster, now()),
    counters: () => core.counters.snapshot(),
    close(): Promise<void> {
      clearInterval(summary);
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        core.counters.summarize(now(), true);
        log.info({ event: 'arbitrator.stopped' }, 'arbitrator stopped');
      });
    },
  };
}
