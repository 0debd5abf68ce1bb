// A relocation as a handover: the target starts while the owner still stops the service, each
// of its resources waiting for the owner's announce that it stopped that resource's group (the
// owner publishes ServiceState.handover group by group, src/daemon/daemon.ts). Safety rules,
// so pure functions: nothing of a group is changed on the target before the owner said it had
// stopped every resource of that group; an owner that will not say so (its stop failed, it was
// lost, it runs the service again) refuses the handover, and the target's start fails (and
// rolls back what it changed: only groups the owner had released).
import type { PeerInfo } from './takeover.js';
import { isComplete, runsHere } from './node-state.js';

/** Is `peer` stopping svc for this relocation intent, announcing it group by group? */
export function handingOver(peer: PeerInfo | undefined, svc: string, intent: string): boolean {
  const s = peer?.state === 'up' ? peer.payload?.services[svc] : undefined;
  return s?.monitor === 'stopping' && s.handover?.intent === intent;
}

export type ReleaseVerdict = { state: 'released' } | { state: 'wait' } | { state: 'refused'; why: string };

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
