// Unix control socket of the daemon: root only (the directory is 0700, the socket 0600).
// One request line per connection, one answer line, then the connection is closed; or, for
// a stream (`events` with follow), the answer line then one JSON line per pushed record until
// either side closes. Every client is bounded: its line (MAX_REQUEST_BYTES), the time to send
// it, the number of connections open at once (streams included), and what a stream may have
// unsent (a follower that does not read is dropped, never waited for); nothing a client sends
// can throw past this file.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../log.js';
import { MAX_REQUEST_BYTES, parseRequest, type ControlStats, type DropReason, type Request, type Response } from './control-protocol.js';
import { LineFramer } from './control-framer.js';
import { ControlCounters } from './control-counters.js';

/** An answer that keeps the connection open: `first`, then what `subscribe` pushes. */
export interface StreamAnswer {
  stream: true;
  first: Response;
  /** push gets ready-made text (JSON lines); returns the unsubscribe function */
  subscribe(push: (text: string) => void): () => void;
}

/** An answer already serialized: `raw` is the JSON text of a Response, without the newline (the view, built from cached parts). */
export interface RawAnswer {
  raw: string;
}

export type Handler = (req: Request) => Promise<Response | StreamAnswer | RawAnswer>;

const isStream = (r: Response | StreamAnswer | RawAnswer): r is StreamAnswer => (r as StreamAnswer).stream === true;
const isRaw = (r: Response | RawAnswer): r is RawAnswer => typeof (r as RawAnswer).raw === 'string';

export interface ControlLimits {
  /** longest request line, newline excluded */
  maxLineBytes: number;
  /** from connect to the request's newline: an idle or dribbling client is closed after it */
  requestTimeoutMs: number;
  /** after the answer: a client that does not close is closed after it */
  lingerMs: number;
  /** connections open at once; more are answered an error and closed */
  maxConnections: number;
  /** bytes a stream may hold unsent (beyond the kernel's socket buffer): past it the client is dropped */
  maxStreamBacklog: number;
}

/** FERRY_CONTROL_STREAM_BACKLOG (bytes, 4 KiB to 64 MiB) replaces the 1 MiB of maxStreamBacklog: tests of slow followers */
function streamBacklog(): number {
  const v = Number(process.env.FERRY_CONTROL_STREAM_BACKLOG);
  return Number.isInteger(v) && v >= 4096 && v <= 64 * 1024 * 1024 ? v : 1024 * 1024;
}

export const CONTROL_LIMITS: ControlLimits = { maxLineBytes: MAX_REQUEST_BYTES, requestTimeoutMs: 10_000, lingerMs: 2_000, maxConnections: 64, maxStreamBacklog: streamBacklog() };

/** bytes read (and dropped) after the request line before the server stops reading */
const DISCARD_BYTES = 64 * 1024;

export interface ControlServer extends net.Server {
  /** connections, answers and drops by reason since the daemon started */
  stats(): ControlStats;
}

