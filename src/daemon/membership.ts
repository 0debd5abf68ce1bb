// Who this node knows in the cluster: the peers' liveness as the heartbeats report it (their
// incarnations are checked by the heartbeat layer: src/heartbeat/envelope.ts; this node's is
// src/daemon/incarnation.ts), the state each one last published, the peers heard at least
// once since this daemon started, and this node's quorum (the pure src/cluster/quorum.ts
// over them, with the arbitrators' votes and the two-node tie's fence). The orchestrator's
// first inputs: the failover path reads heartbeat → membership → orchestrator.
import type { ClusterConfig } from '../cluster/config.js';
import { isNodeState } from '../cluster/node-state.js';
import type { PeerInfo } from '../cluster/orchestrator.js';
import { quorumOf, type QuorumView } from '../cluster/quorum.js';
import type { Heartbeats } from '../heartbeat/index.js';
import type { PeerState } from '../vocab/peer-state.js';
import { EVENT, peerEvent } from '../events.js';
import type { Logger } from '../log.js';
import type { ArbitratorVotes } from './arbitrator-votes.js';
import type { Fencing } from './fencing.js';

export interface MembershipDeps {
  cluster: ClusterConfig;
  self: string;
  log: Logger;
  hb: Heartbeats;
  fencing: Fencing;
  votes: ArbitratorVotes;
  /** the quorum reason changed: publish it now */
  quorumChanged: () => void;
}

export class Membership {
  /** peers heard at least once since this daemon started */
  private readonly seen = new Set<string>();
  private view: QuorumView | undefined;
  /** when this node last stopped holding a majority while awaiting an arbitrator's first answer */
  private lostAt: number | undefined;

  constructor(private readonly d: MembershipDeps) {}

  /** This node's quorum as last computed (undefined: not yet). */
  get quorum(): QuorumView | undefined {
    return this.view;
  }

  /** When the majority was lost, the wait for a first arbitrator vote included (the split clock). */
  get majorityLostAt(): number | undefined {
    return this.lostAt;
  }

  /** A peer's heartbeat state changed (the heartbeats' `peer` event). */
  peerChanged(peer: string, state: PeerState, prev: PeerState): void {
    this.d.log.info({ event: peerEvent(state), peer, state, prev }, `peer ${peer} ${state}`);
    if (state === 'up') {
      this.seen.add(peer);
      this.d.fencing.peerBack(peer);
    }
    if (state === 'down') this.d.fencing.peerDown(peer);
  }

  isDown(node: string): boolean {
    return this.d.hb.peers()[node]?.state === 'down';
  }

  /** The peers heard now. */
  up(): string[] {
    return Object.entries(this.d.hb.peers()).filter(([, v]) => v.state === 'up').map(([n]) => n);
  }

  /** Every peer: its heartbeat state and the node state it last published. */
  peerInfo(): Record<string, PeerInfo> {
    const out: Record<string, PeerInfo> = {};
    for (const [n, v] of Object.entries(this.d.hb.peers())) out[n] = { state: v.state, payload: isNodeState(v.payload) ? v.payload : undefined };
    return out;
  }

  /** This node's quorum now; asks the arbitrators when the nodes heard are not a majority. */
  computeQuorum(peers: Record<string, PeerInfo>): QuorumView {
    const { cluster, self, fencing, votes } = this.d;
    const nodes = cluster.nodes;
    const up = nodes.filter((n) => n !== self && peers[n]?.state === 'up');
    const unknown = nodes.filter((n) => n !== self && (peers[n] === undefined || peers[n]!.state === 'unknown'));
    const peer = nodes.length === 2 ? nodes.find((n) => n !== self) : undefined;
    const input = {
      enabled: cluster.quorum, self, nodes, up, unknown, arbitrators: cluster.arbitrators.length, granted: 0,
      peerFenceable: peer !== undefined && fencing.canFence(peer), peerFenced: peer !== undefined && fencing.isFenced(peer),
      peerLeft: peer !== undefined && peers[peer]?.state === 'left', peerSeen: peer !== undefined && this.seen.has(peer),
    };
    // ask only once every peer is known (up or declared down): a node that asked while its
    // peers were still starting would hold the vote for a lease after they joined
    if (cluster.quorum && cluster.arbitrators.length && quorumOf(input).state === 'lost') votes.ask(up);
    else votes.release();
    const view = quorumOf({ ...input, granted: votes.granted(), pending: votes.pending() });
    // the split clock starts when the majority is lost, the wait for a first vote included
    if (view.asking) this.lostAt ??= Date.now();
    else if (!view.mustSplit) this.lostAt = undefined;
    // a tie of two nodes: race to fence the peer (fence_delay lets the first node of `nodes` win)
    if (view.state === 'tie' && peer) fencing.ensureFence(peer);
    if (view.canTakeOver && this.view && !this.view.canTakeOver) fencing.quorumGained();
    const changed = this.view?.why !== view.why;
    const event = this.view?.canTakeOver === view.canTakeOver ? EVENT.quorumChanged : view.canTakeOver ? EVENT.quorumGained : EVENT.quorumLost;
    this.view = view;
    if (changed) {
      const level = view.canTakeOver ? 'info' : 'warn';
      this.d.log[level]({ event, quorum: view.state, votes: view.votes, total: view.total, needed: view.needed }, view.why);
      this.d.quorumChanged();
    }
    return view;
  }
}
