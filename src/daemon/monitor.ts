// Resource monitoring: a monitored resource found not up on the node that runs the service
// is restarted up to `restart` times; then the resource's monitor_action runs.
import type { ServiceStatus } from '../service/status.js';

export type MonitorStep =
  | { kind: 'restart'; rid: string; attempt: number; of: number }
  | { kind: 'action'; rid: string; action: string };

/** Restart counters per service/rid; reset when the service is (re)started by the daemon. */
export class RestartCounters {
  private readonly counts = new Map<string, number>();
  reset(svc: string): void {
    for (const k of [...this.counts.keys()]) if (k.startsWith(`${svc}\0`)) this.counts.delete(k);
  }
  next(svc: string, rid: string): number {
    const k = `${svc}\0${rid}`;
    const n = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, n);
    return n;
  }
}

/** What to do about the first failed monitored resource, if any. */
export function monitorStep(status: ServiceStatus, restartOf: (rid: string) => { restart: number; action: string }, counters: RestartCounters): MonitorStep | undefined {
  const failed = status.resources.find((r) => r.monitored && !r.disabled && (r.status === 'down' || r.status === 'warn'));
  if (!failed) return undefined;
  const { restart, action } = restartOf(failed.rid);
  const attempt = counters.next(status.svcname, failed.rid);
  if (attempt <= restart) return { kind: 'restart', rid: failed.rid, attempt, of: restart };
  return { kind: 'action', rid: failed.rid, action };
}
