// Placement decisions, as a pure function of what this node knows: its own service state,
// its peers' heartbeat state and published states, and the placement intents. The daemon
// acts on the decision; keeping it pure keeps the safety rules in one readable place.
//
// Safety rules, in order:
//  - never act while an action on the service is under way here;
//  - an explicit relocation (intent) wins over every HA rule until it is done or stale;
//  - never start without quorum (the other partition may have it);
//  - never start while a peer we have not heard from yet might run the service;
//  - never start while a live (or departed) peer's services are not known for its current
//    state generation (state channel not pulled yet, or only its disk heartbeat reaches
//    us): what it runs may have changed since what we hold;
//  - never start while a live (or gracefully departed) peer reports it running, starting
//    or stopping: a node whose daemon left still holds what it ran; except a relocation
//    target, whose owner stops it for that relocation announcing each group it released: the
//    start begins and each resource waits for its group's release (src/cluster/handover.ts);
//  - never start a service frozen on any of its nodes (as last heard from it);
//  - never start while a live candidate holds another configuration of the service (or
//    none yet): replication is under way (src/cluster/config-gate.ts);
//  - only the first eligible node of `nodes` starts it;
//  - never start before every parent is up on a live node, never stop (relocation) while a
//    child runs on a live node (src/cluster/dependencies.ts);
//  - never start in place of a dead node that is not fenced yet (when it can be fenced), or,
//    when it cannot, before its split grace (src/cluster/fence-clearance.ts);
//  - never start on copies of its data here that are not current enough (the data gate,
//    docs/data-mobility.md).
import { activeIntent } from './intents.js';
import { configDisagreement, configuredWithoutState, configWaitWhy } from './config-gate.js';
import type { Intent, NodeState, ServiceState } from './node-state.js';
import { isComplete, runsHere } from './node-state.js';
import { childrenRunning, childrenWhy, parentsVerdict } from './dependencies.js';
import { FAILED_MONITOR_STATES, peerUnavailable, type PeerInfo } from './takeover.js';
import { takeoverClear, type FenceFacts } from './fence-clearance.js';
import { handingOver } from './handover.js';

export type { PeerInfo } from './takeover.js';

export interface DecisionInput {
  self: string;
  svc: string;
  local: ServiceState;
  nodeFrozen: boolean;
  peers: Record<string, PeerInfo>;
  intents: Record<string, Intent>;
  now: number;
  /** orchestrate = start acts only once, when the cluster forms */
  bootPhase: boolean;
  /** may this node start services now (src/cluster/quorum.ts)? why not */
  quorum: { ok: boolean; why: string };
  /** sum of this node's file of the service (config replication); undefined: no configuration gate */
  configSum?: string | undefined;
  /** this node's state of every service (dependencies: parents and children); undefined: only `local` */
  services?: Record<string, ServiceState | undefined>;
  /** what the fencing part knows of the peers (src/cluster/fence-clearance.ts); undefined: no fencing gate */
  fence?: FenceFacts | undefined;
  /** the service's `stonith` keyword: may its takeover wait for fences (undefined: yes) */
  stonith?: boolean | undefined;
  /** the data gate of the copies here, for a takeover and for the start of a relocation; undefined: no data gate */
  data?: { takeover: Verdict; relocation: Verdict } | undefined;
}

export type Verdict = { ok: true } | { ok: false; why: string };

/**
 * A start held by the fencing verdict (blocked 'fence', with the dead nodes whose fence it
 * waits for: the daemon starts those) or by the data gate (blocked 'data').
 */
export type Blocked = { action: 'none'; why: string; blocked: 'fence'; fence: string[] } | { action: 'none'; why: string; blocked: 'data' };

export type Decision =
  | { action: 'none'; why: string }
  | Blocked
  | { action: 'start'; why: string; intent?: string; handover?: string[] }
  | { action: 'stop'; why: string; intent?: string };

const none = (why: string): Decision => ({ action: 'none', why });

