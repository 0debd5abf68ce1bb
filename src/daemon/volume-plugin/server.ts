// The volume plugin's listener: HTTP POST on a unix socket, /run/docker/plugins/<name>.sock
// (where dockerd discovers plugins). Hardened as every input of the daemon: headers and body
// bounded in size and time, a bounded number of connections, POST only; a bad request is
// answered `{"Err": ...}` (or the socket dropped) and nothing here can throw into the event
// loop. A socket file left by a dead daemon is replaced; one another process answers on is not.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../../log.js';
import { EVENT } from '../../events.js';
import { CONTENT_TYPE, parseRequest, type PluginRequest } from './protocol.js';
import { closeServer, hardenedHttpServer, listenServer, type HttpServerLimits } from '../../util/http-server.js';

export const PLUGIN_DIR = '/run/docker/plugins';

export const PLUGIN_LIMITS: HttpServerLimits & { bodyBytes: number } = {
  headerBytes: 8 * 1024,
  bodyBytes: 64 * 1024,
  headersMs: 5_000,
  requestMs: 10_000,
  keepAliveMs: 5_000,
  idleMs: 30_000,
  connections: 32,
};

export interface PluginListener {
  socket: string;
  close(): Promise<void>;
}

export function pluginSocketPath(name: string, dir = process.env.FERRY_DOCKER_PLUGIN_DIR ?? PLUGIN_DIR): string {
  return path.join(dir, `${name}.sock`);
}

function answers(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(p);
    const done = (v: boolean) => (c.destroy(), resolve(v));
    c.setTimeout(1_000, () => done(false));
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const buf = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': String(buf.length) });
  res.end(buf);
}

/** Listen on `socket`, answering each well-formed request with `handle`. Throws when it cannot listen. */
export async function listenPlugin(socket: string, handle: (req: PluginRequest) => Record<string, unknown>, log: Logger): Promise<PluginListener> {
  fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o755 });
  if (fs.existsSync(socket)) {
    if (!fs.lstatSync(socket).isSocket()) throw new Error(`${socket} exists and is not a socket`);
    if (await answers(socket)) throw new Error(`${socket} is served by another process`);
    fs.rmSync(socket, { force: true });
  }
  const server = hardenedHttpServer(PLUGIN_LIMITS);
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const fail = (e: unknown) => {
      log.warn({ event: EVENT.volumePluginError, socket, err: e instanceof Error ? e.message : String(e) }, 'volume plugin: answer failed');
      if (!res.headersSent) send(res, 500, { Err: 'internal error' });
      else res.destroy();
    };
    try {
      if (req.method !== 'POST') {
        res.shouldKeepAlive = false;
        req.resume();
        return send(res, 405, { Err: 'method not allowed: POST only' });
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (!Number.isFinite(declared) || declared > PLUGIN_LIMITS.bodyBytes) {
        res.shouldKeepAlive = false;
        send(res, 413, { Err: `request body larger than ${PLUGIN_LIMITS.bodyBytes} bytes` });
        return void req.destroy();
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        if (over) return;
        size += c.length;
        if (size > PLUGIN_LIMITS.bodyBytes) {
          over = true;
          res.shouldKeepAlive = false;
          send(res, 413, { Err: `request body larger than ${PLUGIN_LIMITS.bodyBytes} bytes` });
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('error', () => req.destroy());
      req.on('end', () => {
        if (over) return;
        try {
          const url = (req.url ?? '').split('?')[0]!;
          const p = parseRequest(url, Buffer.concat(chunks).toString('utf8'));
          if ('err' in p) {
            log.warn({ event: EVENT.volumeRefused, op: url.slice(0, 80), err: p.err }, `volume plugin: ${p.err}`);
            return send(res, p.status, { Err: p.err });
          }
          // a refusal is an error status with its Err (podman reads Err only then; docker either way)
          const a = handle(p.req);
          send(res, typeof a.Err === 'string' && a.Err !== '' ? 500 : 200, a);
        } catch (e) {
          fail(e);
        }
      });
    } catch (e) {
      fail(e);
    }
  });
  await listenServer(server, socket);
  fs.chmodSync(socket, 0o600);
  server.on('error', (e: Error) => log.warn({ event: EVENT.volumePluginError, socket, err: e.message }, `volume plugin: ${e.message}`));
  return {
    socket,
    close: async () => {
      await closeServer(server);
      fs.rmSync(socket, { force: true });
    },
  };
}
