// The serving end of bulk streams: an authenticated channel connection whose first message is
// OPEN. The owner (the daemon) decides whether the stream may run and what command runs
// (`authorize`); this module runs it, pipes its stdio through DATA frames, bounds it (one
// stream per key at a time, a timeout, chunk and stderr sizes) and reports its end.
import { spawn, type ChildProcess } from 'node:child_process';
import type { SecureConn } from './connection.js';
import type { StreamOpen } from './stream-protocol.js';
import { HIGH_WATER, jsonBody, parseOpen, STDERR_MAX, STREAM, STREAM_CHUNK } from './stream-protocol.js';
import type { ChanLog } from './server.js';

export type StreamGrant =
  | {
      ok: true;
      /** one stream per key at a time (e.g. the service) */
      key: string;
      file: string;
      args: string[];
      timeoutMs: number;
      /** the command exited (code 0: ok); dataAt: epoch ms of the first data in (a pre-opened stream waits for it), undefined: none came */
      done: (ok: boolean, code: number | null, dataAt: number | undefined) => void;
    }
  | { ok: false; error: string };

export type Authorize = (peer: string, open: StreamOpen) => Promise<StreamGrant>;

export interface StreamHandler {
  message(conn: SecureConn, type: number, body: Buffer): void;
  closed(conn: SecureConn): void;
}

interface Active {
  key: string | undefined;
  child: ChildProcess | undefined;
  timer: NodeJS.Timeout | undefined;
  stderr: number;
  eof: boolean;
  /** epoch ms of the first DATA or EOF from the client */
  dataAt: number | undefined;
  /** the socket is paused until the command's stdin drains */
  paused: boolean;
}

/** the last message sent: let it flush (a destroy would drop it), the client closes; close anyway after a while */
function endSoon(conn: SecureConn): void {
  conn.socket.end();
  setTimeout(() => conn.close('closed', 'stream done'), 5_000).unref();
}

export class StreamServer implements StreamHandler {
  private readonly byConn = new Map<SecureConn, Active>();
  private readonly keys = new Map<string, SecureConn>();

  constructor(
    private readonly authorize: Authorize,
    private readonly log: ChanLog,
  ) {}

  /** streams running, by key */
  running(): string[] {
    return [...this.keys.keys()];
  }

  /** End the stream of `key` now (e.g. the service is about to start here). */
  abort(key: string): void {
    const c = this.keys.get(key);
    if (c) c.close('closed', `stream ${key} aborted`);
  }

  message(conn: SecureConn, type: number, body: Buffer): void {
    const a = this.byConn.get(conn);
    if (type === STREAM.OPEN) {
      if (a) return conn.close('malformed', 'OPEN twice');
      const open = parseOpen(body);
      if (!open) return conn.close('malformed', 'bad OPEN');
      const st: Active = { key: undefined, child: undefined, timer: undefined, stderr: 0, eof: false, paused: false, dataAt: undefined };
      this.byConn.set(conn, st);
      void this.start(conn, st, open);
      return;
    }
    if (!a?.child) return conn.close('malformed', `stream message ${type} before the stream runs`);
    a.dataAt ??= Date.now();
    if (type === STREAM.DATA) {
      if (body.length > STREAM_CHUNK || a.eof) return conn.close('malformed', 'bad DATA');
      // a deep buffer (HIGH_WATER) before the socket is paused: pausing at each full pipe made
      // the copy stop-and-wait, every hop waiting for a scheduling slot on a loaded machine
      const stdin = a.child.stdin!;
      if (!stdin.write(body) && stdin.writableLength > HIGH_WATER && !a.paused) {
        a.paused = true;
        conn.socket.pause();
        stdin.once('drain', () => {
          a.paused = false;
          conn.socket.resume();
        });
      }
      return;
    }
    if (type === STREAM.EOF) {
      a.eof = true;
      a.child.stdin!.end();
      return;
    }
    conn.close('malformed', `unexpected stream message ${type}`);
  }

  private async start(conn: SecureConn, st: Active, open: StreamOpen): Promise<void> {
    const peer = conn.peer ?? '?';
    let g: StreamGrant;
    try {
      g = await this.authorize(peer, open);
    } catch (e) {
      g = { ok: false, error: (e as Error).message.split('\n')[0] ?? 'error' };
    }
    if (!conn.open) return;
    if (g.ok && this.keys.has(g.key)) g = { ok: false, error: `a stream for ${g.key} is already running` };
    if (!g.ok) {
      this.log('warn', 'stream_refused', `refused a ${open.purpose} stream from ${peer}: ${g.error}`, { peer, svc: open.svc, rid: open.rid, path: open.path, why: g.error });
      conn.send(STREAM.REFUSED, jsonBody({ error: g.error }));
      endSoon(conn);
      return;
    }
    const grant = g;
    st.key = grant.key;
    this.keys.set(grant.key, conn);
    const t0 = Date.now();
    const child = spawn(grant.file, grant.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    st.child = child;
    this.log('info', 'stream_started', `${open.purpose} stream from ${peer} for ${open.svc} ${open.rid}`, { peer, svc: open.svc, rid: open.rid, path: open.path, final: open.final });
    conn.send(STREAM.READY, jsonBody({}));
    st.timer = setTimeout(() => {
      this.log('warn', 'stream_timeout', `${open.purpose} stream from ${peer} for ${open.svc} timed out`, { peer, svc: open.svc, ms: grant.timeoutMs });
      child.kill('SIGKILL');
    }, grant.timeoutMs);
    child.stdin!.on('error', () => undefined);
    child.stdout!.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i += STREAM_CHUNK) conn.send(STREAM.DATA, d.subarray(i, i + STREAM_CHUNK));
      if (conn.socket.writableLength > HIGH_WATER) {
        child.stdout!.pause();
        conn.socket.once('drain', () => child.stdout!.resume());
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      const room = STDERR_MAX - st.stderr;
      if (room <= 0) return;
      const part = d.subarray(0, room);
      st.stderr += part.length;
      conn.send(STREAM.STDERR, part);
    });
    let exited = false;
    const onExit = (code: number | null, signal: NodeJS.Signals | null, error?: string): void => {
      if (exited) return;
      exited = true;
      if (st.timer) clearTimeout(st.timer);
      if (this.keys.get(grant.key) === conn) this.keys.delete(grant.key);
      // the command's own verdict: rsync --server exits 0 once everything is in place (before
      // the client closes its end)
      const ok = code === 0;
      this.log(ok ? 'info' : 'warn', 'stream_ended', `${open.purpose} stream from ${peer} for ${open.svc} ended (${ok ? 'ok' : `exit ${code ?? signal ?? error}`})`, { peer, svc: open.svc, rid: open.rid, code, signal, ok, ms: Date.now() - t0, final: open.final });
      grant.done(ok, code, st.dataAt);
      conn.send(STREAM.EXIT, jsonBody({ code, ...(signal ? { signal } : {}), ...(error ? { error } : {}) }));
      endSoon(conn);
    };
    child.on('error', (e) => onExit(null, null, e.message));
    // 'close': stdout and stderr are drained, so EXIT follows the last DATA
    child.on('close', (code, signal) => onExit(code, signal));
  }

  closed(conn: SecureConn): void {
    const a = this.byConn.get(conn);
    if (!a) return;
    this.byConn.delete(conn);
    if (a.key && this.keys.get(a.key) === conn) this.keys.delete(a.key);
    if (a.timer) clearTimeout(a.timer);
    // the client went away: the command must not linger on a half stream
    if (a.child && a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
  }
}
