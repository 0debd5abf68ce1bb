// A private network for heartbeat tests: one namespace holding a bridge, one namespace per
// node wired to it by a veth pair (eth0 inside, 10.214.0.<i+1>/24). Nothing is routed out:
// the namespaces have no default route and only 10.214.0.0/24 addresses. cleanup() kills
// what runs inside and deletes everything, and is safe to call twice.
import { sh } from './env.js';

export interface LabNode {
  name: string;
  ns: string;
  addr: string;
}

export interface HbLab {
  /** namespace of the bridge; it also has 10.214.0.<100+k> addresses for injectors */
  bridgeNs: string;
  nodes: LabNode[];
  /** add an address on the bridge (inside bridgeNs), e.g. to impersonate a node */
  addBridgeAddr(addr: string): Promise<void>;
  /** drop all UDP in and out of a node's namespace (or restore it) */
  cutUdp(node: LabNode, on: boolean): Promise<void>;
  cleanup(): Promise<void>;
}

async function killAndDelete(ns: string): Promise<void> {
  const pids = await sh('ip', ['netns', 'pids', ns], { reject: false });
  for (const pid of pids.stdout.split('\n').filter(Boolean)) await sh('kill', ['-9', pid], { reject: false });
  await sh('ip', ['netns', 'del', ns], { reject: false });
}

export async function createHbLab(prefix: string, names: string[]): Promise<HbLab> {
  const bridgeNs = `${prefix}br`;
  const nodes: LabNode[] = names.map((name, i) => ({ name, ns: `${prefix}n${i}`, addr: `10.214.0.${i + 1}` }));
  const cleanup = async (): Promise<void> => {
    for (const n of nodes) await killAndDelete(n.ns);
    await killAndDelete(bridgeNs);
    for (let i = 0; i < nodes.length; i++) await sh('ip', ['link', 'del', `${prefix}v${i}`], { reject: false });
  };
  try {
    await sh('ip', ['netns', 'add', bridgeNs]);
    await sh('ip', ['-n', bridgeNs, 'link', 'set', 'lo', 'up']);
    await sh('ip', ['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    // no IGMP querier on this segment: without snooping the bridge floods multicast, as a dumb switch would
    await sh('ip', ['-n', bridgeNs, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await sh('ip', ['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    for (const [i, n] of nodes.entries()) {
      const host = `${prefix}v${i}`;
      const port = `${prefix}p${i}`;
      await sh('ip', ['netns', 'add', n.ns]);
      await sh('ip', ['-n', n.ns, 'link', 'set', 'lo', 'up']);
      await sh('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', port]);
      await sh('ip', ['link', 'set', host, 'netns', n.ns]);
      await sh('ip', ['link', 'set', port, 'netns', bridgeNs]);
      await sh('ip', ['-n', n.ns, 'link', 'set', host, 'name', 'eth0']);
      await sh('ip', ['-n', n.ns, 'addr', 'add', `${n.addr}/24`, 'dev', 'eth0']);
      await sh('ip', ['-n', n.ns, 'link', 'set', 'eth0', 'up']);
      await sh('ip', ['-n', bridgeNs, 'link', 'set', port, 'master', 'br0']);
      await sh('ip', ['-n', bridgeNs, 'link', 'set', port, 'up']);
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    bridgeNs,
    nodes,
    addBridgeAddr: async (addr) => void (await sh('ip', ['-n', bridgeNs, 'addr', 'add', `${addr}/24`, 'dev', 'br0'])),
    async cutUdp(node, on) {
      const op = on ? '-I' : '-D';
      await sh('ip', ['netns', 'exec', node.ns, 'iptables', op, 'INPUT', '-p', 'udp', '-j', 'DROP']);
      await sh('ip', ['netns', 'exec', node.ns, 'iptables', op, 'OUTPUT', '-p', 'udp', '-j', 'DROP']);
    },
    cleanup,
  };
}
