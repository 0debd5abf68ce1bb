// Multiple-active: a failover service up on more than one live node (a node that came back
// with its app still up, a start by hand on the standby). Pure functions of what this node
// knows, like decide(); each node acts on its own instance only. Rules (docs/monitoring.md):
//  - counted: this node and the live peers (`up`, state pulled for its current generation)
//    whose instance is up or warn, or starting/stopping (it holds resources). A down, left or
//    unknown peer never counts: its statuses are its last word, not a fact. `stdby up` is
//    not active (standby resources are up on every node by design);
//  - confirmed once the same set of nodes is seen on CONFIRM_REFRESHES consecutive
//    refreshes of this node; a refresh while this node's own instance is starting or
//    stopping counts nothing (its action owns the state);
//  - frozen anywhere (node or service, on any node that runs it): alarm only, nothing is
//    stopped anywhere until it is thawed — a freeze is the operator's "hands off";
//  - orchestrate = no: alarm only (the daemon never starts or stops such a service);
//  - the `multiple_active` keyword then says what to do: stop_start (default) stops it on
//    every node but the one the orchestrator places it on (the first of `nodes` that runs it
//    and is eligible: not in a failed state), stop_only stops it everywhere and leaves it
//    stopped (as an operator's stop would), block only raises the alarm;
//  - stop_only is a verdict for every node: a node that stops under it records the nodes it
//    saw (Expect.multipleActive). A live peer's such stop, naming this node and later than
//    this node's own last start or stop, stops this instance too, confirmed or not: else the
//    first node to stop would end the multiple-active before a slower node confirmed it, and
//    leave the service up on that one.
import type { ServiceState } from './node-state.js';
import { isComplete } from './node-state.js';
import { FAILED_MONITOR_STATES, type PeerInfo } from './takeover.js';

export const MULTIPLE_ACTIVE_POLICIES = ['stop_start', 'stop_only', 'block'] as const;
export type MultipleActivePolicy = (typeof MULTIPLE_ACTIVE_POLICIES)[number];

/** consecutive refreshes that must see the same nodes active before anything is stopped */
export const CONFIRM_REFRESHES = 2;

/** Is this instance active (holding the service's resources)? */
export function isActive(s: Pick<ServiceState, 'avail' | 'monitor'> | undefined): boolean {
  if (!s) return false;
  return s.avail === 'up' || s.avail === 'warn' || s.monitor === 'starting' || s.monitor === 'stopping';
}

export interface MultipleActiveInput {
  self: string;
  svc: string;
  local: ServiceState;
  nodeFrozen: boolean;
  peers: Record<string, PeerInfo>;
  policy: MultipleActivePolicy;
}

/** What this node remembers between refreshes: the active nodes seen, and for how many refreshes in a row. */
export interface MultipleActiveTrack {
  nodes: string[];
  count: number;
}

export interface MultipleActiveVerdict {
  /** the live nodes where it is active, `nodes` order first */
  active: string[];
  /** confirmed on CONFIRM_REFRESHES consecutive refreshes */
  confirmed: boolean;
  /** stop_start: the node that keeps it */
  keep?: string;
  /** for this node's own instance */
  action: 'none' | 'stop';
  why: string;
  /** to pass back at the next refresh (undefined: not multiple-active) */
  track: MultipleActiveTrack | undefined;
}

