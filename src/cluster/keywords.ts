// Keyword tables of the cluster file (<etc>/cluster.conf), one per section kind, in the same
// model as the service tables (src/config/keywords.ts) so the same code can document them.
import type { Keyword } from '../vocab/keywords.js';

export const HB_TYPES = ['unicast', 'multicast', 'disk'] as const;
export type HbType = (typeof HB_TYPES)[number];

/** Default [cluster] fence_delay, ms: above a typical IPMI power-off (a few seconds) plus heartbeat skew. */
export const FENCE_DELAY_DEFAULT = 10_000;

/** Default [cluster] split_grace, ms: a service stop of a few seconds plus heartbeat skew. */
export const SPLIT_GRACE_DEFAULT = 10_000;

export const SPLIT_ACTIONS = ['stop', 'freeze', 'crash'] as const;
export type SplitAction = (typeof SPLIT_ACTIONS)[number];

/** [cluster] */
export const clusterKeywords: Keyword[] = [
  { name: 'name', type: 'string', required: true, description: 'Cluster name. Bound into the heartbeat key derivation and the clear cluster id of every message: two clusters sharing a network or a disk ignore each other ("foreign").' },
  { name: 'nodes', type: 'list', required: true, description: 'Cluster nodes. Order matters: a node\'s position is its slot index on disk heartbeats, so append new nodes at the end.' },
  { name: 'secret', type: 'string', description: 'Cluster secret, hex, at least 32 bytes (64 hex digits), e.g. from `openssl rand -hex 32`. Give this or `secret_file`, not both.' },
  { name: 'secret_file', type: 'string', description: 'File holding the hex secret (relative paths are relative to the etc directory). Preferred over `secret`: the cluster file can then be world readable. A regular file of at most 64 KiB (a FIFO, a device or a larger file is refused).' },
  { name: 'quorum', type: 'boolean', default: true, description: 'A node acts only while it sees a majority of the cluster\'s votes (one per node, one per `[arbitrator#N]`; a node that left or is not heard has no vote): without it, it never takes a service over and applies `split_action` to the failover services it runs. In a two-node cluster without arbitrator the lost peer is a tie, settled by fencing when both nodes have a `[stonith#<node>]` section (the node that fences the other wins), else a loss. `false` turns all of this off: a split is then settled by STONITH alone, or not at all (both sides run the services) — an explicit choice `validate` warns about. Two-node clusters must set it explicitly or have an arbitrator or STONITH for both nodes. See docs/quorum.md.' },
  { name: 'split_action', type: 'string', default: 'stop', candidates: [...SPLIT_ACTIONS], description: 'What a node without quorum does with the failover services it runs. stop: stop them (and crash the node if they are not down within 80% of `split_grace`, so the majority never starts them while they still run here); freeze: leave them running, frozen — the majority then takes them over only after fencing this node; crash: crash the node at once (`echo c > /proc/sysrq-trigger`, `FERRY_CRASH_CMD` overrides).' },
  { name: 'split_grace', type: 'duration', default: SPLIT_GRACE_DEFAULT, description: 'How long a node with quorum waits, after losing a peer it cannot fence, before taking that peer\'s services over: the time the lost peer needs to notice it lost quorum and apply `split_action`. Make it longer than the slowest service stop plus a heartbeat interval. Not used for peers that are fenced (a confirmed fence is the proof) nor with `quorum = false`.' },
  { name: 'fence_delay', type: 'duration', default: FENCE_DELAY_DEFAULT, description: 'Two-node clusters: how long the second node of `nodes` waits before fencing the first (the first fences at once), so that when the nodes lose each other both ways only one fence wins the race (as Pacemaker\'s priority-fencing-delay). Make it longer than a fence takes plus the heartbeat timeout skew; 0 disables the delay (both may fence each other). Ignored with more than two nodes.' },
  { name: 'metrics_listen', type: 'string', scopable: true, description: 'Address `host:port` of the daemon\'s HTTP listener: `GET /metrics` (Prometheus text format), `GET /status.json` (the `svcmon --format json` data) and `GET /` (a live read-only status page); see docs/metrics.md. Off unless set. Use a loopback address (`127.0.0.1:9470`) unless the network is trusted: the page shows the whole cluster state without authentication. May differ per node (`metrics_listen@<node>`).' },
  { name: 'volume_plugin', type: 'string', scopable: true, check: (v) => (String(v) === '' || /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(String(v)) ? undefined : 'not a plugin name (1-64 characters of A-Z a-z 0-9 _ . -, starting with a letter or a digit)'), description: 'Name of the Docker volume plugin the daemon serves (docs/volume-plugin.md), e.g. `ferry`: it listens on `/run/docker/plugins/<name>.sock`, and `docker volume create -d <name> -o service=<svc> <vol>` makes a volume that lives in the `volumes_dir` of the service and follows it on relocate and failover. Off unless set. May differ per node (`volume_plugin@<node>`).' },
  { name: 'comment', type: 'string', description: 'Free text.' },
];

