// The serving side of the state channel: listens on this node's channel address of each
// network heartbeat and answers peers' pulls from the store. Unauthenticated connections
// are capped in number and time; every drop is counted by reason, and logged once per reason.
import net from 'node:net';
import type { ChannelKeys } from './crypto.js';
import type { ChanDrop, CloseReason } from './connection.js';
import { CHAN_DROPS, SecureConn } from './connection.js';
import { isGet, MSG, parseJson, REQUEST_TYPES } from './protocol.js';
import type { StateStore } from './store.js';
import { isStreamType } from './stream-protocol.js';
import type { StreamHandler } from './stream-server.js';

export type ChanLog = (level: 'debug' | 'info' | 'warn' | 'error', event: string, msg: string, data?: Record<string, unknown>) => void;

export interface Timeouts {
  handshakeMs: number;
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { handshakeMs: 5_000, idleMs: 60_000 };
/** connections still in their handshake, per listener: more are refused at once */
export const PENDING_MAX = 32;

export const emptyChanDrops = (): Record<ChanDrop, number> => Object.fromEntries(CHAN_DROPS.map((d) => [d, 0])) as Record<ChanDrop, number>;

export interface ServerOptions {
  keys: ChannelKeys;
  self: string;
  nodes: readonly string[];
  store: StateStore;
  log: ChanLog;
  timeouts?: Timeouts;
  drops: Record<ChanDrop, number>;
  /** bulk streams (types 0x40-0x4f): without it they are refused as malformed */
  streams?: StreamHandler;
}

/**
 * A request of the state protocol beyond GET (types 0x20-0x2f, e.g. a config file): the
 * authenticated peer's name and the parsed JSON body; the answer is sent back as type + 1.
 */
export type RequestHandler = (peer: string, body: unknown) => Record<string, unknown>;

export class ChannelServer {
  private readonly servers: net.Server[] = [];
  private readonly handlers = new Map<number, RequestHandler>();
  private readonly conns = new Set<SecureConn>();
  private pending = 0;
  private readonly warned = new Set<string>();
  served = 0;

  constructor(private readonly o: ServerOptions) {}

  /** Listen on each address; one that cannot be bound is logged and retried later by the caller. */
  async listen(addr: string, port: number): Promise<boolean> {
    const srv = net.createServer((s) => this.accept(s));
    return new Promise<boolean>((resolve) => {
      srv.once('error', (e) => {
        // retried every few seconds by the caller: one warning per address
        const k = `${addr}:${port}`;
        if (!this.warned.has(k)) this.o.log('warn', 'statechan_listen_failed', 'state channel cannot listen (retried)', { addr, port, error: e.message });
        this.warned.add(k);
        resolve(false);
      });
      srv.listen({ host: addr, port, exclusive: true }, () => {
        srv.on('error', (e) => this.o.log('warn', 'statechan_listen_error', 'state channel listener error', { addr, port, error: e.message }));
        this.servers.push(srv);
        this.o.log('info', 'statechan_listening', 'state channel listening', { addr, port });
        resolve(true);
      });
    });
  }

  /** answer requests of `type` (0x20-0x2f); the answer goes back as `type + 1` */
  handle(type: number, h: RequestHandler): void {
    if (type < REQUEST_TYPES.first || type > REQUEST_TYPES.last || type % 2 !== 0) throw new Error(`request type ${type} outside 0x20-0x2f (even)`);
    this.handlers.set(type, h);
  }

  get listening(): number {
    return this.servers.length;
  }

  /** bound addresses (port 0 in tests picks a free one) */
  addresses(): { addr: string; port: number }[] {
    return this.servers.map((s) => s.address()).filter((a): a is net.AddressInfo => typeof a === 'object' && a !== null).map((a) => ({ addr: a.address, port: a.port }));
  }

  private drop(reason: ChanDrop, detail: string, from: string | undefined): void {
    this.o.drops[reason]++;
    if (this.o.drops[reason] === 1) this.o.log('warn', 'statechan_drop', `dropped a ${reason} state channel connection (further ones are only counted)`, { reason, detail, from });
  }

  private accept(socket: net.Socket): void {
    const from = socket.remoteAddress;
    if (this.pending >= PENDING_MAX) {
      this.drop('busy', `${PENDING_MAX} connections already in their handshake`, from);
      socket.destroy();
      return;
    }
    this.pending++;
    let authed = false;
    const t = this.o.timeouts ?? DEFAULT_TIMEOUTS;
    const conn: SecureConn = new SecureConn(socket, {
      keys: this.o.keys, self: this.o.self, nodes: this.o.nodes, role: 'server', handshakeTimeoutMs: t.handshakeMs, idleTimeoutMs: t.idleMs,
      onReady: (peer) => {
        authed = true;
        this.pending--;
        this.o.log('debug', 'statechan_peer_connected', 'state channel client connected', { peer, from });
      },
      onMessage: (type, body) => this.message(conn, type, body),
      onClose: (reason: CloseReason, detail) => {
        this.conns.delete(conn);
        this.o.streams?.closed(conn);
        if (!authed) this.pending--;
        if (reason !== 'closed') this.drop(reason, detail, from);
      },
    });
    this.conns.add(conn);
  }

  private message(conn: SecureConn, type: number, body: Buffer): void {
    if (type === MSG.PING) {
      conn.send(MSG.PONG, Buffer.alloc(0));
      return;
    }
    if (isStreamType(type) && this.o.streams) {
      this.o.streams.message(conn, type, body);
      return;
    }
    const h = this.handlers.get(type);
    if (h && conn.peer !== undefined) {
      const body0 = parseJson(body);
      let reply: Record<string, unknown>;
      try {
        reply = h(conn.peer, body0);
      } catch (e) {
        reply = { id: (body0 as { id?: unknown } | undefined)?.id ?? null, error: e instanceof Error ? e.message : String(e) };
      }
      conn.send(type + 1, Buffer.from(JSON.stringify(reply), 'utf8'));
      return;
    }
    if (type !== MSG.GET) {
      conn.close('malformed', `unexpected message type ${type}`);
      return;
    }
    const g = parseJson(body);
    if (!isGet(g)) {
      conn.close('malformed', 'bad GET');
      return;
    }
    // built synchronously: every chunk of the answer is of the same generation
    for (const c of this.o.store.answer(g.inc, g.gen)) if (!conn.send(MSG.STATE, Buffer.from(JSON.stringify(c), 'utf8'))) return;
    this.served++;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.close('closed', 'stopping');
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.length = 0;
  }
}
