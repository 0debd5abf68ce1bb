// The peers whose config sums sync#i0 reads (the config-peers file the daemon writes per
// service, src/resources/config-sync-status.ts): the live peers with a complete state, and a
// peer that is up but behind its beats (a pull of its new generation in flight: the state
// channel's peers() says incomplete at once) with the configs of its last complete state.
// Dropping such a peer for the length of a slow pull rewrote every service's file twice, and
// each write made the next tick read every service again (at 100 services, 200 fsyncs and 200
// check processes on the standby: docs/benchmarks.md, "Idle"). Installs still act on complete
// states only (the caller's `live`).
import type { NodeState } from '../cluster/node-state.js';
import { isNodeState } from '../cluster/node-state.js';
import type { PeerView } from '../heartbeat/index.js';

/** per peer: its configs in its last complete state; kept by the caller, updated here */
export type LastConfigs = Map<string, NodeState['configs']>;

export function sumPeers(live: readonly [string, NodeState][], views: Readonly<Record<string, PeerView>>, last: LastConfigs): [string, NodeState][] {
  const out = [...live];
  const liveNames = new Set(live.map(([n]) => n));
  for (const [n, p] of live) last.set(n, p.configs);
  for (const [n, configs] of [...last]) {
    if (liveNames.has(n)) continue;
    const v = views[n];
    if (v?.state === 'up' && isNodeState(v.payload) && v.payload.complete === false && configs) out.push([n, { ...v.payload, configs }]);
    else last.delete(n);
  }
  return out;
}
