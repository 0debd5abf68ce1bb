// The daemon's Prometheus metrics (GET /metrics), in a registry of their own (prom-client's
// global one is never used). Two sources: at each scrape, the gauges are set from the svcmon
// model (src/daemon/svcmon-model.ts: the data `svcmon --format json` shows, so both always
// agree); the counters of things that happen (fences, actions, takeovers) are counted from the
// daemon's event records (src/daemon/event-ring.ts) as they are logged. docs/metrics.md.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SvcmonModel } from '../svcmon-model.js';
import type { EventRecord } from '../event-ring.js';
import type { Status } from '../../vocab/status.js';
import type { QuorumState } from '../../cluster/quorum.js';
import { EVENT } from '../../events.js';

export const STATUSES = ['up', 'down', 'warn', 'n/a', 'undef', 'stdby up', 'stdby down'] as const satisfies readonly Status[];
export const PEER_STATES = ['unknown', 'up', 'down', 'left'] as const;
export const QUORUM_STATES = ['off', 'waiting', 'quorate', 'tie', 'hold', 'lost'] as const satisfies readonly QuorumState[];
export const ACTION_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** The peers named dead in a takeover decision's why (src/cluster/orchestrator.ts). */
export function deadPeersOf(why: unknown): string[] {
  const m = typeof why === 'string' ? /\(([^()]+) dead\)$/.exec(why) : null;
  return m ? m[1]!.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly g: Record<string, Gauge>;
  private readonly c: Record<string, Counter>;
  private readonly actionSeconds: Histogram;
  /** epoch ms each peer was last declared down (forgotten when it is heard again) */
  private readonly downAt = new Map<string, number>();

  constructor() {
    const registers = [this.registry];
    const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers });
    const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers });
    this.g = {
      info: gauge('ferry_info', 'Always 1: the node this daemon runs on and its cluster.', ['node', 'cluster']),
      peerUp: gauge('ferry_peer_up', '1 when the peer is up (heard on a heartbeat), else 0.', ['peer']),
      peerState: gauge('ferry_peer_state', '1 for the peer\'s current state, 0 for the others.', ['peer', 'state']),
      nodeFrozen: gauge('ferry_node_frozen', '1 when the node is frozen (live nodes only).', ['node']),
      hbTxUp: gauge('ferry_heartbeat_tx_up', '1 when the last send/write on this heartbeat worked.', ['hb', 'type']),
      hbPeerUp: gauge('ferry_heartbeat_peer_up', '1 when the peer is up on this heartbeat.', ['hb', 'peer']),
      quorumState: gauge('ferry_quorum_state', '1 for this node\'s quorum state, 0 for the others.', ['state']),
      quorumOk: gauge('ferry_quorum_ok', '1 when this node has quorum (or quorum is off): it may take services over.'),
      quorumVotes: gauge('ferry_quorum_votes', 'Votes this node\'s partition holds.'),
      quorumTotal: gauge('ferry_quorum_votes_total', 'Votes in the cluster (nodes and arbitrators).'),
      quorumNeeded: gauge('ferry_quorum_votes_needed', 'Votes needed for a majority.'),
      avail: gauge('ferry_service_avail', 'Per service instance on a live node: 1 for its current avail status, 0 for the others.', ['service', 'node', 'status']),
      overall: gauge('ferry_service_overall', 'Per service instance on a live node: 1 for its current overall status, 0 for the others.', ['service', 'node', 'status']),
      svcFrozen: gauge('ferry_service_frozen', '1 when the instance is frozen (live nodes only).', ['service', 'node']),
      svcRunning: gauge('ferry_service_running_nodes', 'Number of live nodes the service runs on.', ['service']),
      failover: gauge('ferry_last_failover_duration_seconds', 'Last takeover of the service by this node: from the dead peer declared down to the start done.', ['service']),
    };
    this.c = {
      hbTx: counter('ferry_heartbeat_tx_total', 'Messages sent/written on this heartbeat.', ['hb', 'type']),
      hbRx: counter('ferry_heartbeat_rx_total', 'Messages accepted from the peer on this heartbeat.', ['hb', 'peer']),
      hbDrops: counter('ferry_heartbeat_drops_total', 'Messages dropped on this heartbeat, by reason.', ['hb', 'reason']),
      fenceAttempts: counter('ferry_fence_attempts_total', 'Fences of a peer begun by this daemon.', ['target']),
      fenceFailures: counter('ferry_fence_failures_total', 'Fences of a peer that failed.', ['target']),
      actions: counter('ferry_actions_total', 'Actions the daemon ran on a local instance, by kind and result.', ['service', 'kind', 'result']),
      failovers: counter('ferry_failovers_total', 'Takeovers (start of a service in place of a dead peer) done by this node.', ['service']),
    };
    this.actionSeconds = new Histogram({ name: 'ferry_action_duration_seconds', help: 'Duration of the daemon\'s actions on local instances.', labelNames: ['kind', 'result'], buckets: ACTION_BUCKETS, registers });
  }

  /** Count what the records tell (fed from the event ring, oldest first). */
  observe(records: readonly EventRecord[]): void {
    for (const r of records) {
      const str = (k: string): string | undefined => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
      switch (r.event) {
        case EVENT.peerDown: {
          const p = str('peer');
          if (p) this.downAt.set(p, r.time);
          break;
        }
        case EVENT.peerUp:
        case EVENT.peerLeft: {
          const p = str('peer');
          if (p) this.downAt.delete(p);
          break;
        }
        case EVENT.fenceBegin: {
          const t = str('target');
          if (t) this.c.fenceAttempts!.inc({ target: t });
          break;
        }
        case EVENT.fenceEnd: {
          const t = str('target');
          if (t && r.ok !== true) this.c.fenceFailures!.inc({ target: t });
          break;
        }
        case EVENT.daemonActionEnd: {
          const svc = str('svc');
          const kind = str('kind');
          if (!svc || !kind) break;
          const result = r.ok === true ? 'ok' : 'failed';
          this.c.actions!.inc({ service: svc, kind, result });
          if (typeof r.ms === 'number' && r.ms >= 0) this.actionSeconds.observe({ kind, result }, r.ms / 1000);
          if (kind === 'start' && result === 'ok') {
            const since = deadPeersOf(r.why).map((p) => this.downAt.get(p)).filter((t): t is number => t !== undefined);
            if (since.length) {
              this.g.failover!.set({ service: svc }, Math.max(0, r.time - Math.max(...since)) / 1000);
              this.c.failovers!.inc({ service: svc });
            }
          }
          break;
        }
        default:
      }
    }
  }

  /** Set the state gauges from the model, then the text exposition format. */
  async render(m: SvcmonModel): Promise<string> {
    this.update(m);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private update(m: SvcmonModel): void {
    const g = this.g;
    for (const x of [...Object.values(g).filter((x) => x !== g.failover), this.c.hbTx!, this.c.hbRx!, this.c.hbDrops!]) x.reset();
    g.info!.set({ node: m.nodename, cluster: m.cluster ?? '' }, 1);
    for (const [node, n] of Object.entries(m.nodes)) {
      if (node !== m.nodename) {
        g.peerUp!.set({ peer: node }, n.state === 'up' ? 1 : 0);
        for (const s of PEER_STATES) g.peerState!.set({ peer: node, state: s }, n.state === s ? 1 : 0);
      }
      if (!n.stale && n.payload) g.nodeFrozen!.set({ node }, n.payload.frozen ? 1 : 0);
    }
    const q = m.nodes[m.nodename]?.payload?.quorum;
    if (q) {
      for (const s of QUORUM_STATES) g.quorumState!.set({ state: s }, q.state === s ? 1 : 0);
      g.quorumOk!.set(q.state === 'quorate' || q.state === 'off' ? 1 : 0);
      g.quorumVotes!.set(q.votes);
      g.quorumTotal!.set(q.total);
      g.quorumNeeded!.set(q.needed);
    }
    for (const hb of m.hb?.heartbeats ?? []) {
      g.hbTxUp!.set({ hb: hb.id, type: hb.type }, hb.txState === 'up' ? 1 : 0);
      this.c.hbTx!.inc({ hb: hb.id, type: hb.type }, hb.tx);
      for (const [reason, n] of Object.entries(hb.drops)) this.c.hbDrops!.inc({ hb: hb.id, reason }, n);
      for (const [peer, p] of Object.entries(hb.peers)) {
        g.hbPeerUp!.set({ hb: hb.id, peer }, p.rxState === 'up' ? 1 : 0);
        this.c.hbRx!.inc({ hb: hb.id, peer }, p.rx);
      }
    }
    for (const [service, sv] of Object.entries(m.services)) {
      g.svcRunning!.set({ service }, sv.runningOn.length);
      for (const [node, inst] of Object.entries(sv.instances)) {
        if (inst.stale) continue;
        for (const s of STATUSES) {
          g.avail!.set({ service, node, status: s }, inst.avail === s ? 1 : 0);
          g.overall!.set({ service, node, status: s }, inst.overall === s ? 1 : 0);
        }
        g.svcFrozen!.set({ service, node }, inst.frozen ? 1 : 0);
      }
    }
  }
}
