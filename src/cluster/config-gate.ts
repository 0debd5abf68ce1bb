// The configuration gate of an orchestrated start: a service is started only once its live
// candidates hold the same configuration (the same sum of its file, docs/config-replication.md).
// Otherwise a node that read a new file first would start it whatever the file says on the
// others (its `nodes` order), and two nodes could decide from two different files.
import type { PeerInfo } from './takeover.js';

export interface ConfigGateInput {
  self: string;
  svc: string;
  peers: Record<string, PeerInfo>;
  /** sum of this node's file of the service; undefined: the daemon does not replicate configs (no gate) */
  configSum?: string | undefined;
}

/**
 * Live candidates (peers of `nodes` that are up) whose file of the service differs from
 * ours, or that hold none. A peer of an earlier version (announcing no configs) is not
 * counted; one whose state is not pulled yet is the business of unsynced().
 */
export function configDisagreement(input: ConfigGateInput, nodes: readonly string[]): string[] {
  if (input.configSum === undefined) return [];
  return nodes.filter((n) => {
    if (n === input.self) return false;
    const p = input.peers[n];
    if (p?.state !== 'up' || !p.payload || p.payload.complete === false || p.payload.configs === undefined) return false;
    const d = p.payload.configs[input.svc];
    return d === undefined || d.deleted === true || d.sum !== input.configSum;
  });
}

export const configWaitWhy = (differ: readonly string[]): string => `waiting for ${differ.join(', ')} to hold the same configuration`;

/**
 * Live candidates that hold our configuration of the service (the same sum) but have not
 * published an instance state of it yet: the daemon there installed the file a moment ago
 * and its next refresh will report it. Until then it looks like a node "without the
 * service", and a later candidate would wrongly see itself as the first eligible one.
 */
export function configuredWithoutState(input: ConfigGateInput, nodes: readonly string[]): string[] {
  if (input.configSum === undefined) return [];
  return nodes.filter((n) => {
    if (n === input.self) return false;
    const p = input.peers[n];
    if (p?.state !== 'up' || !p.payload || p.payload.complete === false) return false;
    const d = p.payload.configs?.[input.svc];
    return d !== undefined && d.deleted !== true && d.sum === input.configSum && p.payload.services[input.svc] === undefined;
  });
}