function answerLine(res: Response | RawAnswer): string {
  if (isRaw(res)) return res.raw + '\n';
  try {
    return JSON.stringify(res) + '\n';
  } catch (e) {
    return JSON.stringify({ ok: false, error: `internal error: the answer cannot be sent (${e instanceof Error ? e.message : String(e)})` }) + '\n';
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function listenControl(socketPath: string, handler: Handler, log: Logger, limits: Partial<ControlLimits> = {}): Promise<ControlServer> {
  const lim: ControlLimits = { ...CONTROL_LIMITS, ...limits };
  const counters = new ControlCounters();
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(socketPath), 0o700);
  // a socket file left by a crashed daemon: refuse if a live daemon answers on it
  if (fs.existsSync(socketPath)) {
    const alive = await new Promise<boolean>((resolve) => {
      const c = net.connect(socketPath, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (alive) throw new Error(`another daemon answers on ${socketPath}`);
    fs.rmSync(socketPath, { force: true });
  }

  const dropped = (reason: DropReason, detail: Record<string, unknown> = {}): void => {
    if (counters.drop(reason, Date.now())) {
      log.warn({ event: 'control-drop', reason, count: counters.count(reason), ...detail }, `control socket: dropped a client (${reason})`);
    }
  };

  /** open streams: ended when the server closes (close() waits for every connection) */
  const streams = new Map<net.Socket, () => void>();

  const server = net.createServer((conn) => {
    conn.on('error', () => undefined);
    counters.connections++;
    let state: 'reading' | 'answering' | 'streaming' | 'done' = 'reading';
    let unsubscribe: (() => void) | undefined;
    let received = 0;
    let linger: NodeJS.Timeout | undefined;
    const framer = new LineFramer(lim.maxLineBytes);

    /** the one answer of this connection; the client has lingerMs to read it and close */
    const finish = (res: Response | RawAnswer): void => {
      state = 'done';
      clearTimeout(deadline);
      counters.answered++;
      if (!conn.destroyed) conn.end(answerLine(res));
      linger = setTimeout(() => conn.destroy(), lim.lingerMs);
    };

    const deadline = setTimeout(() => {
      if (state !== 'reading') return;
      dropped('timeout', { bytes: received, ms: lim.requestTimeoutMs });
      finish({ ok: false, error: `bad request: no complete request line within ${lim.requestTimeoutMs} ms` });
    }, lim.requestTimeoutMs);

    /** the answer line, then pushed lines until the client or the server closes */
    const stream = (a: StreamAnswer): void => {
      if (conn.destroyed) return;
      state = 'streaming';
      counters.answered++;
      const first = answerLine(a.first);
      conn.write(first);
      // the answer line (the ring's backlog) may still be unsent: it does not count against the backlog
      const allowed = lim.maxStreamBacklog + Buffer.byteLength(first);
      const off = a.subscribe((text) => {
        if (conn.destroyed) return;
        if (conn.writableLength + text.length > allowed) {
          const pending = conn.writableLength;
          end();
          dropped('slow-client', { pending, max: lim.maxStreamBacklog });
          return;
        }
        conn.write(text);
      });
      unsubscribe = () => {
        unsubscribe = undefined;
        off();
      };
      streams.set(conn, end);
    };
    /** unsubscribed at once (the close event comes later), then closed */
    const end = (): void => {
      unsubscribe?.();
      streams.delete(conn);
      conn.destroy();
    };

    conn.on('close', () => {
      counters.connections--;
      streams.delete(conn);
      unsubscribe?.();
      clearTimeout(deadline);
      clearTimeout(linger);
      if (state === 'reading' && received > 0) dropped('incomplete', { bytes: received });
    });

    let discarded = 0;
    conn.on('data', (chunk: Buffer) => {
      if (state !== 'reading') {
        // nothing is kept after the request; a client that pushes on is no longer read (its
        // writes block) so that it can still read its answer before lingerMs closes it
        discarded += chunk.length;
        if (discarded > DISCARD_BYTES) conn.pause();
        return;
      }
      received += chunk.length;
      const framed = framer.push(chunk);
      if (framed.kind === 'more') return;
      if (framed.kind === 'too-long') {
        dropped('line-too-long', { bytes: received, max: lim.maxLineBytes });
        finish({ ok: false, error: `bad request: request line longer than ${lim.maxLineBytes} bytes` });
        return;
      }
      const parsed = parseRequest(framed.line);
      if (!parsed.ok) {
        dropped(parsed.reason, { bytes: framed.line.length });
        finish({ ok: false, error: parsed.error });
        return;
      }
      state = 'answering';
      clearTimeout(deadline);
      const req = parsed.request;
      // a then() chain: a handler that throws synchronously rejects instead
      Promise.resolve()
        .then(() => handler(req))
        .then(
          (res) => (isStream(res) ? stream(res) : finish(res)),
          (e: unknown) => {
            dropped('handler-failed', { op: req.op, err: errorText(e) });
            finish({ ok: false, error: errorText(e) });
          },
        );
    });

    if (counters.connections > lim.maxConnections) {
      dropped('too-many-connections', { max: lim.maxConnections });
      finish({ ok: false, error: `too many control connections (${lim.maxConnections} open): try again` });
    }
  }) as ControlServer;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // after listen (e.g. EMFILE on accept): logged, never an uncaught 'error' event
  server.on('error', (e) => log.error({ event: 'control-server-error', err: errorText(e) }, 'control socket error'));
  fs.chmodSync(socketPath, 0o600);
  server.stats = () => ({ ...counters.snapshot(), followers: streams.size });
  const close = server.close.bind(server);
  server.close = (cb?: (err?: Error) => void) => {
    for (const end of [...streams.values()]) end();
    return close(cb);
  };
  return server;
}
