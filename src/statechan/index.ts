// The cluster state layer: heartbeats for liveness and the small facts, the state channel
// for the services. To the daemon it is the same Heartbeats API as src/heartbeat: give it
// the whole NodeState (or, with publish(), only what changed since the last publish: the
// daemon's way, cheap whatever the number of services), get each peer's whole NodeState back
// in 'payload' events and peers().
// A peer's state is reassembled from its latest beat facts and the items pulled for the
// generation the beat announced; until then it is marked complete: false (never read
// "not running" from it: src/cluster/orchestrator.ts waits).
import { EventEmitter } from 'node:events';
import type { HbConfig } from '../cluster/config.js';
import type { NodeState } from '../cluster/node-state.js';
import { isNodeState } from '../cluster/node-state.js';
import { interfaceIPv4 } from '../heartbeat/multicast.js';
import type { HbSnapshot, HeartbeatEvents, Heartbeats, JsonValue, PeerView, StartOptions, StateChanStats } from '../heartbeat/index.js';
import { startHeartbeats } from '../heartbeat/index.js';
import { newIncarnation } from '../heartbeat/envelope.js';
import { deriveChannelKeys } from './crypto.js';
import type { BeatFacts, FactsSource, StateChanges } from './facts.js';
import { assemble, beatFacts, readBeatFacts } from './facts.js';
import type { Route } from './puller.js';
import { Puller } from './puller.js';
import type { ChanLog, RequestHandler, Timeouts } from './server.js';
import { ChannelServer, emptyChanDrops } from './server.js';
import { publishChanges, publishState, StateStore } from './store.js';
import type { StreamHandler } from './stream-server.js';
import { channelEndpoint } from './endpoint.js';

export { channelEndpoint };

/**
 * A new generation in a beat makes the peer's state incomplete until it is pulled (a few ms
 * over a working channel). The daemon is told of the incomplete state only if the pull takes
 * longer than this: otherwise every change would make each service's decision flap through
 * "waiting for the state of ..." and back. peers() tells the truth at all times.
 */
export const BEHIND_NOTICE_MS = 1_000;

export interface ClusterStateOptions extends StartOptions {
  timeouts?: Timeouts;
  /** bulk streams served on the channel's listeners (src/statechan/stream-server.ts) */
  streams?: StreamHandler;
}

export type { StateChanStats, StateChanges };

export interface ClusterState extends Heartbeats {
  /** Publish a change list (src/statechan/facts.ts StateChanges) on top of what was published before. */
  publish(changes: StateChanges, urgent?: boolean): void;
  /**
   * Publish new beat facts only, the items as last published (same channel mark): cheap
   * whatever the number of services, for a fact that must leave now (a handover's release).
   */
  publishFacts(facts: FactsSource, urgent?: boolean): void;
  statechan(): StateChanStats;
  /** answer a request type of 0x20-0x2f (even) from peers */
  serve(type: number, h: RequestHandler): void;
  /** ask `peer` over its state channel (rejects when none is open) */
  request(peer: string, type: number, body: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
}

function listenAddress(cfg: HbConfig, self: string): { addr: string; port: number } | undefined {
  if (cfg.type === 'multicast') return { addr: (cfg.intf ? interfaceIPv4(cfg.intf) : undefined) ?? '0.0.0.0', port: cfg.chanPort ?? cfg.port };
  return channelEndpoint(cfg, self);
}

class ClusterStateHandle extends EventEmitter<HeartbeatEvents> implements ClusterState {
  private readonly facts = new Map<string, BeatFacts>();
  /** peers publishing their whole state in the beat (no channel mark) */
  private readonly whole = new Map<string, unknown>();
  private readonly assembled = new Map<string, NodeState>();
  private readonly pullers = new Map<string, Puller>();
  private readonly learned = new Map<string, string>();
  private readonly drops = emptyChanDrops();
  private readonly server: ChannelServer;
  private hb!: Heartbeats;
  private retryListen: NodeJS.Timeout | undefined;
  private readonly notice = new Map<string, NodeJS.Timeout>();
  private stopping = false;

