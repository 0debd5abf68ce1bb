// How the previous owner of a service is out of the way when this node starts it: the ip
// driver's duplicate-address probe uses its shorter window then (dup_probe_timeout_handover),
// the full one otherwise. A safety rule, so a pure function: only proof counts.
import type { PriorOwner } from '../resources/types.js';

/**
 * - 'handover': a relocation to this node (the start carries the current intent) while no
 *   node of the service is down: every node that ran it has stopped it and published that,
 *   its address removed by its stop (the orchestrator starts a relocation target only then,
 *   or while the owner stops it for that relocation: then the ip start waits for the owner's
 *   announce of its ip group, src/cluster/handover.ts, and its probe counts from that announce);
 * - 'fenced': the service's nodes that are down were all fenced by this node (confirmed);
 * - undefined otherwise: a peer merely lost (quorum = false, no STONITH, split_grace), or an
 *   ordinary start: the full window.
 */
export function priorOwnerOf(deadNodes: readonly string[], fenced: (node: string) => boolean, relocation: boolean): PriorOwner | undefined {
  if (relocation) return deadNodes.length === 0 ? 'handover' : undefined;
  if (deadNodes.length > 0 && deadNodes.every(fenced)) return 'fenced';
  return undefined;
}