function depView(input: DecisionInput) {
  // no copy of the 5000 services when the map already holds this state (the daemon's case)
  const local = input.services && input.services[input.svc] === input.local ? input.services : { ...input.services, [input.svc]: input.local };
  return { self: input.self, local, peers: input.peers };
}

/** Why the parents of the service keep it from starting, or undefined. */
function parentsWait(input: DecisionInput): string | undefined {
  const v = parentsVerdict(input.svc, depView(input));
  return v.ok ? undefined : v.why;
}

/** Peers (alive or departed) that report the service running, starting or stopping. */
export function holders(input: Pick<DecisionInput, 'peers' | 'svc'>): string[] {
  return Object.entries(input.peers)
    .filter(([, p]) => (p.state === 'up' || p.state === 'left') && runsHere(p.payload?.services[input.svc]))
    .map(([n]) => n);
}

/**
 * Live or departed peers whose word on the service cannot be trusted to say "not running":
 * no state at all, or services not pulled for their current generation. Those that might
 * run it: in its `nodes`, or holding it in the (stale) state we have.
 */
export function unsynced(input: Pick<DecisionInput, 'peers' | 'svc'>, nodes: readonly string[]): string[] {
  return Object.entries(input.peers)
    .filter(([n, p]) => (p.state === 'up' || p.state === 'left') && !isComplete(p.payload) && (nodes.includes(n) || p.payload?.services[input.svc] !== undefined))
    .map(([n]) => n);
}

/**
 * Has the cluster formed, as far as this node can tell: every peer heard from or declared
 * dead, and the state of every live (or departed) one pulled. Ends the boot phase of
 * `orchestrate = start` services: deciding it before a peer's state is known would end it
 * on a "waiting for the state of" and never start them.
 */
export function clusterFormed(peers: Record<string, PeerInfo>): boolean {
  return Object.values(peers).every((p) => p.state !== 'unknown' && (p.state === 'down' || isComplete(p.payload)));
}

/**
 * The node where the operator's latest word on the service was "stop", if it is: a service
 * an operator stopped stays stopped until someone starts it again.
 */
function operatorStop(input: DecisionInput, nodes: string[]): string | undefined {
  let latest: { node: string; state: 'up' | 'down'; at: number } | undefined;
  const consider = (node: string, s: ServiceState | undefined) => {
    if (s?.expect && (!latest || s.expect.at > latest.at)) latest = { node, ...s.expect };
  };
  consider(input.self, input.local);
  for (const n of nodes) {
    const p = input.peers[n];
    if (p && (p.state === 'up' || p.state === 'left')) consider(n, p.payload?.services[input.svc]);
  }
  return latest?.state === 'down' ? latest.node : undefined;
}

function eligible(input: DecisionInput, node: string): boolean {
  if (node === input.self) {
    return !input.nodeFrozen && !input.local.frozen && !FAILED_MONITOR_STATES.includes(input.local.monitor);
  }
  return peerUnavailable(input.peers[node], input.svc) === undefined;
}

/**
 * The last gates of a start: the dead nodes of the service fenced (or given their split
 * grace), the copies of its data here current enough. relocation: the start of a relocation.
 */
function startGate(input: DecisionInput, nodes: readonly string[], relocation: boolean): Blocked | undefined {
  const dead = nodes.filter((n) => n !== input.self && input.peers[n]?.state === 'down');
  if (input.fence) {
    const clear = takeoverClear(dead, input.stonith !== false, input.fence, input.now);
    if (!clear.ok) return { action: 'none', why: clear.why, blocked: 'fence', fence: clear.fence };
  }
  const g = input.data && (relocation && dead.length === 0 ? input.data.relocation : input.data.takeover);
  if (g && !g.ok) return { action: 'none', why: g.why, blocked: 'data' };
  return undefined;
}

