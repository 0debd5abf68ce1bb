// The pulling side for one peer: keeps one authenticated connection to it (over the first
// network heartbeat route that works, the next one on failure, with backoff), and asks for
// what changed whenever the peer's beats announce a generation the replica does not hold.
import net from 'node:net';
import type { ChannelKeys } from './crypto.js';
import type { ChanDrop, CloseReason } from './connection.js';
import { SecureConn } from './connection.js';
import type { ChannelMark } from './facts.js';
import { isStateChunk, MSG, parseJson, REQUEST_TYPES } from './protocol.js';
import { Replica } from './replica.js';
import type { ChanLog, Timeouts } from './server.js';
import { DEFAULT_TIMEOUTS } from './server.js';

export interface Route {
  hb: string;
  addr: string;
  port: number;
}

export const BACKOFF_MS = { first: 200, max: 5_000 };
/** an answer not complete within this is a stalled peer: reconnect */
export const REQUEST_TIMEOUT_MS = 15_000;
const PING_MS = 15_000;
/** consecutive failures before a warning */
const UNREACHABLE_AFTER = 5;

export interface PullerOptions {
  keys: ChannelKeys;
  self: string;
  peer: string;
  nodes: readonly string[];
  log: ChanLog;
  timeouts?: Timeouts;
  drops: Record<ChanDrop, number>;
  /** the replica changed (a pull was applied) */
  onUpdate: () => void;
}

