// Random packet loss inside a node, with nftables `numgen random` in the node's own network
// namespace (tc netem does not exist in this kernel). One private table, replaced as a whole
// on each call, so clearing it never disturbs rules an agent or a test added itself. Only
// IP traffic on the lab interfaces (eth*) is affected: loopback and ARP pass.
import { nftIn } from './nft.js';

const TABLE = 'ferrylab_loss';

export type LossDirection = 'in' | 'out' | 'both';

export interface LossOptions {
  /** which packets: received, sent, or both (each packet independently); default both */
  direction?: LossDirection;
  /** only on eth<net>; default every lab interface */
  net?: number;
}

export async function setLoss(netns: string, fraction: number, opts: LossOptions = {}): Promise<void> {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`drop fraction must be within 0..1, got ${fraction}`);
  await nftIn(netns, ['delete', 'table', 'inet', TABLE]);
  if (fraction === 0) return;
  const dir = opts.direction ?? 'both';
  const iface = opts.net === undefined ? 'eth*' : `eth${opts.net}`;
  // parts per 10000: fine enough for any fraction a test asks for
  const ppm = Math.round(fraction * 10_000);
  const rule = (key: 'iifname' | 'oifname'): string => `${key} "${iface}" numgen random mod 10000 < ${ppm} counter drop`;
  const lines = [`table inet ${TABLE} {`];
  if (dir !== 'out') lines.push(`  chain in { type filter hook input priority -300; ${rule('iifname')}; }`);
  if (dir !== 'in') lines.push(`  chain out { type filter hook output priority -300; ${rule('oifname')}; }`);
  lines.push('}');
  const r = await nftIn(netns, ['-f', '-'], `${lines.join('\n')}\n`);
  if (!r.ok) throw new Error(`cannot set packet loss in ${netns}: ${r.stderr.trim()}`);
}

export async function clearLoss(netns: string): Promise<void> {
  await nftIn(netns, ['delete', 'table', 'inet', TABLE]);
}
