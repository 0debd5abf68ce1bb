// The two-node fence race. When two nodes lose each other on every heartbeat, each sees the
// other dead and would fence it: with power fencing both may go down. Pacemaker settles it
// with a delay on one side (priority-fencing-delay); we do the same, deterministically from
// the cluster file alone, so both sides compute the same answer without talking.
import { FENCE_DELAY_DEFAULT } from '../cluster/keywords.js';
import type { ClusterConfig } from '../cluster/config.js';

/**
 * How long `self` waits before fencing `victim`. In a two-node cluster the node listed first
 * in `nodes` fences at once and the second waits `[cluster] fence_delay`: in a true split the
 * first one's fence lands while the second is still waiting (and kills it), and when the first
 * really died the second only loses the delay. With three or more nodes quorum decides who
 * may fence, so no delay; likewise with an arbitrator (and quorum on): only the side holding its
 * vote fences. A node fencing itself or a stranger: no delay (nothing to race).
 */
export function fenceDelayMs(cluster: Pick<ClusterConfig, 'nodes' | 'fenceDelay'> & Partial<Pick<ClusterConfig, 'quorum' | 'arbitrators'>>, self: string, victim: string): number {
  if (cluster.nodes.length !== 2 || self === victim) return 0;
  if (cluster.quorum && (cluster.arbitrators?.length ?? 0) > 0) return 0;
  if (!cluster.nodes.includes(self) || !cluster.nodes.includes(victim)) return 0;
  return cluster.nodes[0] === self ? 0 : Math.max(0, cluster.fenceDelay ?? FENCE_DELAY_DEFAULT);
}
