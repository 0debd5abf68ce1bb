// relocate / switch / takeover / giveback through the daemons: ask the local daemon for the
// move, then watch the cluster view until the target runs the service or someone reports
// why it cannot.
import { askDaemon, DaemonNoAccess, DaemonUnreachable } from '../daemon/control-client.js';
import type { ClusterView } from '../daemon/control-protocol.js';
import type { ServiceStatus } from '../service/status.js';
import type { TransferReport } from '../service/data.js';
import type { Status } from '../vocab/status.js';
import { UserError } from '../vocab/errors.js';
import { serviceHbStatus } from '../cluster/view.js';
import type { CliContext } from './main.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function view(ctx: CliContext): Promise<ClusterView> {
  const r = await askDaemon(ctx.paths, { op: 'view' });
  if (!r.ok || !r.view) throw new UserError(r.ok ? 'the daemon sent no view' : r.error);
  return r.view;
}

/** What a relocation did: its time, and for a service with data sync resources the two phases. */
export interface RelocateResult {
  svc: string;
  to: string;
  ms: number;
  /** data sync resources: the two-phase transfer (bytes on the wire, ms) and the downtime */
  transfer?: {
    phase1: TransferReport['phase1'];
    phase2: NonNullable<TransferReport['phase2']>;
    stopMs: number;
    /**
     * from the stop's start on the old owner (it stops serving) to the target's resources
     * started (serving: a container from running, its start_settle check not counted)
     */
    downtimeMs: number;
    /** from the same stop's start to the target publishing the service up: + the start's checks (start_settle) and the status read after it */
    upMs: number;
  };
}

const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;

export function relocateText(r: RelocateResult): string {
  const lines = [`${r.svc} relocated to ${r.to} in ${(r.ms / 1000).toFixed(1)} s`];
  const x = r.transfer;
  if (x) {
    lines.push(`  phase 1 (running): ${x.phase1.passes} pass${x.phase1.passes === 1 ? '' : 'es'}, ${mb(x.phase1.bytes)} sent in ${(x.phase1.ms / 1000).toFixed(2)} s`);
    lines.push(`  phase 2 (stopped): ${mb(x.phase2.bytes)} sent in ${(x.phase2.ms / 1000).toFixed(2)} s`);
    lines.push(`  downtime: ${(x.downtimeMs / 1000).toFixed(2)} s (stop ${(x.stopMs / 1000).toFixed(2)} s, final delta, start on ${r.to})`);
    lines.push(`  reported up after ${(x.upMs / 1000).toFixed(2)} s (the start's checks, such as start_settle, and the status read after it)`);
  }
  return lines.join('\n');
}

/**
 * The transfer report of the old owner, with the downtime ending when the target began to
 * serve: the latest `started` of its data resources (stamped by its start), when it came
 * after the stop; else (an older target that does not publish it) when it was seen up.
 */
export function transferOf(v: ClusterView, svc: string, intent: string, to: string, upAt: number): RelocateResult['transfer'] {
  const starts = Object.values(v.nodes[to]?.payload?.services[svc]?.data ?? {}).map((d) => d.started ?? 0);
  const servingAt = starts.length ? Math.max(...starts) : 0;
  for (const nv of Object.values(v.nodes)) {
    const tr = nv.payload?.services[svc]?.transfer;
    if (tr?.intent === intent && tr.ok && tr.phase2 && tr.stoppedAt !== undefined) {
      const end = servingAt >= tr.stoppedAt && servingAt <= upAt ? servingAt : upAt;
      return { phase1: tr.phase1, phase2: tr.phase2, stopMs: tr.stopMs ?? 0, downtimeMs: Math.max(0, end - tr.stoppedAt), upMs: Math.max(0, upAt - tr.stoppedAt) };
    }
  }
  return undefined;
}

export async function relocate(ctx: CliContext, svc: string, to: string, waitMs: number): Promise<RelocateResult> {
  let r;
  try {
    r = await askDaemon(ctx.paths, { op: 'relocate', svc, to });
  } catch (e) {
    if (e instanceof DaemonUnreachable) throw new UserError(`${svc}: relocate needs the daemon: ${e.message}`);
    throw e;
  }
  if (!r.ok) throw new UserError(`${svc}: relocate to ${to} refused: ${r.error}`);
  const intent = r.intent!;
  const t0 = Date.now();
  for (;;) {
    const v = await view(ctx);
    const target = v.nodes[to];
    const s = target?.payload?.services[svc];
    if (s && (s.avail === 'up' || s.avail === 'warn') && s.monitor === 'idle') {
      // the target's state is stamped at the refresh that ended its start
      const upAt = Math.min(Date.now(), s.updated);
      const transfer = transferOf(v, svc, intent.id, to, upAt);
      return { svc, to, ms: Date.now() - t0, ...(transfer ? { transfer } : {}) };
    }
    if (s && s.monitor === 'start failed' && s.updated > intent.at) throw new UserError(`${svc}: start on ${to} failed: ${s.error ?? 'unknown error'}`);
    for (const [node, nv] of Object.entries(v.nodes)) {
      const other = nv.payload?.services[svc];
      if (node !== to && other?.monitor === 'stop failed' && other.updated > intent.at) {
        throw new UserError(`${svc}: stop on ${node} failed: ${other.error ?? 'unknown error'}; not started on ${to}`);
      }
    }
    if (target && target.state !== 'up' && target.state !== 'self') throw new UserError(`${svc}: ${to} went ${target.state} during the relocation`);
    const cur = v.intents[svc];
    if (cur && cur.id !== intent.id) throw new UserError(`${svc}: superseded by another relocation to ${cur.target}`);
    if (Date.now() - t0 > waitMs) throw new UserError(`${svc}: not running on ${to} after ${waitMs / 1000} s`);
    await sleep(100);
  }
}

/**
 * The daemon's cluster view; undefined when no daemon runs here (print status works without
 * one). A daemon this user may not reach (EACCES) is no "no daemon": `note` says why the
 * view is missing, the same words svcmon stops with.
 */
export async function daemonView(ctx: CliContext): Promise<{ view: ClusterView | undefined; note?: string }> {
  try {
    return { view: await view(ctx) };
  } catch (e) {
    if (e instanceof DaemonUnreachable) return { view: undefined };
    if (e instanceof DaemonNoAccess) return { view: undefined, note: `${e.message}: this node's status only, without the daemon's view` };
    return { view: undefined, note: `no view from the daemon: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * The heartbeat rows of `print status`, from the daemon's view. A peer known down or gone is
 * no heartbeat problem (its label still says it): the status counts the live peers only.
 */
export function hbRows(v: ClusterView | undefined): ServiceStatus['hb'] {
  if (!v) return [];
  return v.hb.heartbeats.map((h) => {
    const peers = Object.entries(h.peers);
    const status: Status = serviceHbStatus([h], peers.map(([n]) => n).filter((n) => v.nodes[n]?.state === 'up'));
    return { name: h.id, status, label: `${h.type} tx ${h.txState}, rx ${peers.map(([n, p]) => `${n} ${p.rxState}`).join(', ')}` };
  });
}