/** The live nodes where the service is active, `nodes` order first, then the others by name. */
export function activeNodes(input: Pick<MultipleActiveInput, 'self' | 'svc' | 'local' | 'peers'>): string[] {
  const on = new Set<string>();
  if (isActive(input.local)) on.add(input.self);
  for (const [n, p] of Object.entries(input.peers)) {
    if (p.state === 'up' && isComplete(p.payload) && isActive(p.payload?.services[input.svc])) on.add(n);
  }
  const rank = (n: string) => (input.local.nodes.includes(n) ? input.local.nodes.indexOf(n) : Infinity);
  return [...on].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function frozenOn(input: MultipleActiveInput, node: string): boolean {
  if (node === input.self) return input.nodeFrozen || input.local.frozen;
  const p = input.peers[node]?.payload;
  return Boolean(p?.frozen || p?.services[input.svc]?.frozen);
}

function failedOn(input: MultipleActiveInput, node: string): boolean {
  const s = node === input.self ? input.local : input.peers[node]?.payload?.services[input.svc];
  return s !== undefined && FAILED_MONITOR_STATES.includes(s.monitor);
}

/** The live peer whose stop_only stop named this node, after this node's own last word on the service. */
export function stopOnlyBy(input: Pick<MultipleActiveInput, 'self' | 'svc' | 'local' | 'peers'>): string | undefined {
  const since = input.local.expect?.at ?? 0;
  return Object.entries(input.peers).find(([, p]) => {
    const e = p.state === 'up' ? p.payload?.services[input.svc]?.expect : undefined;
    return e?.state === 'down' && e.at > since && e.multipleActive?.includes(input.self);
  })?.[0];
}

/** One refresh of this node: is the service multiple-active, and what does this node do with its instance. */
export function multipleActive(input: MultipleActiveInput, prev: MultipleActiveTrack | undefined): MultipleActiveVerdict {
  const active = activeNodes(input);
  const busyHere = input.local.monitor === 'starting' || input.local.monitor === 'stopping';
  const by = input.policy === 'stop_only' && isActive(input.local) ? stopOnlyBy(input) : undefined;
  if (by && active.length < 2) {
    const stop = !busyHere && !input.nodeFrozen && !input.local.frozen && input.local.orchestrate !== 'no';
    const why = `multiple_active = stop_only: ${by} stopped it as multiple-active with this node`;
    return { active, confirmed: true, action: stop ? 'stop' : 'none', why: stop ? `${why}, stopping it here too` : `${why}; ${busyHere ? `${input.local.monitor} here` : 'frozen or orchestrate = no here: alarm only'}`, track: { nodes: active, count: CONFIRM_REFRESHES } };
  }
  if (active.length < 2) return { active, confirmed: false, action: 'none', why: 'active on one node at most', track: undefined };
  const same = prev !== undefined && prev.nodes.length === active.length && prev.nodes.every((n, i) => n === active[i]);
  const count = busyHere ? (same ? prev.count : 0) : same ? prev.count + 1 : 1;
  const track = { nodes: active, count };
  // a peer's stop_only stop naming this node is that peer's confirmation, for every node it saw
  const confirmed = count >= CONFIRM_REFRESHES || by !== undefined;
  const none = (why: string, keep?: string): MultipleActiveVerdict => ({ active, confirmed, action: 'none', why, track, ...(keep ? { keep } : {}) });
  if (!confirmed) return none(busyHere ? `${input.local.monitor} here: not counted` : `seen on ${count} refresh${count > 1 ? 'es' : ''}, ${CONFIRM_REFRESHES} needed`);
  const frozen = active.filter((n) => frozenOn(input, n));
  if (frozen.length) return none(`frozen on ${frozen.join(', ')}: alarm only until thawed`);
  if (input.local.orchestrate === 'no') return none('orchestrate = no: alarm only');
  if (input.policy === 'block') return none('multiple_active = block: alarm only');
  const here = active.includes(input.self);
  if (input.policy === 'stop_only') return here && !busyHere ? { active, confirmed, action: 'stop', why: 'multiple_active = stop_only: stopping it everywhere', track } : none('multiple_active = stop_only');
  const keep = active.find((n) => !failedOn(input, n)) ?? active[0]!;
  if (!here || keep === input.self || busyHere) return none(`multiple_active = stop_start: ${keep} keeps it`, keep);
  return { active, confirmed, keep, action: 'stop', why: `multiple_active = stop_start: ${keep} keeps it, stopping it here`, track };
}
