// Could another node take a service over from this one? A pure function of the heartbeat view,
// asked before a monitor action that gives the service up here: `switch` (stop it so a peer
// starts it) and `crash`/`reboot` (take this node out so a peer starts it). With nobody to take
// it, such an action only turns a degraded service into a down one (and, for crash/reboot,
// every other service of the node too): the daemon keeps it running degraded instead and says
// why (docs/monitoring.md).
//
// A candidate is a node of the service's `nodes`, other than this one, that would start it as
// soon as it is free: heard now (daemon up), not frozen, holding the service unfrozen and not
// in a failed state, with quorum (as it last published it), not being fenced or fenced by
// anyone we hear. The service must be orchestrated (`orchestrate = ha`): otherwise no daemon
// starts it anywhere after it stopped here.
import type { FenceInfo, MonitorState, NodeState, ServiceState } from './node-state.js';
import type { PeerState } from '../vocab/peer-state.js';

/** What this node knows of a peer: its heartbeat state and the state it last published. */
export interface PeerInfo {
  state: PeerState;
  payload: NodeState | undefined;
}

/** Instances in these states are not started by their daemon until they are cleared. */
export const FAILED_MONITOR_STATES: readonly MonitorState[] = ['start failed', 'switched', 'stop failed'];

/**
 * Why the peer would not start its instance of svc now (undefined: it would, placement
 * order aside). Heartbeat and published state only; quorum and fencing are separate rules.
 */
export function peerUnavailable(peer: PeerInfo | undefined, svc: string): string | undefined {
  if (!peer) return 'not heard';
  if (peer.state !== 'up') return peer.state === 'left' ? 'daemon left' : peer.state === 'down' ? 'down' : 'not heard yet';
  if (!peer.payload) return 'state not heard yet';
  if (peer.payload.frozen) return 'node frozen';
  const s = peer.payload.services[svc];
  if (!s) return 'does not have the service';
  if (s.frozen) return 'service frozen there';
  if (FAILED_MONITOR_STATES.includes(s.monitor)) return s.monitor;
  return undefined;
}

export interface TakeoverInput {
  self: string;
  svc: string;
  /** this node's state of the service: its `nodes` and `orchestrate` */
  local: Pick<ServiceState, 'nodes' | 'orchestrate'>;
  peers: Record<string, PeerInfo>;
  /** this node's fencing of its peers (published as NodeState.fence) */
  fence: Record<string, FenceInfo>;
}

export type Takeover = { ok: true; candidates: string[] } | { ok: false; why: string };

/** Quorum as the peer last published it: a peer without quorum starts nothing. */
function quorumUnavailable(payload: NodeState | undefined): string | undefined {
  const q = payload?.quorum;
  // a peer that publishes no quorum (not computed yet, older agent) is not held against it
  if (!q || q.state === 'quorate' || q.state === 'off') return undefined;
  return `no quorum there (${q.state})`;
}

/** Someone we hear (this node included) is fencing the node, or fenced it. */
function fenceUnavailable(node: string, input: TakeoverInput): string | undefined {
  const records = [input.fence[node], ...Object.values(input.peers).map((p) => (p.state === 'up' ? p.payload?.fence?.[node] : undefined))];
  if (records.some((f) => f?.state === 'fencing')) return 'being fenced';
  if (records.some((f) => f?.state === 'fenced')) return 'fenced';
  return undefined;
}

/** The nodes that would take the service over if this node gave it up now, or why none would. */
export function takeoverCandidates(input: TakeoverInput): Takeover {
  const { self, svc, local } = input;
  if (local.orchestrate !== 'ha') return { ok: false, why: `orchestrate = ${local.orchestrate || 'no'}: no daemon starts it elsewhere` };
  const others = local.nodes.filter((n) => n !== self);
  if (others.length === 0) return { ok: false, why: `no other node in nodes (${local.nodes.join(' ') || self})` };
  const candidates: string[] = [];
  const reasons: string[] = [];
  for (const node of others) {
    const peer = input.peers[node];
    const why = peerUnavailable(peer, svc) ?? quorumUnavailable(peer?.payload) ?? fenceUnavailable(node, input);
    if (why === undefined) candidates.push(node);
    else reasons.push(`${node} ${why}`);
  }
  if (candidates.length) return { ok: true, candidates };
  return { ok: false, why: `no other node can take it over (${reasons.join(', ')})` };
}