/** [hb#N] */
export const hbKeywords: Keyword[] = [
  { name: 'type', type: 'string', required: true, candidates: [...HB_TYPES], description: 'unicast: UDP datagrams to each peer\'s address; multicast: UDP to a group on one interface (TTL 1); disk: one slot per node on a shared block device or file.' },
  { name: 'interval', type: 'duration', default: 1000, description: 'Time between two beats sent on this heartbeat.' },
  { name: 'timeout', type: 'duration', default: 3000, description: 'A peer not heard on this heartbeat for this long is down on it. A peer is dead only when it is down on every heartbeat.' },
  { name: 'addr', type: 'string', scopable: true, types: ['unicast', 'multicast'], description: 'unicast: the address of each node, written `addr@<node> = 10.0.0.1` (the node binds its own and sends to the others\'); multicast: the group, required (use an administratively scoped 239.x.y.z group).' },
  { name: 'port', type: 'integer', default: 10000, scopable: true, types: ['unicast', 'multicast'], description: 'UDP port. unicast: may differ per node (`port@<node>`).' },
  { name: 'intf', type: 'string', scopable: true, types: ['unicast', 'multicast'], description: 'multicast: interface to join the group on and send from (its first IPv4 address is used); unicast: informational, the bound address decides the route.' },
  { name: 'statechan_port', type: 'integer', scopable: true, types: ['unicast', 'multicast'], description: 'TCP port of the state channel on this network (docs/state-channel.md): peers pull services\' state from each other there. Default: the heartbeat\'s UDP port number (TCP and UDP ports are distinct). unicast: may differ per node (`statechan_port@<node>`); the channel listens on the node\'s heartbeat address. multicast: it listens on `intf`\'s address (all addresses when no `intf`) and dials the address a peer\'s beats come from.' },
  { name: 'dev', type: 'string', scopable: true, types: ['disk'], description: 'Shared block device (O_DIRECT I/O) or regular file (lab: created if missing) holding one slot per node. May differ per node (`dev@<node>`) when device paths differ.' },
  { name: 'slot_size', type: 'integer', default: 65536, types: ['disk'], description: 'Bytes per node slot: a multiple of 4096. A beat is under 1 KiB whatever the number of services (the services travel on the state channel), so 4096 is enough; the default is kept for the layout of existing devices. Node i (0-based position in `nodes`) owns bytes [i*slot_size, (i+1)*slot_size).' },
  { name: 'comment', type: 'string', description: 'Free text.' },
];

/** [stonith#<node>]: how to fence a node; run by src/fence (nodemgr stonith, the daemon before a takeover). */
export const stonithKeywords: Keyword[] = [
  { name: 'agent', type: 'string', required: true, description: 'Fence agent (ClusterLabs protocol: key=value lines on stdin), an absolute path or a name looked up in /usr/sbin, /usr/bin, /sbin (not PATH), e.g. fence_ipmilan, fence_dummy.' },
  { name: 'params', type: 'shlex', default: '', description: 'Agent parameters as shell words `k=v k2="v 2"`, passed as key=value lines on stdin after action= and nodename=<node>, plus plug=<node> unless a plug or port is given here. Values of keys containing "passw" never appear in logs or messages.' },
  { name: 'timeout', type: 'duration', default: 60000, description: 'An agent run longer than this is a failed fence.' },
  { name: 'comment', type: 'string', description: 'Free text.' },
];

/** [arbitrator#N]: an extra vote, granted to one partition at a time (docs/arbitrator.md). */
export const arbitratorKeywords: Keyword[] = [
  { name: 'addr', type: 'string', required: true, description: 'Arbitrator (`nodemgr arbitrator`) host address, or a URL (http://host:port/path). Every node must reach it; it gives its vote to one partition at a time.' },
  { name: 'port', type: 'integer', default: 1215, description: 'Arbitrator port, when `addr` is not a URL.' },
  { name: 'timeout', type: 'duration', default: 2000, description: 'Time to wait for the arbitrator\'s answer; no answer is no vote.' },
  { name: 'comment', type: 'string', description: 'Free text.' },
];

/** Section name patterns of the cluster file and their tables, for validation and docs. */
export const clusterSections: { pattern: RegExp; title: string; table: readonly Keyword[] }[] = [
  { pattern: /^cluster$/, title: '[cluster]', table: clusterKeywords },
  { pattern: /^hb#[A-Za-z0-9_-]+$/, title: '[hb#<index>]', table: hbKeywords },
  { pattern: /^stonith#[^\s\]]+$/, title: '[stonith#<node>]', table: stonithKeywords },
  { pattern: /^arbitrator#[A-Za-z0-9_-]+$/, title: '[arbitrator#<index>]', table: arbitratorKeywords },
];
