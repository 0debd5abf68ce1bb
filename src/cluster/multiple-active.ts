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
//    leave the service up on that one;
//  - a stop that did not end it (the instance still `warn` after a stop that succeeded, a
//    failed stop): while the same nodes stay active, this node orders the next stop only
//    stopBackOffMs(stops) after the last one ended (2 s, 4 s, 8 s … 60 s), not at every
//    refresh; a changed set of nodes, or the end of the multiple-active, starts over.
import type { ServiceState } from './node-state.js';
import { isComplete } from './node-state.js';
import { FAILED_MONITOR_STATES, type PeerInfo } from './takeover.js';

export const MULTIPLE_ACTIVE_POLICIES = ['stop_start', 'stop_only', 'block'] as const;
export type MultipleActivePolicy = (typeof MULTIPLE_ACTIVE_POLICIES)[number];

/** consecutive refreshes that must see the same nodes active before anything is stopped */
export const CONFIRM_REFRESHES = 2;

/**
 * A stop this node ordered did not end the multiple-active (the same nodes still active after
 * it): the next one is due this long after it ended, doubled for each further stop, up to
 * STOP_BACKOFF_MAX_MS. Repeating the stop is the safe side (some of it may still hold
 * resources), but at every refresh (about 1 Hz) it is a stop action and its log lines per second, for ever.
 */
export const STOP_BACKOFF_FIRST_MS = 2_000;
export const STOP_BACKOFF_MAX_MS = 60_000;

/** After this node's `stops`-th stop for the same nodes (stops >= 1), how long until the next one is due. */
export function stopBackOffMs(stops: number): number {
  return Math.min(STOP_BACKOFF_FIRST_MS * 2 ** Math.max(0, stops - 1), STOP_BACKOFF_MAX_MS);
}

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
  /** the caller's clock, ms (the daemon's is monotonic): the stop back-off is timed on it */
  now: number;
}

/** What this node remembers between refreshes: the active nodes seen, and for how many refreshes in a row. */
export interface MultipleActiveTrack {
  nodes: string[];
  count: number;
  /** stops this node ordered while these same nodes were active */
  stops: number;
  /** what the back-off runs from (input.now): the last stop ordered, or later the last refresh that saw this instance still starting or stopping */
  since: number;
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
  /** on a stop and its back-off: the stops this node ordered for these same nodes (this one included) */
  stops?: number;
  /** a stop that did not end it: the next one is due in this many ms (about: it runs from the end of the last) */
  nextStopInMs?: number;
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

function sameNodes(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** One refresh of this node: is the service multiple-active, and what does this node do with its instance. */
export function multipleActive(input: MultipleActiveInput, prev: MultipleActiveTrack | undefined): MultipleActiveVerdict {
  const active = activeNodes(input);
  const busyHere = input.local.monitor === 'starting' || input.local.monitor === 'stopping';
  const by = input.policy === 'stop_only' && isActive(input.local) ? stopOnlyBy(input) : undefined;
  if (active.length < 2 && !by) return { active, confirmed: false, action: 'none', why: 'active on one node at most', track: undefined };
  const same = prev !== undefined && sameNodes(prev.nodes, active);
  const stops = same ? prev.stops : 0;
  // the delay runs from the end of the last stop: a refresh that sees it still under way pushes it
  const since = !same ? input.now : busyHere && stops > 0 ? input.now : prev.since;
  const nodesAt = (count: number) => ({ nodes: active, count });
  /** the verdict's stop, unless a stop of these same nodes already ordered here is still in its back-off */
  const stopOr = (confirmed: boolean, count: number, stopWhy: string, waitWhy: string, keep?: string): MultipleActiveVerdict => {
    const k = keep ? { keep } : {};
    if (stops > 0) {
      const delay = stopBackOffMs(stops);
      const left = since + delay - input.now;
      // (left > delay: the clock went back; the stop is the safe side)
      if (busyHere || (left > 0 && left <= delay)) return { active, confirmed, ...k, action: 'none', why: backOffWhy(waitWhy, stops, delay), stops, nextStopInMs: busyHere ? delay : left, track: { ...nodesAt(count), stops, since } };
    }
    if (busyHere) return { active, confirmed, ...k, action: 'none', why: waitWhy, track: { ...nodesAt(count), stops, since } };
    return { active, confirmed, ...k, action: 'stop', why: stopWhy, stops: stops + 1, track: { ...nodesAt(count), stops: stops + 1, since: input.now } };
  };
  if (by && active.length < 2) {
    const why = `multiple_active = stop_only: ${by} stopped it as multiple-active with this node`;
    if (!busyHere && (input.nodeFrozen || input.local.frozen || input.local.orchestrate === 'no')) {
      return { active, confirmed: true, action: 'none', why: `${why}; frozen or orchestrate = no here: alarm only`, track: { ...nodesAt(CONFIRM_REFRESHES), stops, since } };
    }
    return stopOr(true, CONFIRM_REFRESHES, `${why}, stopping it here too`, busyHere ? `${why}; ${input.local.monitor} here` : why);
  }
  const count = busyHere ? (same ? prev.count : 0) : same ? prev.count + 1 : 1;
  const track = { ...nodesAt(count), stops, since };
  // a peer's stop_only stop naming this node is that peer's confirmation, for every node it saw
  const confirmed = count >= CONFIRM_REFRESHES || by !== undefined;
  const none = (why: string, keep?: string): MultipleActiveVerdict => ({ active, confirmed, action: 'none', why, track, ...(keep ? { keep } : {}) });
  if (!confirmed) return none(busyHere ? `${input.local.monitor} here: not counted` : `seen on ${count} refresh${count > 1 ? 'es' : ''}, ${CONFIRM_REFRESHES} needed`);
  const frozen = active.filter((n) => frozenOn(input, n));
  if (frozen.length) return none(`frozen on ${frozen.join(', ')}: alarm only until thawed`);
  if (input.local.orchestrate === 'no') return none('orchestrate = no: alarm only');
  if (input.policy === 'block') return none('multiple_active = block: alarm only');
  const here = active.includes(input.self);
  if (input.policy === 'stop_only') return here ? stopOr(confirmed, count, 'multiple_active = stop_only: stopping it everywhere', 'multiple_active = stop_only') : none('multiple_active = stop_only');
  const keep = active.find((n) => !failedOn(input, n)) ?? active[0]!;
  if (!here || keep === input.self) return none(`multiple_active = stop_start: ${keep} keeps it`, keep);
  return stopOr(confirmed, count, `multiple_active = stop_start: ${keep} keeps it, stopping it here`, `multiple_active = stop_start: ${keep} keeps it`, keep);
}

/** Stable from one refresh to the next until the next stop (the watch logs when it changes). */
function backOffWhy(base: string, stops: number, delay: number): string {
  return `${base}; stopped here ${stops} time${stops > 1 ? 's' : ''}, still active: next stop ${delay / 1000} s after the last one ended`;
}
