// Cluster-wide human output: the svcmon table with a node column, notes saying why a node
// waits or failed, and the node table (quorum, fencing).
import { alignedRows, headerRows, plainTable as table } from './table.js';
import { utcClock } from '../util/clock.js';
import type { HbSnapshot } from '../heartbeat/index.js';
import type { ClusterView } from '../daemon/control-protocol.js';
import type { FenceInfo } from '../cluster/node-state.js';

const HEAD: [string, string][] = [
  ['service', 'name'], ['', 'node'], ['service', 'type'], ['container', 'type'], ['container', 'status'], ['ip', 'status'],
  ['disk', 'status'], ['fs', 'status'], ['share', 'status'], ['app', 'status'], ['hb', 'status'], ['sync', 'status'],
  ['avail', 'status'], ['overall', 'status'], ['', 'frozen'], ['', 'monitor'],
];

function hbStatus(hb: HbSnapshot): string {
  if (hb.heartbeats.length === 0) return 'n/a';
  const states = hb.heartbeats.flatMap((h) => [h.txState === 'up' ? 'up' : 'down', ...Object.values(h.peers).map((p) => (p.rxState === 'up' ? 'up' : 'down'))]);
  return states.every((s) => s === 'up') ? 'up' : states.some((s) => s === 'up') ? 'warn' : 'down';
}

export function renderClusterSvcmon(v: ClusterView, only: string[] = []): string {
  const rows: string[][] = headerRows(HEAD);
  const notes: string[] = [];
  const names = new Set<string>();
  for (const nv of Object.values(v.nodes)) for (const s of Object.keys(nv.payload?.services ?? {})) names.add(s);
  const hb = hbStatus(v.hb);
  for (const svc of [...names].sort()) {
    if (only.length && !only.includes(svc)) continue;
    for (const [node, nv] of Object.entries(v.nodes)) {
      const s = nv.payload?.services[svc];
      if (!s) continue;
      const stale = nv.state === 'down' || nv.state === 'left' || nv.state === 'unknown';
      const g = s.groups;
      rows.push([
        svc, stale ? `${node} (${nv.state})` : node, s.service_type, 'hosted', g.container, g.ip, g.disk, g.fs, g.share, g.app, hb, g.sync,
        s.avail, s.overall, s.frozen || nv.payload?.frozen ? 'True' : 'False', s.monitor,
      ]);
    }
    notes.push(...serviceNotes(v, svc, false));
  }
  const intents = Object.values(v.intents).filter((i) => !i.done);
  for (const i of intents) notes.push(`${i.svc}: relocating to ${i.target} (asked on ${i.by})`);
  return [table(rows), ...(notes.length ? ['', ...notes.map((n) => `# ${n}`)] : []), '', ...renderNodes(v)].join('\n');
}

/**
 * Why the daemons wait or failed for a service: each node's published error for it (a failed
 * fence, a split grace, a failed start), and this node's quorum when it has none.
 */
export function serviceNotes(v: ClusterView, svc: string, withQuorum = true): string[] {
  const notes: string[] = [];
  for (const [node, nv] of Object.entries(v.nodes)) {
    const error = nv.payload?.services[svc]?.error;
    if (error) notes.push(`${svc}@${node}: ${error}`);
  }
  const q = v.nodes[v.nodename]?.payload?.quorum;
  if (withQuorum && q && (q.state !== 'quorate' && q.state !== 'off')) notes.push(`${v.nodename}: ${q.why}`);
  return notes;
}

function fenceText(f: FenceInfo): string {
  if (f.state === 'fenced') return `fenced at ${utcClock(f.at)}`;
  if (f.state === 'fencing') return 'fencing';
  return `fence failed ${f.failures ?? 1}x (${f.error ?? '?'}), next at ${f.nextAt ? utcClock(f.nextAt) : '?'}`;
}

/** One line per node: its agent's state, its quorum as it last said, and its fencing of peers. */
export function renderNodes(v: ClusterView): string[] {
  const rows: string[][] = [['node', 'agent', 'quorum', 'votes', 'fencing']];
  for (const [node, nv] of Object.entries(v.nodes)) {
    const live = nv.state === 'self' || nv.state === 'up';
    const q = live ? nv.payload?.quorum : undefined;
    const arbs = Object.entries(q?.arbitrators ?? {}).map(([id, a]) => `${id} ${a.granted ? 'granted' : `no: ${a.error ?? ''}`}`);
    const fences = Object.entries((live ? nv.payload?.fence : undefined) ?? {}).map(([peer, f]) => `${peer} ${fenceText(f)}`);
    rows.push([node, nv.state, q ? q.state : '-', q ? `${q.votes}/${q.total} (${q.needed} needed)${arbs.length ? `; ${arbs.join('; ')}` : ''}` : '-', fences.join('; ') || '-']);
  }
  return alignedRows(rows);
}
