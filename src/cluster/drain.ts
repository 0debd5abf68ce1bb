// Planned maintenance (`nodemgr drain`, docs/maintenance.md): which of this node's services
// move and where, and how each move ended. Pure functions of the daemon's view; the daemon's
// runner (src/daemon/drain.ts) freezes the node, asks the relocations and logs the results.
//
// A drain moves the failover services this node runs (`orchestrate = ha`, another node in
// `nodes`): each goes to its first candidate in `nodes` order that would start it now (the
// takeover rules of src/cluster/takeover.ts: heard, not frozen, not failed, quorate, not being
// fenced). A service with no such node is not movable and keeps running here. Services with
// `orchestrate` other than `ha` are not the daemon's to move: they are not part of a drain.
import type { FenceInfo, Intent, ServiceState } from './node-state.js';
import { runsHere } from './node-state.js';
import { takeoverCandidates, type PeerInfo } from './takeover.js';

export type DrainStep = { svc: string; to: string } | { svc: string; why: string };

export interface DrainPlanInput {
  self: string;
  /** this node's services */
  services: Record<string, ServiceState>;
  peers: Record<string, PeerInfo>;
  fence: Record<string, FenceInfo>;
}

/** The services a drain moves, by name, each with its target or why it cannot move. */
export function drainPlan(input: DrainPlanInput): DrainStep[] {
  const out: DrainStep[] = [];
  for (const svc of Object.keys(input.services).sort()) {
    const local = input.services[svc]!;
    if (local.orchestrate !== 'ha' || !runsHere(local)) continue;
    const t = takeoverCandidates({ self: input.self, svc, local, peers: input.peers, fence: input.fence });
    out.push(t.ok ? { svc, to: t.candidates[0]! } : { svc, why: t.why });
  }
  return out;
}

export type DrainServiceState = 'moving' | 'moved' | 'failed' | 'unmovable';

/** One service of a drain, as `nodemgr drain` reports it (docs/schemas/nodemgr-drain.schema.json). */
export interface DrainService {
  svc: string;
  state: DrainServiceState;
  /** the target (moving, moved, failed) */
  to?: string;
  /** why it failed or is not movable */
  why?: string;
  /** moved: ms from the drain's start to the service up on the target */
  ms?: number;
}

export interface DrainReport {
  id: string;
  node: string;
  /** epoch ms */
  started: number;
  timeoutMs: number;
  /** every service settled (moved, failed, unmovable) */
  done: boolean;
  /** epoch ms, when done */
  ended?: number;
  services: DrainService[];
}

export interface OutcomeInput {
  self: string;
  svc: string;
  to: string;
  intent: Pick<Intent, 'id' | 'at'>;
  /** this node's state of the service */
  local: ServiceState | undefined;
  peers: Record<string, PeerInfo>;
  intents: Record<string, Intent>;
  now: number;
  /** when the move counts as failed */
  deadline: number;
}

export type Outcome = { state: 'moving' } | { state: 'moved' } | { state: 'failed'; why: string };

/** How one move of a drain stands (the same reading as `svcmgr relocate --wait`). */
export function moveOutcome(o: OutcomeInput): Outcome {
  const peer = o.peers[o.to];
  const there = peer?.payload?.services[o.svc];
  if (peer?.state === 'up' && there && (there.avail === 'up' || there.avail === 'warn') && there.monitor === 'idle' && there.updated > o.intent.at && !runsHere(o.local)) return { state: 'moved' };
  if (there?.monitor === 'start failed' && there.updated > o.intent.at) return { state: 'failed', why: `start on ${o.to} failed: ${there.error ?? 'unknown error'}` };
  if (o.local?.monitor === 'stop failed') return { state: 'failed', why: `stop on ${o.self} failed: ${o.local.error ?? 'unknown error'}; not started on ${o.to}` };
  if (!peer || peer.state !== 'up') return { state: 'failed', why: `${o.to} went ${peer?.state ?? 'away'} during the move` };
  const cur = o.intents[o.svc];
  if (cur && cur.id !== o.intent.id) return { state: 'failed', why: `superseded by another relocation to ${cur.target}` };
  if (o.now >= o.deadline) return { state: 'failed', why: `not running on ${o.to} after ${Math.round((o.deadline - o.intent.at) / 1000)} s` };
  return { state: 'moving' };
}

/** Exit code class of a drain: every service moved (or none to move), or not. */
export function drainComplete(r: DrainReport): boolean {
  return r.done && r.services.every((s) => s.state === 'moved');
}
