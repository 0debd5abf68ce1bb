// Two network namespaces joined by a veth pair: a private segment where the ip driver can
// add addresses, probe for duplicates and announce, without touching the host's networks.
// Only 10.213.0.0/16 addresses are ever configured, and only inside these namespaces.
import { sh } from './env.js';

export interface NetPair {
  /** namespace the driver runs in, and its end of the veth */
  ns: string;
  dev: string;
  /** the other host on the segment */
  peerNs: string;
  peerDev: string;
  cleanup(): Promise<void>;
}

export async function createNetPair(prefix: string): Promise<NetPair> {
  const ns = `${prefix}n`;
  const peerNs = `${prefix}p`;
  const dev = `${prefix}a`;
  const peerDev = `${prefix}b`;
  const cleanup = async (): Promise<void> => {
    // deleting a namespace destroys the veth end inside it, and with it the pair
    await sh('ip', ['netns', 'del', ns], { reject: false });
    await sh('ip', ['netns', 'del', peerNs], { reject: false });
    await sh('ip', ['link', 'del', dev], { reject: false });
  };
  try {
    await sh('ip', ['netns', 'add', ns]);
    await sh('ip', ['netns', 'add', peerNs]);
    await sh('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', peerDev]);
    await sh('ip', ['link', 'set', dev, 'netns', ns]);
    await sh('ip', ['link', 'set', peerDev, 'netns', peerNs]);
    for (const [n, d] of [[ns, dev], [peerNs, peerDev]] as const) {
      await sh('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
      await sh('ip', ['-n', n, 'link', 'set', d, 'up']);
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { ns, dev, peerNs, peerDev, cleanup };
}

/** IPv4 addresses (address/prefix) configured on `dev` inside namespace `ns`. */
export async function addressesIn(ns: string, dev: string): Promise<string[]> {
  const r = await sh('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', dev]);
  const links = JSON.parse(r.stdout) as { addr_info?: { family?: string; local?: string; prefixlen?: number }[] }[];
  return (links[0]?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}
