// Quorum: does this node's partition hold a majority of the cluster's votes? A pure function
// of what the node sees, so the rules are in one readable place (docs/quorum.md):
//  - one vote per node of `nodes`, one per [arbitrator#N]; a majority is floor(total/2)+1;
//  - this node votes for itself; a peer votes when it is heard (up); a peer that left
//    gracefully, is dead or was never heard has no vote (counting a departed node would let
//    both halves of a later split count it);
//  - an arbitrator votes when it granted its vote to this partition (it grants one
//    partition at a time: src/arbitrator);
//  - two nodes, no arbitrator: losing the peer is a tie, which only a confirmed fence of the
//    peer breaks (and only if the peer can be fenced at all, and was heard since this daemon
//    started); a peer whose daemon left gracefully is neither fenced nor taken over from;
//  - while a peer is not known yet (daemon just started), nothing is decided;
//  - while the first answer of arbitrators that could make the majority is awaited (bounded
//    by their timeout), nothing is decided either: a loaded owner that wins the vote does not
//    stop its services for the few hundred ms the vote takes. The split clock runs from the
//    start of that wait (enforceSplit, src/daemon/split.ts), so split_grace still holds.

export type QuorumState = 'off' | 'waiting' | 'quorate' | 'tie' | 'hold' | 'lost';

export interface QuorumInput {
  enabled: boolean;
  self: string;
  nodes: readonly string[];
  /** peers heard now */
  up: readonly string[];
  /** peers not heard from since this daemon started */
  unknown: readonly string[];
  arbitrators: number;
  /** arbitrators whose vote this partition holds now */
  granted: number;
  /** arbitrators asked since the majority was lost whose first answer is still awaited */
  pending?: number;
  /** two-node tie only: the peer has a [stonith#] section */
  peerFenceable: boolean;
  /** two-node tie only: the peer's daemon left gracefully (its node is up, not to be fenced) */
  peerLeft?: boolean;
  /** two-node tie only: the peer was heard at least once since this daemon started */
  peerSeen?: boolean;
  /** two-node tie only: the peer was fenced (confirmed off) since it was last heard */
  peerFenced: boolean;
}

export interface QuorumView {
  state: QuorumState;
  votes: number;
  total: number;
  needed: number;
  /** may this node take services over? */
  canTakeOver: boolean;
  /** must this node apply split_action to what it runs? */
  mustSplit: boolean;
  why: string;
  /** the first answer of this many arbitrators is awaited (state `waiting`) */
  asking?: number;
}

export function majority(total: number): number {
  return Math.floor(total / 2) + 1;
}

export function quorumOf(q: QuorumInput): QuorumView {
  const total = q.nodes.length + q.arbitrators;
  const needed = majority(total);
  const nodeVotes = 1 + q.up.filter((n) => n !== q.self && q.nodes.includes(n)).length;
  const votes = nodeVotes + q.granted;
  const base = { votes, total, needed };
  const count = `${votes}/${total} votes, ${needed} needed`;
  if (!q.enabled) return { ...base, state: 'off', canTakeOver: true, mustSplit: false, why: 'quorum disabled' };
  // say what made the majority when the nodes heard alone are not one: an arbitrator's vote
  const byArbitrator = q.granted > 0 && nodeVotes < needed;
  if (votes >= needed) return { ...base, state: 'quorate', canTakeOver: true, mustSplit: false, why: byArbitrator ? `quorum with an arbitrator's vote (${count})` : `quorum (${count})` };
  if (q.unknown.length) return { ...base, state: 'waiting', canTakeOver: false, mustSplit: false, why: `waiting to hear from ${q.unknown.join(', ')} (${count})` };
  const pending = q.pending ?? 0;
  if (pending > 0 && votes + pending >= needed) return { ...base, state: 'waiting', canTakeOver: false, mustSplit: false, asking: pending, why: `asking ${pending === 1 ? 'the arbitrator' : `${pending} arbitrators`} for a vote (${count})` };
  if (q.nodes.length === 2 && q.arbitrators === 0 && q.peerFenceable) {
    const peer = q.nodes.find((n) => n !== q.self) ?? 'the peer';
    if (q.peerFenced) return { ...base, state: 'quorate', canTakeOver: true, mustSplit: false, why: `tie won: peer ${peer} fenced` };
    // a peer whose daemon was stopped is alive and keeps what it runs: nobody moves, nobody fences
    if (q.peerLeft) return { ...base, state: 'hold', canTakeOver: false, mustSplit: false, why: `the peer's daemon left (${count}): holding, no takeover, no fence` };
    // never heard since start (this node just booted alone): fencing it could start a fence loop
    // of two nodes rebooting each other (as corosync's wait_for_all)
    if (q.peerSeen === false) return { ...base, state: 'waiting', canTakeOver: false, mustSplit: false, why: `not heard the peer since start (${count}): a tie is settled by fencing only after the peer was seen once` };
    // keep what runs here: the side that fences the other wins, and a takeover always waits for that fence
    return { ...base, state: 'tie', canTakeOver: false, mustSplit: false, why: `tie (${count}): fencing the peer decides` };
  }
  return { ...base, state: 'lost', canTakeOver: false, mustSplit: true, why: `no quorum (${count})` };
}
