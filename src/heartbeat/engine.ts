// The heartbeat engine: seals this node's state on every heartbeat at its interval, opens
// what comes in, and turns per-heartbeat liveness into one state per peer. It runs inside
// the heartbeat worker thread (worker.ts) so a busy main loop never delays a beat; it has
// no worker_threads dependency itself, so tests can also drive it in-process.
import { performance } from 'node:perf_hooks';
import type { ClusterConfig, HbConfig } from '../cluster/config.js';
import { Channel } from './channel.js';
import { DiskTransport } from './disk.js';
import type { DropReason, KeyContext, MessageKind } from './envelope.js';
import { deriveKey, open, seal } from './envelope.js';
import { MulticastTransport } from './multicast.js';
import type { Inbound, Transport, TransportHost } from './transport.js';
import type { FromWorker, HbSnapshot } from './types.js';
import type { PeerState } from '../vocab/peer-state.js';
import { UnicastTransport } from './unicast.js';
import { isSuspect, nextChange } from './liveness.js';

export interface EngineOptions {
  cluster: ClusterConfig;
  nodename: string;
  incarnation: bigint;
  payload: string;
  emit: (m: FromWorker) => void;
  /** transports by heartbeat; tests may substitute their own */
  makeTransport?: (cfg: HbConfig, host: TransportHost, ctx: { nodename: string; nodes: string[] }) => Transport;
}

interface PeerAgg {
  state: PeerState;
  since: number;
  /** (incarnation, seq) of the goodbye, while the peer is gone; cleared by anything newer */
  left: { incarnation: bigint; seq: bigint } | undefined;
  /** (incarnation, seq) of the message the current payload came from: payloads only move forward */
  payloadAt: { incarnation: bigint; seq: bigint } | undefined;
  payload: string | undefined;
  /** silent on every heartbeat past the suspect threshold, still up (liveness.ts) */
  suspect: boolean;
}

const newer = (a: { incarnation: bigint; seq: bigint }, b: { incarnation: bigint; seq: bigint } | undefined): boolean =>
  b === undefined || a.incarnation > b.incarnation || (a.incarnation === b.incarnation && a.seq > b.seq);

export function defaultTransport(cfg: HbConfig, host: TransportHost, ctx: { nodename: string; nodes: string[] }): Transport {
  switch (cfg.type) {
    case 'unicast':
      return new UnicastTransport(cfg, ctx.nodename, host);
    case 'multicast':
      return new MulticastTransport(cfg, host);
    case 'disk':
      return new DiskTransport(cfg, ctx.nodename, ctx.nodes, host);
  }
}

