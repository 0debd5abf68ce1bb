// The lab's networks. Every network is a bridge inside one "switch" namespace, so the host's
// own interfaces, routes and firewall are never touched: each node leg is a veth pair created
// inside the switch namespace with its peer placed directly in the node (eth<i>), and node i
// gets <subnet>.<i>/24 on it. A "cut" acts on the switch side of the leg, where a real
// failure would be: the node's own configuration stays as the agent left it.
import { runOk, run } from '../util/exec.js';
import type { LabNetwork, LabNode } from './types.js';

const T = { timeout: 10_000 };

export function networkPlan(count: number): LabNetwork[] {
  return Array.from({ length: count }, (_, i) => ({ index: i, bridge: `br${i}`, subnet: `10.215.${i}` }));
}

/** Interface name of node `node`'s leg on network `net`, inside the switch namespace. */
export function switchPort(node: LabNode, net: number): string {
  return `${node.name}e${net}`;
}

export function nodeAddress(net: LabNetwork, node: LabNode): string {
  return `${net.subnet}.${node.index}`;
}

/**
 * Fixed, locally administered MAC of eth<net> in node K: a rebooted node keeps its hardware
 * address, as a real machine does, so peers' ARP caches stay right across restartNode.
 */
export function nodeMac(net: LabNetwork, node: LabNode): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `02:fe:21:50:${hex(net.index)}:${hex(node.index)}`;
}

export async function createSwitch(switchNs: string, nets: LabNetwork[]): Promise<void> {
  for (const n of nets) {
    // multicast snooping off: link-local multicast heartbeats (VRRP, our own) must flood
    await runOk('ip', ['-n', switchNs, 'link', 'add', n.bridge, 'type', 'bridge', 'mcast_snooping', '0'], T);
    await runOk('ip', ['-n', switchNs, 'link', 'set', n.bridge, 'up'], T);
  }
}

/** Plug node into every network: eth<i> inside the node, <node>e<i> on bridge br<i>. */
export async function plugNode(switchNs: string, nets: LabNetwork[], node: LabNode): Promise<void> {
  for (const n of nets) {
    const port = switchPort(node, n.index);
    const dev = `eth${n.index}`;
    await runOk('ip', ['-n', switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', dev, 'address', nodeMac(n, node), 'netns', node.netns], T);
    await runOk('ip', ['-n', switchNs, 'link', 'set', port, 'master', n.bridge, 'up'], T);
    await runOk('ip', ['-n', node.netns, 'addr', 'add', `${nodeAddress(n, node)}/24`, 'dev', dev], T);
    await runOk('ip', ['-n', node.netns, 'link', 'set', dev, 'up'], T);
  }
}

/**
 * How a cut looks from the node:
 * - 'silent': the port leaves the bridge; the node keeps carrier and addresses but nothing
 *   reaches anyone (a dead switch port or VLAN: the case heartbeats must detect);
 * - 'down': the switch side goes down, so the node also loses carrier (cable pulled).
 */
export type CutMode = 'silent' | 'down';

export async function cutPort(switchNs: string, node: LabNode, net: number, mode: CutMode): Promise<void> {
  const port = switchPort(node, net);
  if (mode === 'down') await run('ip', ['-n', switchNs, 'link', 'set', port, 'down'], T);
  else await runOk('ip', ['-n', switchNs, 'link', 'set', port, 'nomaster'], T);
}

export async function healPort(switchNs: string, nets: LabNetwork[], node: LabNode, net: number): Promise<void> {
  const n = nets[net];
  if (!n) throw new Error(`no network ${net} in this lab`);
  await runOk('ip', ['-n', switchNs, 'link', 'set', switchPort(node, net), 'master', n.bridge, 'up'], T);
}

/** Is the port of node on network net bridged and up? */
export async function portConnected(switchNs: string, node: LabNode, net: number): Promise<boolean> {
  const r = await run('ip', ['-n', switchNs, '-j', 'link', 'show', 'dev', switchPort(node, net)], T);
  if (!r.ok) return false;
  const info = JSON.parse(r.stdout) as { master?: string; flags?: string[] }[];
  return Boolean(info[0]?.master) && Boolean(info[0]?.flags?.includes('UP'));
}

/** Remove the node's leg on network net (both ends of the veth). Never throws. */
export async function unplugPort(switchNs: string, node: LabNode, net: number): Promise<void> {
  await run('ip', ['-n', switchNs, 'link', 'del', switchPort(node, net)], T);
}
