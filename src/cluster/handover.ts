// A relocation as a handover: the target starts while the owner still stops the service, each
// of its resources waiting for the owner's announce that it stopped that resource's group (the
// owner publishes ServiceState.handover group by group, src/daemon/daemon.ts). Safety rules,
// so pure functions: nothing of a group is changed on the target before the owner said it had
// stopped every resource of that group; an owner that will not say so (its stop failed, it was
// lost, it runs the service again) refuses the handover, and the target's start fails (and
// rolls back what it changed: only groups the owner had released).
//
// The owner's beats carry the same releases (src/statechan/facts.ts `ho`), read by the target
// with the beat (~1 ms) where the pulled state comes a state-channel round trip later, served
// by the owner's main thread busy with its stop (~35 ms): combinedReleaseVerdict takes either.
import type { PeerInfo } from './takeover.js';
import { isComplete, runsHere, type HandoverProgress, type ServiceState } from './node-state.js';

/** Is `peer` stopping svc for this relocation intent, announcing it group by group? */
export function handingOver(peer: PeerInfo | undefined, svc: string, intent: string): boolean {
  const s = peer?.state === 'up' ? peer.payload?.services[svc] : undefined;
  return s?.monitor === 'stopping' && s.handover?.intent === intent;
}

/** released via beat: read from the owner's beat (beatReleaseVerdict), before its state was pulled */
export type ReleaseVerdict = { state: 'released'; via?: 'beat' } | { state: 'wait' } | { state: 'refused'; why: string };

/**
 * What the owner's last published state says of `group` (a resource kind, or 'all': the whole
 * stop) for the handover of svc under `intent`:
 * - released: it announced the group stopped (or the whole stop done), or it no longer runs
 *   the service at all (the stop ended and was read: not running, starting nor stopping);
 * - wait: it is stopping for this intent and has not released the group yet;
 * - refused: anything else: lost or gone, its stop failed, it runs the service for another
 *   reason (another intent, a start): the target must not take the group.
 */
export function releaseVerdict(peer: PeerInfo | undefined, svc: string, intent: string, group: string): ReleaseVerdict {
  if (!peer || peer.state !== 'up') return { state: 'refused', why: `the owner is ${peer?.state ?? 'unknown'}` };
  // (services not pulled for its current generation: what it runs is not known yet)
  if (!isComplete(peer.payload)) return { state: 'wait' };
  const s = peer.payload?.services[svc];
  if (s?.monitor === 'stop failed') return { state: 'refused', why: `the owner's stop failed${s.error ? `: ${s.error}` : ''}` };
  // its whole stop for this intent is done (its action then reads the status again; until
  // that read it publishes its last status, still `up`, beside this word)
  if (s?.handover?.intent === intent && s.handover.done) {
    const held = s.handover.held ?? [];
    if (held.length && (group === 'all' || held.includes(group))) return { state: 'refused', why: `the owner could not stop its ${held.join(', ')}` };
    return { state: 'released' };
  }
  if (!runsHere(s)) return { state: 'released' };
  if (s?.monitor !== 'stopping' || s.handover?.intent !== intent) return { state: 'refused', why: 'the owner runs the service, not handing it over' };
  if (group !== 'all' && s.handover.released.includes(group)) return { state: 'released' };
  return { state: 'wait' };
}

/**
 * Is this node handing svc over right now, in the sense the target's rule reads (releaseVerdict):
 * stopping for a relocation, announcing it (or its whole stop done, its status not read again
 * yet). A failed stop is not: its refusal comes from the pulled state. Its beats carry these.
 */
export function handingOverNow(s: ServiceState | undefined): s is ServiceState & { handover: HandoverProgress } {
  return s?.handover !== undefined && (s.monitor === 'stopping' || s.handover.done);
}

/** The handovers of a node's services under way now (handingOverNow), undefined when none: what its beats carry. */
export function handoversNow(services: Iterable<[string, ServiceState]>): Record<string, HandoverProgress> | undefined {
  let out: Record<string, HandoverProgress> | undefined;
  for (const [name, s] of services) if (handingOverNow(s)) (out ??= {})[name] = s.handover;
  return out;
}

/**
 * What the owner's latest beat says of `group` for the handover of svc under `intent`
 * (undefined: nothing to take from it). Why a beat may open the gate before the pulled state:
 * - provenance: the beat is sealed and authenticated by the owner with the cluster key, as the
 *   state channel is, and it is the owner's own account of its stop (the same progress object
 *   its pulled state carries, published in the same publish);
 * - order: the heartbeats keep a peer's payload only from a message newer (incarnation, seq)
 *   than the one it holds, and within one intent the released set only grows (a group goes in
 *   once every resource of it has stopped; `done` only comes at the end), so an older beat read
 *   late can only say less, never release what the owner has not stopped;
 * - the same process: taken only when the beat's incarnation (its channel mark's `inc`) is the
 *   one the target's pulled state came from, and that pulled state (complete or not yet) shows
 *   the owner stopping svc for this very intent: the handover the target's start waits on; a
 *   restarted owner's beats count again only once its new state is pulled;
 * - only from a peer that is up, only for the same intent;
 * - refusals stay with the peer state and the pulled state (combinedReleaseVerdict asks them
 *   first): a lost owner refuses whatever its last beat said; a failed stop, or an owner that
 *   runs the service otherwise, is read from the pulled state (its beats stop carrying the
 *   entry); `held` groups in the beat refuse, as in the pulled state.
 */
export function beatReleaseVerdict(peer: PeerInfo | undefined, svc: string, intent: string, group: string): ReleaseVerdict | undefined {
  if (!peer || peer.state !== 'up') return undefined;
  const b = peer.payload?.beat_handovers;
  const r = b?.releases[svc];
  if (!b || !r || r.i !== intent || b.pulledInc === undefined || b.inc !== b.pulledInc) return undefined;
  const pulled = peer.payload?.services[svc];
  if (pulled?.monitor !== 'stopping' || pulled.handover?.intent !== intent) return undefined;
  const held = r.h ?? [];
  if (held.length && (group === 'all' || held.includes(group))) return { state: 'refused', why: `the owner could not stop its ${held.join(', ')}` };
  if (r.d === 1 || (group !== 'all' && r.r.includes(group))) return { state: 'released', via: 'beat' };
  return undefined;
}

/**
 * The release gate's rule: the pulled state first (refusals, and releases it already shows),
 * then, while that says wait, the owner's beat (beatReleaseVerdict).
 */
export function combinedReleaseVerdict(peer: PeerInfo | undefined, svc: string, intent: string, group: string): ReleaseVerdict {
  const pulled = releaseVerdict(peer, svc, intent, group);
  if (pulled.state !== 'wait') return pulled;
  return beatReleaseVerdict(peer, svc, intent, group) ?? pulled;
}