export function decide(input: DecisionInput): Decision {
  const { self, local, svc } = input;
  const nodes = local.nodes.length ? local.nodes : [self];
  if (!nodes.includes(self)) return none(`${self} is not in nodes`);
  if (local.monitor === 'starting' || local.monitor === 'stopping') return none(`${local.monitor} here`);
  const runningHere = runsHere(local);

  const intent = activeIntent(input.intents, svc, input.now);
  if (intent) {
    const targetAlive = intent.target === self || input.peers[intent.target]?.state === 'up';
    if (targetAlive) {
      if (intent.target !== self) {
        if (!runningHere) return none(`relocating to ${intent.target}`);
        const kids = childrenRunning(svc, depView(input));
        if (kids.length) return none(childrenWhy(kids));
        return { action: 'stop', why: `relocating to ${intent.target}`, intent: intent.id };
      }
      if (runningHere) return none('relocated here');
      if (!input.quorum.ok) return none(input.quorum.why);
      const behind = unsynced(input, nodes);
      if (behind.length) return none(`waiting for the state of ${behind.join(', ')}`);
      // a holder stopping it for this intent, group by group: the start begins now, each
      // resource waiting for its group's release (src/cluster/handover.ts)
      const all = holders(input);
      const from = all.filter((n) => handingOver(input.peers[n], svc, intent.id));
      const busy = all.filter((n) => !from.includes(n));
      if (busy.length) return none(`waiting for ${busy.join(', ')} to stop it`);
      const differ = configDisagreement(input, nodes);
      if (differ.length) return none(configWaitWhy(differ));
      const waitParents = parentsWait(input);
      if (waitParents) return none(waitParents);
      const blocked = startGate(input, nodes, true);
      if (blocked) return blocked;
      if (from.length) return { action: 'start', why: `relocation target (handover from ${from.join(', ')})`, intent: intent.id, handover: from };
      return { action: 'start', why: 'relocation target', intent: intent.id };
    }
    // target died: ordinary rules decide
  }

  const orchestrate = local.orchestrate;
  if (orchestrate === 'no') return none('orchestrate = no');
  if (orchestrate === 'start' && !input.bootPhase) return none('orchestrate = start acts at cluster start only');
  if (input.nodeFrozen) return none('node frozen');
  if (local.frozen) return none('service frozen');
  // a freeze is the operator's "hands off" for the whole service (OpenSVC freezes every
  // instance): frozen on a peer, as last heard from it even if it died since, it is not
  // started here either; freeze-then-reboot a node, or a freezestop, fails nothing over.
  // An operator's takeover (intent, above) still moves it.
  const frozenOn = nodes.filter((n) => n !== self && input.peers[n]?.payload?.services[svc]?.frozen === true);
  if (frozenOn.length) return none(`service frozen on ${frozenOn.join(', ')}`);
  if (runningHere) return none('running here');
  const stoppedBy = operatorStop(input, nodes);
  if (stoppedBy) return none(`stopped by the operator on ${stoppedBy}`);

  if (!input.quorum.ok) return none(input.quorum.why);
  const unknown = Object.entries(input.peers).filter(([n, p]) => nodes.includes(n) && p.state === 'unknown').map(([n]) => n);
  if (unknown.length) return none(`waiting to hear from ${unknown.join(', ')}`);
  const behind = unsynced(input, nodes);
  if (behind.length) return none(`waiting for the state of ${behind.join(', ')}`);
  const busy = holders(input);
  if (busy.length) return none(`running on ${busy.join(', ')}`);

  const fresh = configuredWithoutState(input, nodes);
  if (fresh.length) return none(`waiting for the state of ${fresh.join(', ')}`);
  const first = nodes.find((n) => eligible(input, n));
  if (first !== self) return none(first ? `${first} is the first eligible node` : 'no eligible node');
  const differ = configDisagreement(input, nodes);
  if (differ.length) return none(configWaitWhy(differ));
  const waitParents = parentsWait(input);
  if (waitParents) return none(waitParents);
  const blocked = startGate(input, nodes, false);
  if (blocked) return blocked;
  const dead = nodes.filter((n) => n !== self && input.peers[n]?.state === 'down');
  return { action: 'start', why: dead.length ? `not running anywhere (${dead.join(', ')} dead)` : 'not running anywhere' };
}
