// Client side of the control socket, for svcmgr, svcmon and nodemgr. The answer is bounded in
// size (MAX_ANSWER_BYTES) and time (timeoutMs, the whole exchange).
import net from 'node:net';
import type { FerryPaths } from '../paths.js';
import { LineFramer } from './control-framer.js';
import { MAX_ANSWER_BYTES, controlSocketPath, parseResponse, type Request, type Response } from './control-protocol.js';

/** No daemon on the socket, or it did not answer in time. */
export class DaemonUnreachable extends Error {}
/** The socket exists but this user may not connect (not root): a daemon may well be running. */
export class DaemonNoAccess extends Error {
  constructor(
    readonly socketPath: string,
    /** EACCES or EPERM */
    readonly code: string,
  ) {
    super(`cannot reach the daemon at ${socketPath}: permission denied (${code}, run as root)`);
    this.name = 'DaemonNoAccess';
  }
}

export function askDaemon(paths: FerryPaths, req: Request, timeoutMs = 10_000, maxAnswerBytes = MAX_ANSWER_BYTES): Promise<Response> {
  const socketPath = controlSocketPath(paths);
  return new Promise((resolve, reject) => {
    const framer = new LineFramer(maxAnswerBytes);
    const chunks: Buffer[] = [];
    let settled = false;
    const conn = net.connect(socketPath);
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      f();
    };
    const answer = (text: string): void => {
      const r = parseResponse(text);
      settle(() => ('bad' in r ? reject(new Error(`bad answer from the daemon (${r.bad}): ${text.slice(0, 200)}`)) : resolve(r)));
    };
    const timer = setTimeout(() => {
      settle(() => reject(new DaemonUnreachable(`the daemon did not answer within ${timeoutMs} ms on ${socketPath}`)));
    }, timeoutMs);
    conn.on('connect', () => conn.write(JSON.stringify(req) + '\n'));
    conn.on('data', (c: Buffer) => {
      chunks.push(c);
      const framed = framer.push(c);
      if (framed.kind === 'line') answer(framed.line.toString('utf8'));
      else if (framed.kind === 'too-long') settle(() => reject(new Error(`bad answer from the daemon: longer than ${maxAnswerBytes} bytes`)));
    });
    // an answer without its newline (older daemons end right after it)
    conn.on('end', () => answer(Buffer.concat(chunks).toString('utf8')));
    conn.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EACCES' || e.code === 'EPERM') return settle(() => reject(new DaemonNoAccess(socketPath, e.code ?? 'EACCES')));
      settle(() => reject(new DaemonUnreachable(`the daemon is not running (${socketPath}: ${e.code ?? e.message})`)));
    });
  });
}
