// A network partition between lab nodes that leaves everything else reachable: inside a
// node's own network namespace, nftables drops every IP packet from or to the addresses of
// the nodes it is cut off from. Unlike cutting its links, the node still reaches the other
// lab hosts (an arbitrator, a client): the split the quorum rules are about. One private
// table per node, replaced as a whole on each call.
import { nftIn } from './nft.js';

const TABLE = 'ferrylab_partition';

/** Drop all traffic between this namespace and `addrs` (IPv4); an empty list removes the partition. */
export async function setBlocked(netns: string, addrs: readonly string[]): Promise<void> {
  await nftIn(netns, ['delete', 'table', 'inet', TABLE]); // absent: fine
  if (addrs.length === 0) return;
  const set = `{ ${addrs.join(', ')} }`;
  const rules = [
    `table inet ${TABLE} {`,
    `  chain in { type filter hook input priority -310; ip saddr ${set} counter drop; }`,
    `  chain out { type filter hook output priority -310; ip daddr ${set} counter drop; }`,
    '}',
  ];
  const r = await nftIn(netns, ['-f', '-'], `${rules.join('\n')}\n`);
  if (!r.ok) throw new Error(`nft in ${netns}: ${r.stderr.trim()}`);
}
