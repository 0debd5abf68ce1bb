// What the views say of configuration replication (docs/config-replication.md): a config
// conflict a live node resolved, and a node whose cluster file differs from this node's.
import type { ClusterView } from '../daemon/control-protocol.js';
import { isLive } from '../cluster/view.js';
import { utcClock } from '../util/clock.js';

/** One note per live node that resolved a conflict on the service recently. */
export function configConflictNotes(v: ClusterView, svc: string): string[] {
  const out: string[] = [];
  for (const node in v.nodes) {
    const nv = v.nodes[node]!;
    const c = nv.payload?.configs?.[svc]?.conflict;
    if (!c || !isLive(nv.state)) continue;
    out.push(`${svc}@${node}: config conflict with ${c.with} at ${utcClock(c.at)}: kept ${c.kept.slice(0, 12)}, discarded ${c.lost.slice(0, 12)} (newest change wins)`);
  }
  return out;
}

/** "cluster.conf differs" when a live node's cluster file digest is not this node's. */
export function clusterFileMismatch(v: ClusterView, node: string): boolean {
  const mine = v.nodes[v.nodename]?.payload?.cluster_sum;
  const nv = v.nodes[node];
  const theirs = nv?.payload?.cluster_sum;
  if (!mine || !theirs || node === v.nodename || !nv || !isLive(nv.state)) return false;
  return mine.slice(0, theirs.length) !== theirs;
}
