// Where a peer's state channel listens, from a network heartbeat's config (no other import:
// the rsync transport loads it at each push, src/cli/sync-transport.ts).
import type { HbConfig } from '../cluster/config.js';

/** TCP endpoint of the state channel of a network heartbeat for `node`; multicast needs the learned address. */
export function channelEndpoint(cfg: HbConfig, node: string, learned?: string): { addr: string; port: number } | undefined {
  if (cfg.type === 'unicast') {
    const ep = cfg.endpoints[node];
    return ep ? { addr: ep.addr, port: ep.chanPort ?? ep.port } : undefined;
  }
  if (cfg.type === 'multicast') return learned ? { addr: learned, port: cfg.chanPort ?? cfg.port } : undefined;
  return undefined;
}
