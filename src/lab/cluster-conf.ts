// A cluster file for a lab (docs/heartbeats.md): one unicast heartbeat per lab network, the
// disk heartbeat on the shared loop device, one secret for all nodes. Written identical into
// every node's <FERRY_ROOT>/etc, so `nodemgr daemon run` can start there as is. Plain text
// on purpose: the lab does not depend on the cluster code, the daemon validates the file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabRecord } from './types.js';

export interface ClusterConfOptions {
  name?: string;
  /** first UDP port; heartbeat k uses port + k - 1. Default 10001 */
  port?: number;
  /** network heartbeat interval/timeout, e.g. "1s" / "3s"; default: the daemon's */
  interval?: string;
  timeout?: string;
  /** disk heartbeat on the lab's heartbeat device; default true when the lab has one */
  disk?: boolean;
  /** extra lines appended as is (e.g. [stonith#n1] or [arbitrator#1] sections) */
  extra?: string;
  /** extra lines of the [cluster] section (e.g. fence_delay = 1s) */
  cluster?: string[];
  /** a [stonith#<node>] section for every node, with the lab fence agent (default false) */
  stonith?: boolean;
  /** cluster members, default every lab node (others can then host an arbitrator or a client) */
  members?: string[];
}

/** The lab fence agent (scripts/fence_ferry_lab): powers a lab node off. */
export const labFenceAgent = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'fence_ferry_lab');

export function clusterConfText(rec: LabRecord, opts: ClusterConfOptions = {}): string {
  const port = opts.port ?? 10001;
  const members = opts.members ? rec.nodes.filter((n) => opts.members!.includes(n.name)) : rec.nodes;
  const lines = ['[cluster]', `name = ${opts.name ?? rec.id}`, `nodes = ${members.map((n) => n.name).join(' ')}`, 'secret_file = cluster.secret', ...(opts.cluster ?? []), ''];
  let k = 0;
  for (const net of rec.networks) {
    k++;
    lines.push(`[hb#${k}]`, 'type = unicast');
    for (const n of members) lines.push(`addr@${n.name} = ${net.subnet}.${n.index}`);
    lines.push(`port = ${port + k - 1}`);
    if (opts.interval) lines.push(`interval = ${opts.interval}`);
    if (opts.timeout) lines.push(`timeout = ${opts.timeout}`);
    lines.push('');
  }
  const hb = rec.disks.find((d) => d.role === 'heartbeat');
  if ((opts.disk ?? true) && hb?.dev) {
    k++;
    lines.push(`[hb#${k}]`, 'type = disk', `dev = ${hb.dev}`, '');
  }
  if (opts.stonith) for (const n of members) lines.push(`[stonith#${n.name}]`, `agent = ${labFenceAgent}`, 'timeout = 30s', '');
  if (opts.extra) lines.push(opts.extra, '');
  return lines.join('\n');
}

/** Write cluster.conf and a fresh cluster.secret (mode 600) into every node's etc. */
export function writeClusterConf(rec: LabRecord, opts: ClusterConfOptions = {}): string {
  const text = clusterConfText(rec, opts);
  const secret = `${crypto.randomBytes(32).toString('hex')}\n`;
  for (const n of rec.nodes) {
    const etc = path.join(n.root, 'etc');
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(path.join(etc, 'cluster.conf'), text);
    fs.writeFileSync(path.join(etc, 'cluster.secret'), secret, { mode: 0o600 });
  }
  return text;
}
