// Client side of the control socket, for svcmgr, svcmon and nodemgr. The answer is bounded in
// size (MAX_ANSWER_BYTES) and time (timeoutMs, the whole exchange).
import fs from 'node:fs';
import net from 'node:net';
import type { FerryPaths } from '../paths.js';
import { LineFramer, LineSplitter } from './control-framer.js';
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

/** Why the socket could not be used: no access (EACCES/EPERM), or no daemon there. */
function connectError(socketPath: string, e: NodeJS.ErrnoException): DaemonNoAccess | DaemonUnreachable {
  if (e.code === 'EACCES' || e.code === 'EPERM') return new DaemonNoAccess(socketPath, e.code);
  return new DaemonUnreachable(`the daemon is not running (${socketPath}: ${e.code ?? e.message})`);
}

/**
 * No control socket at all: no daemon here, known without a connect (a CLI then reads
 * locally at once), as the error a connect would give (ENOENT). Undefined when one exists or
 * it cannot be told (a parent this user may not search): askDaemon says which then.
 */
export function noDaemonSocket(paths: FerryPaths): DaemonUnreachable | undefined {
  const socketPath = controlSocketPath(paths);
  try {
    if (fs.statSync(socketPath, { throwIfNoEntry: false }) !== undefined) return undefined;
  } catch {
    return undefined;
  }
  const e = connectError(socketPath, Object.assign(new Error('no socket'), { code: 'ENOENT' }));
  return e instanceof DaemonUnreachable ? e : undefined;
}

export function askDaemon(paths: FerryPaths, req: Request, timeoutMs = 10_000, maxAnswerBytes = MAX_ANSWER_BYTES): Promise<Response> {
  return askDaemonText(paths, req, timeoutMs, maxAnswerBytes).then((a) => a.response);
}

/** askDaemon, with the answer line's text too (the `view` answer's spans point into it) */
export function askDaemonText(paths: FerryPaths, req: Request, timeoutMs = 10_000, maxAnswerBytes = MAX_ANSWER_BYTES): Promise<{ response: Response; text: string }> {
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
      settle(() => ('bad' in r ? reject(new Error(`bad answer from the daemon (${r.bad}): ${text.slice(0, 200)}`)) : resolve({ response: r, text })));
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
    conn.on('error', (e: NodeJS.ErrnoException) => settle(() => reject(connectError(socketPath, e))));
  });
}

/** Longest line of a stream answer the client accepts (an event record is far smaller). */
export const MAX_STREAM_LINE_BYTES = 1024 * 1024;

/**
 * Send a request whose answer is a stream (`events` with follow): `onFirst` gets the answer
 * line, `onLine` each following line, parsed as JSON. Resolves when the daemon closes the
 * connection (it stopped, or dropped this client), rejects when it cannot be reached or
 * sends a bad line. No timeout once the answer came: a follower waits for events.
 */
export function streamDaemon(paths: FerryPaths, req: Request, onFirst: (r: Response) => void, onLine: (v: unknown) => void, connectTimeoutMs = 10_000): Promise<void> {
  const socketPath = controlSocketPath(paths);
  return new Promise((resolve, reject) => {
    const splitter = new LineSplitter(MAX_STREAM_LINE_BYTES);
    let first = true;
    let settled = false;
    const conn = net.connect(socketPath);
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      f();
    };
    const timer = setTimeout(() => settle(() => reject(new DaemonUnreachable(`the daemon did not answer within ${connectTimeoutMs} ms on ${socketPath}`))), connectTimeoutMs);
    conn.on('connect', () => conn.write(JSON.stringify(req) + '\n'));
    conn.on('data', (c: Buffer) => {
      const lines = splitter.push(c);
      if (lines === 'too-long') return settle(() => reject(new Error(`bad answer from the daemon: a line longer than ${MAX_STREAM_LINE_BYTES} bytes`)));
      for (const l of lines) {
        const text = l.toString('utf8');
        if (first) {
          first = false;
          clearTimeout(timer);
          const r = parseResponse(text);
          if ('bad' in r) return settle(() => reject(new Error(`bad answer from the daemon (${r.bad}): ${text.slice(0, 200)}`)));
          onFirst(r);
          if (!r.ok) return settle(() => resolve());
          continue;
        }
        let v: unknown;
        try {
          v = JSON.parse(text);
        } catch {
          return settle(() => reject(new Error(`bad line from the daemon (not JSON): ${text.slice(0, 200)}`)));
        }
        onLine(v);
      }
    });
    conn.on('close', () => settle(() => (first ? reject(new DaemonUnreachable(`the daemon closed the connection without answering on ${socketPath}`)) : resolve())));
    conn.on('error', (e: NodeJS.ErrnoException) => settle(() => reject(connectError(socketPath, e))));
  });
}