export class Engine {
  private readonly key: KeyContext;
  private readonly peers: string[];
  private readonly agg = new Map<string, PeerAgg>();
  private readonly channels: { ch: Channel; tr: Transport; timer?: NodeJS.Timeout; busy: boolean }[] = [];
  private seq = 0n;
  /** last source address per heartbeat and peer */
  private readonly routes = new Map<string, string>();
  private payload: Buffer;
  /** the one timer of the next liveness change (liveness.ts nextChange), and when it is due (monotonic ms) */
  private checkTimer: NodeJS.Timeout | undefined;
  private checkDue: number | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly o: EngineOptions) {
    this.key = deriveKey(o.cluster.secret, o.cluster.name);
    this.peers = o.cluster.nodes.filter((n) => n !== o.nodename);
    this.payload = Buffer.from(o.payload, 'utf8');
    const now = Date.now();
    for (const p of this.peers) this.agg.set(p, { state: 'unknown', since: now, left: undefined, payloadAt: undefined, payload: undefined, suspect: false });
    const start = performance.now();
    const make = o.makeTransport ?? defaultTransport;
    for (const cfg of o.cluster.heartbeats) {
      const ch = new Channel(cfg, this.peers, start);
      const host: TransportHost = {
        receive: (buf, info) => this.receive(ch, buf, info),
        sent: (error, stalled) => {
          if (error === undefined && !stalled) {
            ch.tx++;
            ch.lastSent = Date.now();
            ch.txState = 'up';
            ch.txError = undefined;
          } else {
            if (stalled) ch.txState = 'stalled';
            else if (ch.txError !== error) this.log('warn', 'heartbeat send failed', { hb: cfg.id, error });
            if (!stalled) ch.txState = 'error';
            ch.txError = error;
          }
        },
        log: (level, msg, data) => this.log(level, msg, { hb: cfg.id, ...data }),
      };
      this.channels.push({ ch, tr: make(cfg, host, { nodename: o.nodename, nodes: o.cluster.nodes }), busy: false });
    }
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data: Record<string, unknown> = {}): void {
    this.o.emit({ t: 'log', level, msg, data });
  }

  async start(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.tr.start()));
    for (const c of this.channels) {
      void this.beat(c);
      c.timer = setInterval(() => void this.beat(c), c.ch.cfg.interval);
    }
    // liveness changes are timed, not polled: evaluate() arms one timer for the next instant a
    // heartbeat times out or the peer becomes suspect (a poll every 37 ms at 100 ms / 300 ms
    // made detection ~18 ms late on average). The views' counters (rx, lastSeen) go out once per
    // shortest interval, 4 times a second at most (an idle worker is not woken more); that timer
    // also evaluates, as a backstop
    this.evaluate();
    const stats = Math.min(1000, Math.max(250, ...this.o.cluster.heartbeats.map((h) => h.interval)));
    this.statsTimer = setInterval(() => {
      this.evaluate();
      this.o.emit({ t: 'snapshot', snap: this.snapshot() });
    }, stats);
    this.o.emit({ t: 'snapshot', snap: this.snapshot() });
  }

  setPayload(json: string): void {
    this.payload = Buffer.from(json, 'utf8');
  }

  /** An extra beat on every channel now (a busy disk write is not stacked up). */
  beatNow(): void {
    if (this.stopping) return;
    for (const c of this.channels) void this.beat(c);
  }

  private seal(hb: string, kind: MessageKind): Buffer {
    this.seq++;
    return seal(this.key, { kind, incarnation: this.o.incarnation, seq: this.seq, sender: this.o.nodename, hb }, this.payload);
  }

  private async beat(c: (typeof this.channels)[number], kind: MessageKind = 'beat'): Promise<void> {
    if (this.stopping && kind === 'beat') return;
    // a disk write that has not returned yet must not pile up behind a hung device
    if (c.busy) {
      c.ch.txState = 'stalled';
      return;
    }
    c.busy = true;
    try {
      const sealed = this.seal(c.ch.cfg.id, kind);
      if (sealed.length > c.ch.maxBytes) c.ch.maxBytes = sealed.length;
      await c.tr.beat(sealed);
    } catch (e) {
      c.ch.txState = 'error';
      c.ch.txError = (e as Error).message;
    } finally {
      c.busy = false;
    }
  }

  private receive(ch: Channel, buf: Buffer, info: Inbound): void {
    const r = open(this.key, { self: this.o.nodename, nodes: this.o.cluster.nodes, hb: ch.cfg.id }, buf);
    if (!r.ok) {
      this.drop(ch, r.reason, r.header?.sender);
      return;
    }
    const h = r.header;
    // an authentic message in another node's disk slot was copied there: not a sign of life
    if (info.owner !== undefined && info.owner !== h.sender) {
      this.drop(ch, 'replayed', h.sender);
      return;
    }
    if (!ch.fresh(h)) {
      this.drop(ch, 'replayed', h.sender);
      return;
    }
    if (info.baseline) return;
    const agg = this.agg.get(h.sender);
    if (!agg) return;
    if (info.from !== undefined) {
      const k = `${ch.cfg.id}\0${h.sender}`;
      if (this.routes.get(k) !== info.from) {
        this.routes.set(k, info.from);
        this.o.emit({ t: 'route', peer: h.sender, hb: ch.cfg.id, addr: info.from });
      }
    }
    const at = { incarnation: h.incarnation, seq: h.seq };
    if (h.kind === 'leaving') {
      agg.left = at;
      for (const c of this.channels) c.ch.forget(h.sender);
      ch.seen(h.sender, performance.now(), Date.now());
      ch.forget(h.sender);
    } else {
      // a late beat sent before the goodbye does not bring the peer back
      if (agg.left && !newer(at, agg.left)) return;
      agg.left = undefined;
      ch.seen(h.sender, performance.now(), Date.now());
    }
    if (newer(at, agg.payloadAt)) {
      agg.payloadAt = at;
      const json = r.payload.toString('utf8');
      if (json !== agg.payload) {
        agg.payload = json;
        this.o.emit({ t: 'payload', peer: h.sender, json, at: Date.now() });
      }
    }
    this.evaluate();
  }

  /** count; log only the first of each reason per heartbeat, so a flood cannot flood the log */
  private drop(ch: Channel, reason: DropReason, claimed: string | undefined): void {
    ch.drop(reason, claimed);
    if (ch.drops[reason] === 1) this.log('warn', `dropped a ${reason} heartbeat message (further ones are only counted)`, { hb: ch.cfg.id, reason, claimedSender: claimed });
  }

  /** peer state from every heartbeat: up if up on any, down only if down on all */
  private evaluate(): void {
    if (this.stopping) return;
    const now = performance.now();
    let wake: number | undefined;
    for (const [peer, agg] of this.agg) {
      const states = this.channels.map((c) => c.ch.rxState(peer, now));
      let next: PeerState;
      if (states.includes('up')) next = 'up';
      else if (agg.left) next = 'left';
      else if (states.length > 0 && states.every((s) => s === 'down')) next = 'down';
      // some heartbeat is still in its start-up grace period: no verdict change yet
      else next = agg.state;
      const views = this.channels.map((c) => c.ch.view(peer));
      // suspicion ends silently when the peer goes down (the 'peer' message says it), with a
      // message when it is heard again
      const suspect = next === 'up' && !agg.left && isSuspect(views, now);
      if (suspect !== agg.suspect) {
        agg.suspect = suspect;
        if (suspect || next === 'up') this.o.emit({ t: 'suspect', peer, suspect, at: Date.now() });
        this.log('debug', `peer ${peer} ${suspect ? 'suspect' : 'no longer suspect'}`, { peer, suspect });
      }
      if (next !== agg.state) {
        const prev = agg.state;
        agg.state = next;
        agg.since = Date.now();
        this.o.emit({ t: 'snapshot', snap: this.snapshot() });
        this.o.emit({ t: 'peer', peer, state: next, prev, at: agg.since });
        this.log(next === 'down' ? 'warn' : 'info', `peer ${peer} ${next}`, { peer, state: next, prev });
      }
      const t = agg.left ? undefined : nextChange(views, now);
      if (t !== undefined && (wake === undefined || t < wake)) wake = t;
    }
    this.arm(wake, now);
  }

  /** One timer, due just after the next liveness change (a verdict changes strictly after its instant). */
  private arm(at: number | undefined, now: number): void {
    if (at === undefined) return;
    if (this.checkTimer && this.checkDue !== undefined && this.checkDue <= at) return;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkDue = at;
    // +1: a timer may fire up to a millisecond before its time by performance.now(); a
    // too-early wake re-arms for what is left
    this.checkTimer = setTimeout(() => {
      this.checkTimer = undefined;
      this.checkDue = undefined;
      this.evaluate();
    }, Math.max(1, Math.ceil(at - now) + 1));
  }

  snapshot(): HbSnapshot {
    const now = performance.now();
    const left = (p: string): boolean => this.agg.get(p)?.left !== undefined;
    return {
      at: Date.now(),
      nodename: this.o.nodename,
      incarnation: this.o.incarnation.toString(),
      heartbeats: this.channels.map((c) => c.ch.stats(now, left)),
    };
  }

  /** Stop beating; when graceful, first tell every peer on every heartbeat that we leave. */
  async stop(graceful: boolean): Promise<void> {
    this.stopping = true;
    for (const c of this.channels) if (c.timer) clearInterval(c.timer);
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = undefined;
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (graceful) {
      // wait for an in-flight disk write, bounded: a hung device must not hang the stop
      const deadline = performance.now() + 2000;
      while (this.channels.some((c) => c.busy) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await Promise.all(this.channels.map((c) => this.beat(c, 'leaving')));
    }
    for (const c of this.channels) c.ch.txState = 'stopped';
    await Promise.all(this.channels.map((c) => c.tr.stop()));
  }
}
