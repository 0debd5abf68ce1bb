// The client end of a bulk stream: dial the peer's state channel (the routes of its network
// heartbeats, in order), authenticate, OPEN, then pipe a local readable/writable pair (the
// transport's stdin/stdout) through DATA frames until the peer's command exits.
import net from 'node:net';
import type { ChannelKeys } from './crypto.js';
import { SecureConn } from './connection.js';
import { MSG, parseJson } from './protocol.js';
import type { StreamExit, StreamOpen } from './stream-protocol.js';
import { HIGH_WATER, jsonBody, parseExit, STREAM, STREAM_CHUNK } from './stream-protocol.js';

export interface StreamClientOptions {
  keys: ChannelKeys;
  self: string;
  peer: string;
  nodes: readonly string[];
  routes: readonly { addr: string; port: number }[];
  /** the OPEN; a promise: sent once it resolves, the connection already authenticated (a pre-opened stream) */
  open: StreamOpen | Promise<StreamOpen>;
  /** the connection is authenticated (before the OPEN is sent) */
  connected?: () => void;
  /** the peer's command runs (READY) */
  streaming?: () => void;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  errors: NodeJS.WritableStream;
  /** the whole stream, ms */
  timeoutMs: number;
}

const HANDSHAKE_MS = 5_000;
const IDLE_MS = 60_000;
const PING_MS = 15_000;

export class StreamError extends Error {}

/** bytes buffered in a writable (process.stdout is one); unknown: as if full, pause at once */
const writableLength = (w: NodeJS.WritableStream): number => {
  const n = (w as { writableLength?: unknown }).writableLength;
  return typeof n === 'number' ? n : Number.POSITIVE_INFINITY;
};

/** One attempt on one route; rejects with StreamError('connect: ...') when the route does not answer. */
function attempt(o: StreamClientOptions, route: { addr: string; port: number }): Promise<StreamExit> {
  return new Promise<StreamExit>((resolve, reject) => {
    let ready = false;
    let authed = false;
    let done = false;
    let outPaused = false;
    let ping: NodeJS.Timeout | undefined;
    const finish = (f: () => void): void => {
      if (done) return;
      done = true;
      if (ping) clearInterval(ping);
      clearTimeout(overall);
      o.input.removeListener('data', onInput);
      o.input.removeListener('end', onEnd);
      f();
    };
    const overall = setTimeout(() => conn.close('timeout', `stream not done in ${o.timeoutMs} ms`), o.timeoutMs);
    const onInput = (d: Buffer): void => {
      for (let i = 0; i < d.length; i += STREAM_CHUNK) conn.send(STREAM.DATA, d.subarray(i, i + STREAM_CHUNK));
      if (conn.socket.writableLength > HIGH_WATER) {
        o.input.pause();
        conn.socket.once('drain', () => o.input.resume());
      }
    };
    const onEnd = (): void => {
      conn.send(STREAM.EOF, jsonBody({}));
    };
    const socket = net.connect({ host: route.addr, port: route.port });
    const conn: SecureConn = new SecureConn(socket, {
      keys: o.keys, self: o.self, nodes: o.nodes, role: 'client', expectPeer: o.peer, handshakeTimeoutMs: HANDSHAKE_MS, idleTimeoutMs: IDLE_MS,
      onReady: () => {
        ping = setInterval(() => conn.send(MSG.PING, Buffer.alloc(0)), PING_MS);
        authed = true;
        o.connected?.();
        Promise.resolve(o.open).then(
          (open) => {
            if (!done) conn.send(STREAM.OPEN, jsonBody(open));
          },
          (e: unknown) => {
            // not a connect error: no other route is tried
            finish(() => reject(new Error(`${o.peer}: no stream opened: ${(e as Error).message}`)));
            conn.close('closed', 'no stream opened');
          },
        );
      },
      onMessage: (type, body) => {
        switch (type) {
          case MSG.PONG:
            return;
          case STREAM.READY:
            if (ready) return conn.close('malformed', 'READY twice');
            ready = true;
            o.streaming?.();
            o.input.on('data', onInput);
            o.input.once('end', onEnd);
            o.input.resume();
            return;
          case STREAM.DATA:
            if (!ready || body.length > STREAM_CHUNK) return conn.close('malformed', 'unexpected DATA');
            // paused past HIGH_WATER only (not at each full pipe: stop-and-wait), as the server does
            if (!o.output.write(body) && writableLength(o.output) > HIGH_WATER && !outPaused) {
              outPaused = true;
              conn.socket.pause();
              o.output.once('drain', () => {
                outPaused = false;
                conn.socket.resume();
              });
            }
            return;
          case STREAM.STDERR:
            if (body.length <= STREAM_CHUNK) o.errors.write(body);
            return;
          case STREAM.EXIT: {
            const x = parseExit(body);
            if (!x) return conn.close('malformed', 'bad EXIT');
            finish(() => resolve(x));
            conn.close('closed', 'stream done');
            return;
          }
          case STREAM.REFUSED: {
            const x = parseJson(body) as { error?: unknown } | undefined;
            const why = typeof x?.error === 'string' ? x.error.slice(0, 500) : 'no reason given';
            finish(() => reject(new StreamError(`${o.peer} refused: ${why}`)));
            conn.close('closed', 'refused');
            return;
          }
          default:
            return conn.close('malformed', `unexpected message type ${type}`);
        }
      },
      onClose: (reason, detail) => {
        // a pre-opened stream that was authenticated is not tried again on another route
        const retry = !ready && !(authed && o.open instanceof Promise);
        finish(() => reject(new StreamError(`${retry ? 'connect: ' : ''}${o.peer} ${route.addr}:${route.port}: ${reason}: ${detail}`)));
      },
    });
    socket.once('connect', () => conn.startClient());
  });
}

/** Run the stream over the first route that connects; the peer's command's exit. */
export async function runStream(o: StreamClientOptions): Promise<StreamExit> {
  o.input.pause();
  let last: Error | undefined;
  for (const r of o.routes) {
    try {
      return await attempt(o, r);
    } catch (e) {
      last = e as Error;
      // a route that never got to READY: try the next network; anything later is final
      if (!(e instanceof StreamError) || !e.message.startsWith('connect: ')) throw e;
    }
  }
  throw last ?? new StreamError(`no state channel route to ${o.peer}`);
}
