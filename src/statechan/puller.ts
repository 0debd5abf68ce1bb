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
import type { Announced } from './retry.js';
import { retryDelay, retryNow, UNREACHABLE_AFTER } from './retry.js';

export interface Route {
  hb: string;
  addr: string;
  port: number;
}

export { BACKOFF_MS } from './retry.js';
/** an answer not complete within this is a stalled peer: reconnect */
export const REQUEST_TIMEOUT_MS = 15_000;
const PING_MS = 15_000;

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
  /** the generation announced when the pending retry was scheduled: a newer one cuts the wait */
  private retryFor: Announced | undefined;
  /** when the current connection attempt / request started (a watchdog beside their timers) */
  private connectAt = 0;
  private requestAt = 0;
  /** when the current run of failures started */
  private failingSince = 0;
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
    if (this.retry && !this.connecting && retryNow(this.retryFor, m)) {
      // the peer is alive and has something new: try now rather than after the backoff
      clearTimeout(this.retry);
      this.retry = undefined;
    }
    this.watchdog();
    this.kick();
  }

  /**
   * Beside the connection's own timers: an attempt or a request older than twice its
   * timeout is given up here (whatever held it), so that the beats keep the pulls going.
   */
  private watchdog(): void {
    const c = this.conn;
    if (!c) return;
    const t = this.o.timeouts ?? DEFAULT_TIMEOUTS;
    const now = Date.now();
    if (this.connecting && now - this.connectAt > 2 * t.handshakeMs) c.close('timeout', 'connection attempt stuck (watchdog)');
    else if (this.inflight && now - this.requestAt > 2 * REQUEST_TIMEOUT_MS) c.close('timeout', 'state answer stuck (watchdog)');
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
    this.requestAt = Date.now();
    this.inflight = setTimeout(() => c.close('timeout', 'state answer not complete in time'), REQUEST_TIMEOUT_MS);
    this.inflight.unref();
  }

  private connect(): void {
    if (this.connecting || this.routes.length === 0) return;
    const r = this.routes[this.routeIndex % this.routes.length]!;
    this.connecting = true;
    this.connectAt = Date.now();
    const t = this.o.timeouts ?? DEFAULT_TIMEOUTS;
    const socket = net.connect({ host: r.addr, port: r.port });
    const conn: SecureConn = new SecureConn(socket, {
      keys: this.o.keys, self: this.o.self, nodes: this.o.nodes, role: 'client', expectPeer: this.o.peer, handshakeTimeoutMs: t.handshakeMs, idleTimeoutMs: t.idleMs,
      onReady: () => {
        this.connecting = false;
        if (this.consecutive >= UNREACHABLE_AFTER) {
          this.o.log('info', 'statechan_recovered', `state channel to ${this.o.peer} works again after ${this.consecutive} failed attempts`, { peer: this.o.peer, hb: r.hb, attempts: this.consecutive, failing_ms: Date.now() - this.failingSince });
        }
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
    if (this.consecutive++ === 0) this.failingSince = Date.now();
    if (this.consecutive === UNREACHABLE_AFTER) {
      this.o.log('warn', 'statechan_unreachable', `state channel to ${this.o.peer} fails: its services' state is not current (starts that depend on it wait)`, { peer: this.o.peer, hb: r.hb, addr: r.addr, port: r.port, reason, detail, attempts: this.consecutive });
    }
    this.o.log('debug', 'statechan_closed', `state channel to ${this.o.peer} closed`, { peer: this.o.peer, hb: r.hb, reason, detail });
    this.routeIndex++;
    // never given up while the peer's beats come (they call announce(), which also cuts the wait)
    if (this.retry) clearTimeout(this.retry);
    this.retryFor = this.want ? { inc: this.want.inc, gen: this.want.gen } : undefined;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.kick();
    }, retryDelay(this.consecutive));
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
