// The one shape of `svcmon --format json`, with or without a daemon, and what the text views
// draw from: per service, its instances on each node, current facts only for live nodes
// (a down, left or unknown node's last statuses are kept under `last`, marked stale), and
// its placement. The daemon's raw node view rides along with stale nodes' statuses moved the
// same way, so no field a script counts (avail, overall) is ever a dead node's old word.
import type { ClusterView } from './control-protocol.js';
import type { HbSnapshot } from '../heartbeat/index.js';
import type { Intent, MonitorState, NodeState, ServiceGroups, ServiceState } from '../cluster/node-state.js';
import { isComplete, runsHere } from '../cluster/node-state.js';
import { isActive } from '../cluster/multiple-active.js';
import type { Status } from '../vocab/status.js';
import type { ServiceStatus } from '../service/status.js';
import { type AgentState, type PlacementInstance, type PlacementView, isLive, lastSeenOf, placementOf, serviceHbStatus } from '../cluster/view.js';

/** A node's last word on a service, for the record: not current. */
export interface LastWord {
  avail: Status;
  overall: Status;
  frozen: boolean;
  monitor: MonitorState;
  /** epoch ms of that status refresh */
  at: number;
}

export type InstanceView =
  | {
      agent: AgentState;
      stale: false;
      service_type: string;
      avail: Status;
      overall: Status;
      frozen: boolean;
      /** undefined without a daemon */
      monitor: MonitorState | undefined;
      groups: ServiceGroups & { hb: Status };
      error?: string;
    }
  | {
      agent: AgentState;
      stale: true;
      service_type: string;
      /** epoch ms of the last heartbeat heard from the node, null if never */
      lastSeen: number | null;
      last: LastWord;
    };

export interface ServiceView extends PlacementView {
  instances: Record<string, InstanceView>;
  /** a failover service active on more than one live node: those nodes (absent otherwise) */
  multipleActive?: string[];
}

/** A peer's published state with its services' statuses made stale when the peer is not live. */
export type PublishedServices = Record<string, Omit<ServiceState, 'avail' | 'overall'> & ({ avail: Status; overall: Status } | { stale: true; last: LastWord })>;

export interface NodeEntry {
  state: AgentState;
  stale: boolean;
  /** epoch ms of the last heartbeat heard from it (null if never; self: null) */
  lastSeen: number | null;
  payload: (Omit<NodeState, 'services'> & { services: PublishedServices }) | undefined;
}

export interface SvcmonModel {
  nodename: string;
  /** null without a daemon */
  cluster: string | null;
  daemon: { running: true } | { running: false; error: string };
  services: Record<string, ServiceView>;
  nodes: Record<string, NodeEntry>;
  hb: HbSnapshot | null;
  intents: Record<string, Intent>;
}

const lastWord = (s: ServiceState): LastWord => ({ avail: s.avail, overall: s.overall, frozen: s.frozen, monitor: s.monitor, at: s.updated });

function staleService(s: ServiceState): PublishedServices[string] {
  const { avail: _a, overall: _o, ...rest } = s;
  return { ...rest, stale: true, last: lastWord(s) };
}

/** The service names of a view, sorted, restricted to `only` when given. */
function serviceNames(v: ClusterView, only: readonly string[]): string[] {
  const names = new Set<string>();
  for (const nv of Object.values(v.nodes)) for (const s of Object.keys(nv.payload?.services ?? {})) names.add(s);
  return [...names].filter((n) => !only.length || only.includes(n)).sort();
}

/** The `nodes` of a service: as this node has it, else as any node published it. */
function membersOf(v: ClusterView, svc: string): string[] {
  const mine = v.nodes[v.nodename]?.payload?.services[svc]?.nodes;
  if (mine?.length) return mine;
  for (const nv of Object.values(v.nodes)) if (nv.payload?.services[svc]?.nodes.length) return nv.payload.services[svc]!.nodes;
  return [];
}

export function modelOfView(v: ClusterView, only: readonly string[] = []): SvcmonModel {
  const names = serviceNames(v, only);
  const lastSeen = (n: string) => (n === v.nodename ? null : lastSeenOf(v.hb.heartbeats, n));
  const services: Record<string, ServiceView> = {};
  for (const svc of names) {
    const members = membersOf(v, svc);
    const liveMembers = members.filter((m) => m !== v.nodename && v.nodes[m]?.state === 'up');
    const hb = serviceHbStatus(v.hb.heartbeats, liveMembers);
    const instances: Record<string, InstanceView> = {};
    const placementInput: Record<string, PlacementInstance> = {};
    const active: string[] = [];
    for (const [node, nv] of Object.entries(v.nodes)) {
      const s = nv.payload?.services[svc];
      if (!s) continue;
      if (isLive(nv.state) && (nv.state === 'self' || isComplete(nv.payload)) && isActive(s)) active.push(node);
      const frozen = s.frozen || Boolean(nv.payload?.frozen);
      placementInput[node] = { agent: nv.state, frozen, runs: runsHere(s) };
      instances[node] = isLive(nv.state)
        ? { agent: nv.state, stale: false, service_type: s.service_type, avail: s.avail, overall: s.overall, frozen, monitor: s.monitor, groups: { ...s.groups, hb }, ...(s.error ? { error: s.error } : {}) }
        : { agent: nv.state, stale: true, service_type: s.service_type, lastSeen: lastSeen(node), last: { ...lastWord(s), frozen } };
    }
    const multiple = members.length > 1 && active.length > 1 ? { multipleActive: active.sort((a, b) => members.indexOf(a) - members.indexOf(b)) } : {};
    services[svc] = { ...placementOf(members, placementInput), instances, ...multiple };
  }
  const nodes: Record<string, NodeEntry> = {};
  for (const [node, nv] of Object.entries(v.nodes)) {
    const live = isLive(nv.state);
    const p = nv.payload;
    const published: PublishedServices = {};
    for (const [svc, s] of Object.entries(p?.services ?? {})) if (!only.length || only.includes(svc)) published[svc] = live ? s : staleService(s);
    nodes[node] = { state: nv.state, stale: !live, lastSeen: lastSeen(node), payload: p ? { ...p, services: published } : undefined };
  }
  const intents = Object.fromEntries(Object.entries(v.intents).filter(([svc]) => !only.length || only.includes(svc)));
  return { nodename: v.nodename, cluster: v.cluster, daemon: { running: true }, services, nodes, hb: v.hb, intents };
}

/** Without a daemon: this node's own statuses, the same shape. */
export function modelOfLocal(nodename: string, statuses: readonly ServiceStatus[], daemonError: string): SvcmonModel {
  const services: Record<string, ServiceView> = {};
  for (const s of statuses) {
    const { hb, ...groups } = s.groups;
    services[s.svcname] = {
      placement: 'n/a',
      best: undefined,
      runningOn: [],
      instances: { [nodename]: { agent: 'self', stale: false, service_type: s.service_type, avail: s.avail, overall: s.overall, frozen: s.frozen, monitor: undefined, groups: { ...groups, hb } } },
    };
  }
  return {
    nodename,
    cluster: null,
    daemon: { running: false, error: daemonError },
    services,
    nodes: { [nodename]: { state: 'self', stale: false, lastSeen: null, payload: undefined } },
    hb: null,
    intents: {},
  };
}
