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

/** What every service needs of a node of the view: looked up once per node, not per service. */
interface NodeFacts {
  node: string;
  state: AgentState;
  live: boolean;
  /** live, and its `services` may be trusted to say what it does not run (isComplete) */
  trusted: boolean;
  frozen: boolean;
  services: Record<string, ServiceState> | undefined;
  lastSeen: number | null;
}

function nodeFacts(v: ClusterView): NodeFacts[] {
  const out: NodeFacts[] = [];
  for (const node in v.nodes) {
    const nv = v.nodes[node]!;
    const live = isLive(nv.state);
    out.push({
      node, state: nv.state, live, trusted: live && (nv.state === 'self' || isComplete(nv.payload)), frozen: Boolean(nv.payload?.frozen),
      services: nv.payload?.services, lastSeen: node === v.nodename ? null : lastSeenOf(v.hb.heartbeats, node),
    });
  }
  return out;
}

/** The service names of a view, sorted, restricted to `only` when given. */
function serviceNames(facts: readonly NodeFacts[], only: ReadonlySet<string> | undefined): string[] {
  const names = new Set<string>();
  for (const f of facts) if (f.services) for (const s in f.services) if (!only || only.has(s)) names.add(s);
  return [...names].sort();
}

/** The `nodes` of a service: as this node has it, else as any node published it. */
function membersOf(self: Record<string, ServiceState> | undefined, facts: readonly NodeFacts[], svc: string): string[] {
  const mine = self?.[svc]?.nodes;
  if (mine?.length) return mine;
  for (const f of facts) {
    const nodes = f.services?.[svc]?.nodes;
    if (nodes?.length) return nodes;
  }
  return [];
}

/** The per-service part of the model (what the text views draw from), in service name order. */
export function serviceViews(v: ClusterView, only: readonly string[] = []): Record<string, ServiceView> {
  return servicesOf(v, nodeFacts(v), only.length ? new Set(only) : undefined);
}

function servicesOf(v: ClusterView, facts: readonly NodeFacts[], only: ReadonlySet<string> | undefined): Record<string, ServiceView> {
  const self = v.nodes[v.nodename]?.payload?.services;
  const up = new Set(facts.filter((f) => f.state === 'up').map((f) => f.node));
  // the hb column depends on the live members only: few distinct member lists for thousands of services
  const hbOf = new Map<string, ReturnType<typeof serviceHbStatus>>();
  const services: Record<string, ServiceView> = {};
  for (const svc of serviceNames(facts, only)) {
    const members = membersOf(self, facts, svc);
    // keyed by the members (the live ones are derived from them): no array per service
    const key = members.join('\n');
    let hb = hbOf.get(key);
    if (hb === undefined) hbOf.set(key, (hb = serviceHbStatus(v.hb.heartbeats, members.filter((m) => m !== v.nodename && up.has(m)))));
    const instances: Record<string, InstanceView> = {};
    const placementInput: Record<string, PlacementInstance> = {};
    const active: string[] = [];
    for (const f of facts) {
      const s = f.services?.[svc];
      if (!s) continue;
      if (f.trusted && isActive(s)) active.push(f.node);
      const frozen = s.frozen || f.frozen;
      placementInput[f.node] = { agent: f.state, frozen, runs: runsHere(s) };
      if (f.live) {
        const i: InstanceView = { agent: f.state, stale: false, service_type: s.service_type, avail: s.avail, overall: s.overall, frozen, monitor: s.monitor, groups: { ...s.groups, hb } };
        if (s.error) i.error = s.error;
        instances[f.node] = i;
      } else {
        instances[f.node] = { agent: f.state, stale: true, service_type: s.service_type, lastSeen: f.lastSeen, last: { avail: s.avail, overall: s.overall, frozen, monitor: s.monitor, at: s.updated } };
      }
    }
    const p = placementOf(members, placementInput);
    const sv: ServiceView = { placement: p.placement, best: p.best, runningOn: p.runningOn, instances };
    if (members.length > 1 && active.length > 1) sv.multipleActive = active.sort((a, b) => members.indexOf(a) - members.indexOf(b));
    services[svc] = sv;
  }
  return services;
}

export function modelOfView(v: ClusterView, only: readonly string[] = []): SvcmonModel {
  const facts = nodeFacts(v);
  const wanted = only.length ? new Set(only) : undefined;
  const services = servicesOf(v, facts, wanted);
  const nodes: Record<string, NodeEntry> = {};
  for (const f of facts) {
    const p = v.nodes[f.node]!.payload;
    let published: PublishedServices = {};
    if (p && f.live && !wanted) published = { ...p.services };
    else for (const svc in p?.services) if (!wanted || wanted.has(svc)) published[svc] = f.live ? p!.services[svc]! : staleService(p!.services[svc]!);
    nodes[f.node] = { state: f.state, stale: !f.live, lastSeen: f.lastSeen, payload: p ? { ...p, services: published } : undefined };
  }
  const intents: Record<string, Intent> = {};
  for (const svc in v.intents) if (!wanted || wanted.has(svc)) intents[svc] = v.intents[svc]!;
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
