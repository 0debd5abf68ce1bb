// Client side of the control socket, for svcmgr, svcmon and nodemgr.
import net from 'node:net';
import type { FerryPaths } from '../paths.js';
import { controlSocketPath, type Request, type Response } from './control-protocol.js';

export class DaemonUnreachable extends Error {}
/** The socket exists but this user may not connect (not root): a daemon may well be running. */
export class DaemonNoAccess extends Error {}

export function askDaemon(paths: FerryPaths, req: Request, timeoutMs = 10_000): Promise<Response> {
  const socketPath = controlSocketPath(paths);
  return new Promise((resolve, reject) => {
    let buf = '';
    const conn = net.connect(socketPath);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new DaemonUnreachable(`the daemon did not answer within ${timeoutMs} ms on ${socketPath}`));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(JSON.stringify(req) + '\n'));
    conn.on('data', (c: string) => {
      buf += c;
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as Response);
      } catch {
        reject(new Error(`bad answer from the daemon: ${buf.slice(0, 200)}`));
      }
    });
    conn.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'EACCES' || e.code === 'EPERM') return reject(new DaemonNoAccess(`cannot reach the daemon at ${socketPath}: permission denied (run as root)`));
      reject(new DaemonUnreachable(`the daemon is not running (${socketPath}: ${e.code ?? e.message})`));
    });
  });
}
