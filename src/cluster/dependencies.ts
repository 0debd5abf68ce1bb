// Service-to-service dependencies (`parents` / `children`, OpenSVC v1): a pure function of
// the cluster state this node holds. A service starts only when each of its parents is avail
// up on a live node; a service stops (by the daemon) only when each of its children is down on
// every live node. An edge is declared on either side: `parents = db` in web's file and
// `children = web` in db's file mean the same (docs/dependencies.md).
import type { ServiceState } from './node-state.js';
import { runsHere } from './node-state.js';
import type { PeerInfo } from './takeover.js';

export interface DependencyView {
  self: string;
  /** this node's services */
  local: Record<string, ServiceState | undefined>;
  peers: Record<string, PeerInfo>;
}

/** Every state of every service held: this node's, then each peer's (as last heard, live or not). */
function allStates(v: DependencyView): { node: string; live: boolean; svc: string; s: ServiceState }[] {
  const out: { node: string; live: boolean; svc: string; s: ServiceState }[] = [];
  for (const [svc, s] of Object.entries(v.local)) if (s) out.push({ node: v.self, live: true, svc, s });
  for (const [node, p] of Object.entries(v.peers)) {
    for (const [svc, s] of Object.entries(p.payload?.services ?? {})) out.push({ node, live: p.state === 'up', svc, s });
  }
  return out;
}

/** Services with a configuration somewhere in the cluster state (any node). */
export function knownServices(v: DependencyView): Set<string> {
  return new Set(allStates(v).map((x) => x.svc));
}

/** who names whom: `parents` and `children` as declared, each service to the set it names */
interface DepIndex {
  parents: Map<string, Set<string>>;
  children: Map<string, Set<string>>;
}

/**
 * The declared edges of a view, built once per (local, peers) pair of objects: the daemon
 * builds both once per evaluation pass and asks for every service, and walking the 3 x 5000
 * states for each of them held the main thread for seconds per pass. The index holds only
 * `parents` and `children` (configuration: not edited in place during a pass).
 */
const indexes = new WeakMap<object, WeakMap<object, DepIndex>>();

function indexOf(v: DependencyView): DepIndex {
  let byPeers = indexes.get(v.local);
  if (!byPeers) indexes.set(v.local, (byPeers = new WeakMap()));
  let ix = byPeers.get(v.peers);
  if (ix) return ix;
  ix = { parents: new Map(), children: new Map() };
  const add = (m: Map<string, Set<string>>, from: string, to: readonly string[] | undefined) => {
    if (!to?.length) return;
    let set = m.get(from);
    if (!set) m.set(from, (set = new Set()));
    for (const x of to) set.add(x);
  };
  for (const x of allStates(v)) {
    add(ix.parents, x.svc, x.s.parents);
    add(ix.children, x.svc, x.s.children);
  }
  byPeers.set(v.peers, ix);
  return ix;
}

/** the services whose `rel` (parents or children) names `svc`, and those `svc` names */
function related(svc: string, v: DependencyView, own: 'parents' | 'children'): string[] {
  const ix = indexOf(v);
  const other = own === 'parents' ? ix.children : ix.parents;
  const out = new Set<string>(ix[own].get(svc) ?? []);
  if (other.size) for (const [name, names] of other) if (name !== svc && names.has(svc)) out.add(name);
  return [...out].sort();
}

/** The parents of `svc`: its own `parents`, and every service whose `children` name it. */
export function parentsOf(svc: string, v: DependencyView): string[] {
  return related(svc, v, 'parents');
}

/** The children of `svc`: its own `children`, and every service whose `parents` name it. */
export function childrenOf(svc: string, v: DependencyView): string[] {
  return related(svc, v, 'children');
}

/** Live nodes where `svc` is avail up (warn: up, degraded). */
export function upOn(svc: string, v: DependencyView): string[] {
  return allStates(v).filter((x) => x.live && x.svc === svc && (x.s.avail === 'up' || x.s.avail === 'warn')).map((x) => x.node);
}

/** Live nodes where `svc` runs, starts or stops (not down). */
export function runningOn(svc: string, v: DependencyView): string[] {
  return allStates(v).filter((x) => x.live && x.svc === svc && runsHere(x.s)).map((x) => x.node);
}

/**
 * A dependency cycle through `svc` (parent edges), as the path `svc, …, svc`, or undefined.
 * Services on a cycle never start by the daemon: each waits for another.
 */
export function cycleThrough(svc: string, v: DependencyView): string[] | undefined {
  const seen = new Set<string>();
  const walk = (node: string, path: string[]): string[] | undefined => {
    for (const p of parentsOf(node, v)) {
      if (p === svc) return [...path, p];
      if (seen.has(p)) continue;
      seen.add(p);
      const found = walk(p, [...path, p]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(svc, [svc]);
}

export type ParentsVerdict =
  | { ok: true }
  | { ok: false; kind: 'cycle'; cycle: string[]; why: string }
  | { ok: false; kind: 'parents'; waiting: string[]; unknown: string[]; why: string };

/** May `svc` start now, as far as its parents go? */
export function parentsVerdict(svc: string, v: DependencyView): ParentsVerdict {
  const parents = parentsOf(svc, v);
  if (!parents.length) return { ok: true };
  const cycle = cycleThrough(svc, v);
  if (cycle) return { ok: false, kind: 'cycle', cycle, why: `dependency cycle: ${cycle.join(' -> ')}` };
  const known = knownServices(v);
  const unknown = parents.filter((p) => !known.has(p));
  const waiting = parents.filter((p) => upOn(p, v).length === 0);
  if (!waiting.length) return { ok: true };
  const text = waiting.map((p) => (unknown.includes(p) ? `${p} (unknown service)` : p)).join(', ');
  return { ok: false, kind: 'parents', waiting, unknown, why: `${WAIT_PARENTS} ${text}` };
}

/** The children of `svc` still running on a live node, as `child@node`. */
export function childrenRunning(svc: string, v: DependencyView): string[] {
  return childrenOf(svc, v).flatMap((c) => runningOn(c, v).map((n) => `${c}@${n}`));
}

export const WAIT_PARENTS = 'waiting for parents:';
export const WAIT_CHILDREN = 'waiting for children to stop:';

export function childrenWhy(running: string[]): string {
  return `${WAIT_CHILDREN} ${running.join(', ')}`;
}

/** Is this decision reason a dependency wait (parents, children or a cycle)? */
export function isDependencyWait(why: string): boolean {
  return why.startsWith(WAIT_PARENTS) || why.startsWith(WAIT_CHILDREN) || why.startsWith('dependency cycle:');
}

/** The fields a node publishes for a service's dependencies: only those set. */
export function dependencyFields(parents: readonly string[], children: readonly string[]): Pick<ServiceState, 'parents' | 'children'> {
  return { ...(parents.length ? { parents: [...parents] } : {}), ...(children.length ? { children: [...children] } : {}) };
}

/**
 * Why a relocation of `svc` is refused, or undefined: a child still runs on a live node (the
 * parent's stop would wait for it forever, or pull the ground from under it), or a parent is
 * up nowhere (the service would stop and then wait to start). docs/dependencies.md.
 */
export function relocateRefusal(svc: string, v: DependencyView): string | undefined {
  const kids = childrenRunning(svc, v);
  if (kids.length) return `${svc} has children running (${kids.join(', ')}): stop them first, relocate ${svc}, then start them`;
  const p = parentsVerdict(svc, v);
  if (!p.ok) return `${svc} would not start on the target: ${p.why}`;
  return undefined;
}
