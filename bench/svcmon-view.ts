// A synthetic daemon view of the scale soak's cluster (bench/soak-scale.ts): NODES nodes, each
// publishing every one of SERVICES services (`orchestrate = ha`, nodes rotated, no resource:
// avail n/a, run by the last start on its first node), with config digests, quorum and two
// heartbeats, as `nodemgr daemon run` answers the `view` op. Deterministic: the same
// arguments give the same view (the reference input of bench/svcmon-scale.ts).
import type { ClusterView, NodeView } from '../src/daemon/control-protocol.js';
import type { ConfigDigest, NodeState, ServiceState } from '../src/cluster/node-state.js';
import type { HbStats } from '../src/heartbeat/index.js';
import { emptyDrops } from '../src/heartbeat/types.js';

export const svcName = (i: number): string => `sc${String(i).padStart(4, '0')}`;

/** a fixed hex string of `len` characters derived from `seed` */
function hex(seed: number, len: number): string {
  let s = '';
  let x = (seed * 2654435761) >>> 0;
  while (s.length < len) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += x.toString(16).padStart(8, '0');
  }
  return s.slice(0, len);
}

export function syntheticView(nodeCount = 3, services = 5000, now = Date.UTC(2026, 11, 3, 16, 0, 0)): ClusterView {
  const names = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
  const rotated = (i: number) => [...names.slice(i % nodeCount), ...names.slice(0, i % nodeCount)];
  const nodes: Record<string, NodeView> = {};
  for (const [k, node] of names.entries()) {
    const svcs: Record<string, ServiceState> = {};
    const configs: Record<string, ConfigDigest> = {};
    for (let i = 0; i < services; i++) {
      const members = rotated(i);
      const mine = members[0] === node;
      svcs[svcName(i)] = {
        avail: 'n/a', overall: 'n/a', frozen: false, orchestrate: 'ha', service_type: 'PRD', nodes: members, monitor: 'idle',
        groups: { container: 'n/a', ip: 'n/a', disk: 'n/a', fs: 'n/a', share: 'n/a', app: 'n/a', sync: 'n/a' },
        ...(mine ? { expect: { state: 'up' as const, at: now - 600_000 + i } } : {}),
        updated: now - 1_000 - ((i * 7 + k) % 1000),
      };
      configs[svcName(i)] = { updated: now - 3_600_000 + i, sum: hex(i, 64), hist: [hex(i + 1, 16)], nodes: members };
    }
    const payload: NodeState = {
      v: 1, frozen: false, cluster_sum: hex(99, 16), configs,
      quorum: { state: 'quorate', votes: nodeCount, total: nodeCount, needed: Math.floor(nodeCount / 2) + 1, why: `${nodeCount}/${nodeCount} votes` },
      fence: {}, services: svcs, intents: {},
    };
    nodes[node] = { state: k === 0 ? 'self' : 'up', payload: k === 0 ? payload : { ...payload, complete: true } };
  }
  const peers = names.slice(1);
  const heartbeats: HbStats[] = ['unicast', 'disk'].map((type, i) => ({
    id: `hb#${i + 1}`, type: type as HbStats['type'], txState: 'up', txError: undefined, tx: 10_000, lastSent: now - 200, drops: emptyDrops(),
    peers: Object.fromEntries(peers.map((n) => [n, { rxState: 'up' as const, lastSeen: now - 300 - i * 100, rx: 10_000, drops: emptyDrops() }])),
  }));
  return { nodename: names[0]!, cluster: 'scale', nodes, hb: { at: now, nodename: names[0]!, incarnation: '1', heartbeats }, intents: {} };
}
