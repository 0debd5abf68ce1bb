// Cluster-wide human output: the svcmon table with a node column, notes saying why a node
// waits or failed, and the heartbeat table.
import { headerRows, plainTable as table } from './table.js';
import type { HbSnapshot } from '../heartbeat/index.js';
import type { ClusterView } from '../daemon/control-protocol.js';

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
      if (s.error) notes.push(`${svc}@${node}: ${s.error}`);
    }
  }
  const intents = Object.values(v.intents).filter((i) => !i.done);
  for (const i of intents) notes.push(`${i.svc}: relocating to ${i.target} (asked on ${i.by})`);
  return [table(rows), ...(notes.length ? ['', ...notes.map((n) => `# ${n}`)] : [])].join('\n');
}
