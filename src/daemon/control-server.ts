// Unix control socket of the daemon: root only (the directory is 0700, the socket 0600).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { Request, Response } from './control-protocol.js';

export type Handler = (req: Request) => Promise<Response>;

export async function listenControl(socketPath: string, handler: Handler, log: Logger): Promise<net.Server> {
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
  const server = net.createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      let req: Request;
      try {
        req = JSON.parse(line) as Request;
      } catch {
        conn.end(JSON.stringify({ ok: false, error: 'bad request: not JSON' }) + '\n');
        return;
      }
      handler(req).then(
        (res) => conn.end(JSON.stringify(res) + '\n'),
        (e: unknown) => {
          log.error({ err: String(e), op: req.op }, 'control request failed');
          conn.end(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }) + '\n');
        },
      );
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return server;
}