  constructor(
    private readonly opts: ClusterStateOptions,
    private readonly store: StateStore,
  ) {
    super();
    const keys = deriveChannelKeys(opts.cluster.secret, opts.cluster.name);
    const log: ChanLog = (level, event, msg, data = {}) => opts.log?.[level]({ event, ...data }, msg);
    this.server = new ChannelServer({ keys, self: opts.nodename, nodes: opts.cluster.nodes, store, log, drops: this.drops, ...(opts.timeouts ? { timeouts: opts.timeouts } : {}), ...(opts.streams ? { streams: opts.streams } : {}) });
    for (const peer of opts.cluster.nodes.filter((n) => n !== opts.nodename)) {
      const p = new Puller({ keys, self: opts.nodename, peer, nodes: opts.cluster.nodes, log, drops: this.drops, onUpdate: () => this.refresh(peer), ...(opts.timeouts ? { timeouts: opts.timeouts } : {}) });
      this.pullers.set(peer, p);
      this.updateRoutes(peer);
    }
  }

  get incarnation(): bigint {
    return this.hb.incarnation;
  }

  async start(initial: JsonValue): Promise<void> {
    // listen first: once the heartbeats start, events flow, and the caller attaches its
    // handlers only when this resolves (no await may come between the two)
    await this.listenAll();
    this.hb = await startHeartbeats({ ...this.opts, incarnation: BigInt(this.store.inc), payload: this.beatPayload(initial) });
    this.hb.on('peer', (peer, state, prev) => {
      const f = this.facts.get(peer);
      if (state === 'up' && prev === 'down') this.pullers.get(peer)?.reconnect();
      if (state === 'up' && f) this.pullers.get(peer)?.announce(f.sc);
      this.emit('peer', peer, state, prev);
    });
    this.hb.on('peer-up', (p) => this.emit('peer-up', p));
    this.hb.on('peer-down', (p) => this.emit('peer-down', p));
    this.hb.on('peer-left', (p) => this.emit('peer-left', p));
    this.hb.on('suspect', (p, s) => this.emit('suspect', p, s));
    this.hb.on('error', (e) => this.emit('error', e));
    this.hb.on('route', (peer, hb, addr) => {
      this.learned.set(`${hb}\0${peer}`, addr);
      this.updateRoutes(peer);
      this.emit('route', peer, hb, addr);
    });
    this.hb.on('payload', (peer, payload) => {
      const facts = readBeatFacts(payload);
      if (facts) {
        this.whole.delete(peer);
        const before = this.facts.get(peer);
        this.facts.set(peer, facts);
        this.pullers.get(peer)?.announce(facts.sc);
        this.refresh(peer);
        // a relocation's release in the beat: read now, not after the pull it announces
        if (facts.ho && (before?.sc.inc !== facts.sc.inc || JSON.stringify(before.ho) !== JSON.stringify(facts.ho))) this.emit('handover', peer);
      } else {
        // a peer of an earlier version: the whole state rides in its beats
        this.facts.delete(peer);
        this.assembled.delete(peer);
        this.whole.set(peer, payload);
        this.emit('payload', peer, payload);
      }
    });
  }

  private readonly bound = new Set<string>();

  /** Listen on every channel address; those that cannot be bound yet (address not up) are retried every 5 s. */
  private async listenAll(): Promise<void> {
    const want = new Map<string, { addr: string; port: number }>();
    for (const cfg of this.opts.cluster.heartbeats) {
      const ep = listenAddress(cfg, this.opts.nodename);
      if (ep) want.set(`${ep.addr}:${ep.port}`, ep);
    }
    // a wildcard listener covers the specific addresses of the same port (both would collide)
    for (const [k, ep] of want) if (ep.addr !== '0.0.0.0' && want.has(`0.0.0.0:${ep.port}`)) want.delete(k);
    for (const [k, ep] of want) if (!this.bound.has(k) && (await this.server.listen(ep.addr, ep.port))) this.bound.add(k);
    if (this.stopping || this.bound.size === want.size) return;
    this.retryListen = setTimeout(() => void this.listenAll(), 5_000);
    this.retryListen.unref();
  }