export class Puller {
  readonly replica = new Replica();
  private routes: Route[] = [];
  private routeIndex = 0;
  private conn: SecureConn | undefined;
  private connecting = false;
  private inflight: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private backoff = BACKOFF_MS.first;
  private want: ChannelMark | undefined;
  private stopped = false;
  /** requests beyond GET waiting for their answer, by id */
  private readonly calls = new Map<number, { type: number; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private callId = 0;
  pulls = 0;
  failures = 0;
  /** failed attempts since the last working connection */
  private consecutive = 0;

  constructor(private readonly o: PullerOptions) {}

  setRoutes(routes: Route[]): void {
    this.routes = routes;
    if (this.routeIndex >= routes.length) this.routeIndex = 0;
    // a pull may have been waiting for a first route (multicast: learned from a beat)
    this.kick();
  }

  /** the peer's beats announce this: pull if the replica does not hold it */
  announce(m: ChannelMark): void {
    this.want = m;
    this.kick();
  }

  get synced(): boolean {
    return this.want !== undefined && this.replica.matches(this.want);
  }

  private kick(): void {
    if (this.stopped || !this.want || this.replica.matches(this.want) || this.inflight || this.retry) return;
    if (!this.conn?.open) {
      this.connect();
      return;
    }
    this.request();
  }

  private request(): void {
    const c = this.conn;
    if (!c?.open) return;
    const body = Buffer.from(JSON.stringify({ inc: this.replica.inc, gen: this.replica.gen }), 'utf8');
    if (!c.send(MSG.GET, body)) return;
    this.inflight = setTimeout(() => c.close('timeout', 'state answer not complete in time'), REQUEST_TIMEOUT_MS);
    this.inflight.unref();
  }

  private connect(): void {
    if (this.connecting || this.routes.length === 0) return;
    const r = this.routes[this.routeIndex % this.routes.length]!;
    this.connecting = true;
    const t = this.o.timeouts ?? DEFAULT_TIMEOUTS;
    const socket = net.connect({ host: r.addr, port: r.port });
    const conn: SecureConn = new SecureConn(socket, {
      keys: this.o.keys, self: this.o.self, nodes: this.o.nodes, role: 'client', expectPeer: this.o.peer, handshakeTimeoutMs: t.handshakeMs, idleTimeoutMs: t.idleMs,
      onReady: () => {
        this.connecting = false;
        this.backoff = BACKOFF_MS.first;
        this.consecutive = 0;
        this.o.log('info', 'statechan_connected', `state channel to ${this.o.peer} open`, { peer: this.o.peer, hb: r.hb, addr: r.addr, port: r.port });
        this.ping = setInterval(() => conn.send(MSG.PING, Buffer.alloc(0)), PING_MS);
        this.ping.unref();
        this.kick();
      },
      onMessage: (type, body) => this.message(conn, type, body),
      onClose: (reason: CloseReason, detail) => this.closed(conn, r, reason, detail),
    });
    this.conn = conn;
    socket.once('connect', () => conn.startClient());
  }

  /**
   * A request of type 0x20-0x2f over the open connection; resolves with the answer's JSON
   * body. Rejects at once when no connection is open (the caller retries later), and when
   * the answer does not come within timeoutMs or the connection closes.
   */
  call(type: number, body: Record<string, unknown>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    const c = this.conn;
    if (!c?.open) return Promise.reject(new Error(`no state channel to ${this.o.peer}`));
    const id = ++this.callId;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new Error(`no answer from ${this.o.peer} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.calls.set(id, { type, resolve, reject, timer });
      if (!c.send(type, Buffer.from(JSON.stringify({ ...body, id }), 'utf8'))) {
        clearTimeout(timer);
        this.calls.delete(id);
        reject(new Error(`state channel to ${this.o.peer} closed`));
      }
    });
  }

  private answered(conn: SecureConn, type: number, body: Buffer): void {
    const v = parseJson(body);
    const id = (v as { id?: unknown } | undefined)?.id;
    const call = typeof id === 'number' ? this.calls.get(id) : undefined;
    if (!call || call.type + 1 !== type) return conn.close('malformed', `unexpected answer of type ${type}`);
    this.calls.delete(id as number);
    clearTimeout(call.timer);
    call.resolve(v);
  }

  private failCalls(why: string): void {
    for (const [id, c] of this.calls) {
      clearTimeout(c.timer);
      c.reject(new Error(why));
      this.calls.delete(id);
    }
  }

  private message(conn: SecureConn, type: number, body: Buffer): void {
    if (type === MSG.PONG) return;
    if (type > REQUEST_TYPES.first && type <= REQUEST_TYPES.last && type % 2 === 1) return this.answered(conn, type, body);
    if (type !== MSG.STATE) return conn.close('malformed', `unexpected message type ${type}`);
    const c = parseJson(body);
    if (!isStateChunk(c)) return conn.close('malformed', 'bad STATE chunk');
    const r = this.replica.take(c);
    if (r === 'more') return;
    if (this.inflight) clearTimeout(this.inflight);
    this.inflight = undefined;
    if (r === 'refused') {
      this.o.log('warn', 'statechan_resync', `state of ${this.o.peer} does not match its digest: pulling a snapshot`, { peer: this.o.peer, gen: c.gen });
      this.replica.reset();
    } else {
      this.pulls++;
      this.o.onUpdate();
    }
    this.kick();
  }

  /** forget the current connection and anything half-received on it */
  private detach(): void {
    this.conn = undefined;
    this.connecting = false;
    if (this.ping) clearInterval(this.ping);
    if (this.inflight) clearTimeout(this.inflight);
    this.inflight = undefined;
    this.replica.dropPending();
    this.failCalls(`state channel to ${this.o.peer} closed`);
  }

  /**
   * The peer is back after being down (a partition healed): a connection from before may be
   * half dead, waiting on TCP retransmission backoff for seconds. Start afresh, now.
   */
  reconnect(): void {
    if (this.stopped) return;
    const c = this.conn;
    this.detach();
    c?.close('closed', 'peer back: reconnecting');
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.backoff = BACKOFF_MS.first;
    this.kick();
  }

  private closed(conn: SecureConn, r: Route, reason: CloseReason, detail: string): void {
    if (this.conn !== conn) return;
    this.detach();
    if (this.stopped) return;
    if (reason !== 'closed') {
      this.o.drops[reason]++;
      // a wrong secret or a stranger answering: worth one warning, then only counted
      if (this.o.drops[reason] === 1) this.o.log('warn', 'statechan_drop', `dropped a ${reason} state channel connection to ${this.o.peer} (further ones are only counted)`, { peer: this.o.peer, hb: r.hb, reason, detail });
    }
    this.failures++;
    // refused, unreachable...: the peer's state stays incomplete, starts wait: say it once
    if (++this.consecutive === UNREACHABLE_AFTER) {
      this.o.log('warn', 'statechan_unreachable', `state channel to ${this.o.peer} fails: its services' state is not current (starts that depend on it wait)`, { peer: this.o.peer, hb: r.hb, addr: r.addr, port: r.port, reason, detail, attempts: this.consecutive });
    }
    this.o.log('debug', 'statechan_closed', `state channel to ${this.o.peer} closed`, { peer: this.o.peer, hb: r.hb, reason, detail });
    this.routeIndex++;
    const wait = this.backoff;
    this.backoff = Math.min(BACKOFF_MS.max, this.backoff * 2);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.kick();
    }, wait);
    this.retry.unref();
  }

  stop(): void {
    this.stopped = true;
    this.failCalls('stopping');
    if (this.retry) clearTimeout(this.retry);
    if (this.ping) clearInterval(this.ping);
    if (this.inflight) clearTimeout(this.inflight);
    this.conn?.close('closed', 'stopping');
  }
}
