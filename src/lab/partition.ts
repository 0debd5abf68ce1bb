// A network partition between lab nodes that leaves everything else reachable: inside a
// node's own network namespace, nftables drops every IP packet from or to the addresses of
// the nodes it is cut off from. Unlike cutting its links, the node still reaches the other
// lab hosts (an arbitrator, a client): the split the quorum rules are about. One private
// table per node, replaced as a whole on each call.
import fs from 'node:fs';
import { run } from '../util/exec.js';

const TABLE = 'ferrylab_partition';
// by absolute path: see packet-loss.ts (a fake nft under npx)
const NFT = ['/usr/sbin/nft', '/sbin/nft'].find((p) => fs.existsSync(p)) ?? 'nft';

async function nftIn(netns: string, args: string[], input?: string): Promise<void> {
  const r = await run('nsenter', [`--net=/run/netns/${netns}`, '--', NFT, ...args], { timeout: 10_000, input });
  if (!r.ok && args[0] !== 'delete') throw new Error(`nft in ${netns}: ${r.stderr.trim()}`);
}

/** Drop all traffic between this namespace and `addrs` (IPv4); an empty list removes the partition. */
export async function setBlocked(netns: string, addrs: readonly string[]): Promise<void> {
  await nftIn(netns, ['delete', 'table', 'inet', TABLE]);
  if (addrs.length === 0) return;
  const set = `{ ${addrs.join(', ')} }`;
  const rules = [
    `table inet ${TABLE} {`,
    `  chain in { type filter hook input priority -310; ip saddr ${set} counter drop; }`,
    `  chain out { type filter hook output priority -310; ip daddr ${set} counter drop; }`,
    '}',
  ];
  await nftIn(netns, ['-f', '-'], `${rules.join('\n')}\n`);
}