  private updateRoutes(peer: string): void {
    const routes: Route[] = [];
    for (const cfg of this.opts.cluster.heartbeats) {
      const ep = channelEndpoint(cfg, peer, this.learned.get(`${cfg.id}\0${peer}`));
      if (ep) routes.push({ hb: cfg.id, ...ep });
    }
    this.pullers.get(peer)?.setRoutes(routes);
  }

  private beatPayload(state: JsonValue): JsonValue {
    if (!isNodeState(state)) return state;
    return publishState(this.store, state) as unknown as JsonValue;
  }

  /** reassemble a peer's state from its facts and replica, and tell the daemon */
  private refresh(peer: string): void {
    const f = this.facts.get(peer);
    const p = this.pullers.get(peer);
    if (!f || !p) return;
    const was = this.assembled.get(peer)?.complete;
    const s = assemble(f, p.replica.values, p.synced, p.replica.inc);
    this.assembled.set(peer, s);
    if (was !== s.complete) this.opts.log?.debug({ event: s.complete ? 'statechan_synced' : 'statechan_behind', peer, gen: f.sc.gen, items: f.sc.n }, `state of ${peer} ${s.complete ? 'in sync' : 'behind its beats'}`);
    const pending = this.notice.get(peer);
    if (s.complete || was === false || was === undefined) {
      if (pending) clearTimeout(pending);
      this.notice.delete(peer);
      this.emit('payload', peer, s);
    } else if (!pending) {
      const timer = setTimeout(() => {
        this.notice.delete(peer);
        const now = this.assembled.get(peer);
        if (now) this.emit('payload', peer, now);
      }, BEHIND_NOTICE_MS);
      timer.unref();
      this.notice.set(peer, timer);
    }
  }

  serve(type: number, h: RequestHandler): void {
    this.server.handle(type, h);
  }

  request(peer: string, type: number, body: Record<string, unknown>, timeoutMs?: number): Promise<unknown> {
    const p = this.pullers.get(peer);
    return p ? p.call(type, body, timeoutMs) : Promise.reject(new Error(`${peer} is not a peer`));
  }

  setPayload(payload: JsonValue, urgent = false): void {
    this.hb.setPayload(this.beatPayload(payload), urgent);
  }

  publish(changes: StateChanges, urgent = false): void {
    this.hb.setPayload(publishChanges(this.store, changes) as unknown as JsonValue, urgent);
  }

  publishFacts(facts: FactsSource, urgent = false): void {
    this.hb.setPayload(beatFacts(facts, this.store.mark) as unknown as JsonValue, urgent);
  }

  /** the heartbeats' snapshot plus the channel's counters (svcmon json shows them) */
  snapshot(): HbSnapshot {
    return { ...this.hb.snapshot(), statechan: this.statechan() };
  }

  peers(): Record<string, PeerView> {
    const out = this.hb.peers();
    for (const [n, v] of Object.entries(out)) {
      if (this.whole.has(n)) v.payload = this.whole.get(n);
      else v.payload = this.assembled.get(n);
    }
    return out;
  }

  statechan(): StateChanStats {
    const peers: StateChanStats['peers'] = {};
    for (const [n, p] of this.pullers) peers[n] = { synced: p.synced, gen: p.replica.gen, items: p.replica.size, pulls: p.pulls, failures: p.failures };
    return { gen: this.store.gen, items: this.store.mark.n, listening: this.server.listening, served: this.server.served, drops: { ...this.drops }, peers };
  }

  async stop(graceful: boolean): Promise<void> {
    this.stopping = true;
    if (this.retryListen) clearTimeout(this.retryListen);
    for (const t of this.notice.values()) clearTimeout(t);
    for (const p of this.pullers.values()) p.stop();
    await this.hb.stop(graceful);
    await this.server.close();
  }
}

/** Heartbeats plus the state channel; resolves once the heartbeats run and the channel listens (or tried to). */
export async function startClusterState(opts: ClusterStateOptions): Promise<ClusterState> {
  const inc = opts.incarnation ?? newIncarnation();
  const h = new ClusterStateHandle(opts, new StateStore(inc.toString()));
  await h.start(opts.payload ?? {});
  return h;
}
