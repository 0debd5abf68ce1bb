// What the cluster views (svcmon, print status) may present as current facts, as pure
// functions of what a node knows: which nodes' statuses are stale, where a service should
// run and whether it runs there, why a node is quorate, and the heartbeat health of the
// live members of a service.
import type { QuorumInfo } from './node-state.js';

/** A node's agent as the local daemon sees it (PeerState, or self). */
export type AgentState = 'self' | 'up' | 'down' | 'left' | 'unknown';

/** self and up: what the node publishes now is current; anything else is its last word. */
export function isLive(state: AgentState): boolean {
  return state === 'self' || state === 'up';
}

/** The instance of a service on one node, as placement needs it. */
export interface PlacementInstance {
  agent: AgentState;
  /** the node is frozen, or the service is frozen there */
  frozen: boolean;
  /** the service runs there (runsHere of its published state) */
  runs: boolean;
}

export interface PlacementView {
  /** n/a: it runs nowhere live, or no node can take it */
  placement: 'optimal' | 'non-optimal' | 'n/a';
  /** the first eligible node of `nodes`: live, not frozen */
  best: string | undefined;
  /** the live nodes that run it */
  runningOn: string[];
}

/**
 * OpenSVC's "non-optimal placement": the service runs on live nodes, none of which is its
 * first eligible candidate in `nodes` order (live, not frozen), while that candidate is up.
 * A stale (down, left, unknown) node neither runs nor is a candidate: its statuses are old.
 */
export function placementOf(nodes: readonly string[], instances: Readonly<Record<string, PlacementInstance>>): PlacementView {
  const order = nodes.length ? nodes : Object.keys(instances);
  const live = (n: string) => instances[n] !== undefined && isLive(instances[n]!.agent);
  const best = order.find((n) => live(n) && !instances[n]!.frozen);
  const runningOn = Object.keys(instances).filter((n) => live(n) && instances[n]!.runs);
  if (best === undefined || runningOn.length === 0) return { placement: 'n/a', best, runningOn };
  return { placement: runningOn.includes(best) ? 'optimal' : 'non-optimal', best, runningOn };
}

/**
 * Why a node says it has quorum, in a few words: `peer n2 fenced` (a two-node tie won by
 * fencing: fewer votes than needed), `arbitrator#1 vote` (the nodes heard alone are not a
 * majority), `2/3 votes`. For the other states, the vote count against the majority.
 * `fenced`: the peers this node has fenced (confirmed off).
 */
export function quorumReason(q: QuorumInfo, fenced: readonly string[]): string {
  const count = `${q.votes}/${q.total} votes`;
  if (q.state === 'off') return 'quorum disabled';
  if (q.state !== 'quorate') return `${count}, ${q.needed} needed`;
  if (q.votes < q.needed) return fenced.length ? `peer ${fenced.join(', ')} fenced` : 'tie won by fencing';
  const granted = Object.entries(q.arbitrators ?? {})
    .filter(([, a]) => a.granted)
    .map(([id]) => id);
  if (granted.length && q.votes - granted.length < q.needed) return `${granted.join(', ')} vote`;
  return count;
}

/** One heartbeat as the hb column needs it (HbStats). */
export interface HbHealth {
  txState: string;
  peers: Readonly<Record<string, { rxState: string }>>;
}

/**
 * The heartbeat status of a service: this node's sends, and what it receives from the live
 * members of the service only (a dead or departed peer is not a heartbeat problem once it
 * is known to be gone). up: all good; warn: some; down: none; n/a: no heartbeat at all.
 */
export function serviceHbStatus(heartbeats: readonly HbHealth[], liveMembers: readonly string[]): 'up' | 'warn' | 'down' | 'n/a' {
  if (heartbeats.length === 0) return 'n/a';
  const states = heartbeats.flatMap((h) => [
    h.txState === 'up',
    ...liveMembers.filter((m) => h.peers[m] !== undefined).map((m) => h.peers[m]!.rxState === 'up'),
  ]);
  return states.every(Boolean) ? 'up' : states.some(Boolean) ? 'warn' : 'down';
}

/** The most recent time any heartbeat accepted a message from the node, or null. */
export function lastSeenOf(heartbeats: readonly { peers: Readonly<Record<string, { lastSeen: number | null }>> }[], node: string): number | null {
  let at: number | null = null;
  for (const h of heartbeats) {
    const seen = h.peers[node]?.lastSeen ?? null;
    if (seen !== null && (at === null || seen > at)) at = seen;
  }
  return at;
}

/** "12.3 s ago", "never" */
export function agoText(at: number | null, now: number): string {
  if (at === null) return 'never';
  const s = Math.max(0, (now - at) / 1000);
  return s < 100 ? `${s.toFixed(1)} s ago` : `${Math.round(s)} s ago`;
}
