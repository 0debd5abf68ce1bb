// Cluster-wide human output: the svcmon table with a node column, notes saying why a node
// waits or failed, and the node table (quorum, fencing). A down, left or unknown node's row
// shows no status as current: `-`, `unknown`, and when it was last heard.
import { alignedRows, headerRows, plainTable as table } from './table.js';
import { utcClock } from '../util/clock.js';
import type { ClusterView } from '../daemon/control-protocol.js';
import type { FenceInfo } from '../cluster/node-state.js';
import { agoText, isLive, lastSeenOf, quorumReason } from '../cluster/view.js';
import { type InstanceView, type ServiceView, type SvcmonModel, modelOfView, serviceViews } from '../daemon/svcmon-model.js';
import { clusterFileMismatch, configConflictNotes } from './render-config.js';

const HEAD: [string, string][] = [
  ['service', 'name'], ['', 'node'], ['service', 'type'], ['container', 'type'], ['container', 'status'], ['ip', 'status'],
  ['disk', 'status'], ['fs', 'status'], ['share', 'status'], ['app', 'status'], ['hb', 'status'], ['sync', 'status'],
  ['avail', 'status'], ['overall', 'status'], ['', 'frozen'], ['', 'monitor'],
];

function instanceRow(svc: string, node: string, i: InstanceView): string[] {
  if (i.stale) return [svc, `${node} (${i.agent})`, i.service_type, 'hosted', '-', '-', '-', '-', '-', '-', '-', '-', 'unknown', 'unknown', '-', '-'];
  const g = i.groups;
  return [svc, node, i.service_type, 'hosted', g.container, g.ip, g.disk, g.fs, g.share, g.app, g.hb, g.sync, i.avail, i.overall, i.frozen ? 'True' : 'False', i.monitor ?? '-'];
}

export function renderClusterSvcmon(v: ClusterView, only: string[] = [], now = Date.now()): string {
  // the services part of the model only: the table does not show the nodes' raw states
  const m = { services: serviceViews(v, only) };
  const rows: string[][] = headerRows(HEAD);
  const notes: string[] = [];
  for (const svc in m.services) {
    const instances = m.services[svc]!.instances;
    for (const node in instances) {
      const i = instances[node]!;
      rows.push(instanceRow(svc, node, i));
      if (i.stale) notes.push(`${svc}@${node}: ${node} is ${i.agent}, last seen ${agoText(i.lastSeen, now)}: its statuses are not current`);
    }
    for (const n of serviceNotes(v, svc, false, m)) notes.push(n);
  }
  for (const svc in v.intents) {
    const i = v.intents[svc]!;
    if (!i.done && (!only.length || only.includes(svc))) notes.push(`${i.svc}: relocating to ${i.target} (asked on ${i.by})`);
  }
  return [table(rows), ...(notes.length ? ['', ...notes.map((n) => `# ${n}`)] : []), '', ...renderNodes(v, now)].join('\n');
}

/** "non-optimal placement" when the service runs away from its first eligible node, else undefined. */
export function placementNote(m: Pick<SvcmonModel, 'services'>, svc: string): string | undefined {
  const sv = m.services[svc];
  if (sv?.placement !== 'non-optimal') return undefined;
  return `${svc}: non-optimal placement: runs on ${sv.runningOn.join(', ')}, ${sv.best} is the first eligible node`;
}

/**
 * Why the daemons wait or failed for a service: each live node's published error for it (a
 * failed fence, a split grace, a failed start), its non-optimal placement, and this node's
 * quorum when it has none. A stale node's error is its old word: not shown. `model`: the
 * view's model (modelOfView), when the caller has it already.
 */
export function serviceNotes(v: ClusterView, svc: string, withQuorum = true, model?: { services: Record<string, ServiceView> }): string[] {
  const notes: string[] = [];
  for (const node in v.nodes) {
    const nv = v.nodes[node]!;
    const error = nv.payload?.services[svc]?.error;
    if (error && isLive(nv.state)) notes.push(`${svc}@${node}: ${error}`);
  }
  for (const n of configConflictNotes(v, svc)) notes.push(n);
  // the caller's model of every service, if it has one: one per service made the table quadratic
  const m = model ?? modelOfView(v, [svc]);
  const multiple = m.services[svc]?.multipleActive;
  if (multiple) notes.push(`${svc}: multiple-active: up on ${multiple.join(', ')} (multiple_active keyword: docs/monitoring.md)`);
  const placement = placementNote(m, svc);
  if (placement) notes.push(placement);
  const q = v.nodes[v.nodename]?.payload?.quorum;
  if (withQuorum && q && (q.state !== 'quorate' && q.state !== 'off')) notes.push(`${v.nodename}: ${q.why}`);
  return notes;
}

function fenceText(f: FenceInfo): string {
  if (f.state === 'fenced') return `fenced at ${utcClock(f.at)}`;
  if (f.state === 'fencing') return 'fencing';
  return `fence failed ${f.failures ?? 1}x (${f.error ?? '?'}), next at ${f.nextAt ? utcClock(f.nextAt) : '?'}`;
}

/**
 * One line per node: its agent's state (and when a node not live was last heard), its quorum
 * as it says now and why (`quorate: peer n2 fenced`), and its fencing of peers. A node not live
 * shows neither: they would be its old word.
 */
export function renderNodes(v: ClusterView, now = Date.now()): string[] {
  const rows: string[][] = [['node', 'agent', 'quorum', 'fencing']];
  for (const [node, nv] of Object.entries(v.nodes)) {
    const live = isLive(nv.state);
    const agent = (live ? nv.state : `${nv.state}, last seen ${agoText(lastSeenOf(v.hb.heartbeats, node), now)}`) + (clusterFileMismatch(v, node) ? ', cluster.conf differs' : '');
    const q = live ? nv.payload?.quorum : undefined;
    const fence = (live ? nv.payload?.fence : undefined) ?? {};
    const fenced = Object.entries(fence).filter(([, f]) => f.state === 'fenced').map(([peer]) => peer);
    const arbs = q && q.state !== 'quorate' ? Object.entries(q.arbitrators ?? {}).map(([id, a]) => `; ${id} ${a.granted ? 'granted' : `no: ${a.error ?? ''}`}`) : [];
    const quorum = !q ? '-' : q.state === 'off' ? 'off' : `${q.state}: ${quorumReason(q, fenced)}${arbs.join('')}`;
    const fences = Object.entries(fence).map(([peer, f]) => `${peer} ${fenceText(f)}`);
    rows.push([node, agent, quorum, fences.join('; ') || '-']);
  }
  return alignedRows(rows);
}
