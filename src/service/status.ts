// A service's status on this node: every resource's report, then avail and overall by the
// OpenSVC merge rules (GUIDE §3).
import type { ResourceKind, StatusReport } from '../resources/types.js';
import { mergeAll, type Status } from '../vocab/status.js';
import type { ServiceResource } from './resources.js';
import { compareRid } from './rid-order.js';

export interface ResourceStatus extends StatusReport {
  rid: string;
  kind: ResourceKind;
  type: string;
  subset?: string;
  /** v1 flag column: M monitored, D disabled, O optional, E encap */
  flags: string;
  optional: boolean;
  disabled: boolean;
  monitored: boolean;
}

export interface ServiceStatus {
  svcname: string;
  nodename: string;
  service_type: string;
  orchestrate: string;
  frozen: boolean;
  overall: Status;
  avail: Status;
  /** merged status per svcmon column */
  groups: Record<'container' | 'ip' | 'disk' | 'fs' | 'share' | 'app' | 'sync' | 'hb', Status>;
  resources: ResourceStatus[];
  /** heartbeat rows, filled by the cluster layer */
  hb: { name: string; status: Status; label: string }[];
}

/** kinds whose non-optional resources make avail */
export const availKinds: readonly ResourceKind[] = ['ip', 'disk', 'fs', 'share', 'container', 'app'];

export function flagsOf(r: Pick<ServiceResource, 'monitored' | 'disabled' | 'optional' | 'encap'>): string {
  return `${r.monitored ? 'M' : '.'}${r.disabled ? 'D' : '.'}${r.optional ? 'O' : '.'}${r.encap ? 'E' : '.'}`;
}

/** Tree order of v1: resources grouped by kind name (container, disk, fs, ip...), then by rid. */
function treeOrder(a: ResourceStatus, b: ResourceStatus): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return compareRid(a.rid, b.rid);
}

export async function resourceStatuses(resources: readonly ServiceResource[]): Promise<ResourceStatus[]> {
  const reports = await Promise.all(
    resources.map(async (r): Promise<ResourceStatus> => {
      const base = {
        rid: r.rid,
        kind: r.kind,
        type: r.type,
        subset: r.subset,
        flags: flagsOf(r),
        optional: r.optional,
        disabled: r.disabled,
        monitored: r.monitored,
      };
      if (r.disabled) return { ...base, status: 'n/a', label: '', messages: ['disabled'] };
      try {
        return { ...base, ...(await r.impl.status()) };
      } catch (e) {
        // drivers must not throw from status; if one does, say so rather than crash
        return { ...base, status: 'undef', label: '', messages: [`status failed: ${e instanceof Error ? e.message : String(e)}`] };
      }
    }),
  );
  return reports.sort(treeOrder);
}

/** The fresh reports, the kept ones for the other rids of `rids`, in tree order. */
export function mergeStatuses(fresh: ResourceStatus[], rids: readonly string[], kept: ReadonlyMap<string, ResourceStatus>): ResourceStatus[] {
  const byRid = new Map(fresh.map((r) => [r.rid, r]));
  return rids.map((rid) => byRid.get(rid) ?? kept.get(rid)).filter((r): r is ResourceStatus => r !== undefined).sort(treeOrder);
}

export function summarize(
  head: Pick<ServiceStatus, 'svcname' | 'nodename' | 'service_type' | 'orchestrate' | 'frozen'>,
  resources: ResourceStatus[],
  hb: ServiceStatus['hb'] = [],
): ServiceStatus {
  const counted = resources.filter((r) => !r.disabled);
  const avail = mergeAll(counted.filter((r) => availKinds.includes(r.kind) && !r.optional).map((r) => r.status));
  const optional = mergeAll(counted.filter((r) => availKinds.includes(r.kind) && r.optional).map((r) => r.status));
  const sync = mergeAll(counted.filter((r) => r.kind === 'sync').map((r) => r.status));
  const hbStatus = mergeAll(hb.map((h) => h.status));
  // A healthy sync or heartbeat is neutral for overall: a stopped service with its config in sync is
  // "down", not "warn" (seed 003, deb2). A sync problem does show.
  const overall = mergeAll([avail, optional, sync === 'up' ? 'n/a' : sync, hbStatus === 'up' ? 'n/a' : hbStatus]);
  const byKind = (k: ResourceKind): Status => mergeAll(counted.filter((r) => r.kind === k).map((r) => r.status));
  return {
    ...head,
    overall,
    avail,
    groups: {
      container: byKind('container'),
      ip: byKind('ip'),
      disk: byKind('disk'),
      fs: byKind('fs'),
      share: byKind('share'),
      app: byKind('app'),
      sync,
      hb: hbStatus,
    },
    resources,
    hb,
  };
}
