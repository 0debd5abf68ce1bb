// Resource monitoring: a monitored resource found not up on the node that runs the service
// is restarted up to `restart` times; then the resource's monitor_action runs, unless it counts
// on a peer taking the service over and no peer can (gateMonitorAction).
import type { Takeover } from '../cluster/takeover.js';
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

/**
 * monitor_action values that give the service up on this node for a peer to start: `switch`
 * stops it here, `crash` and `reboot` take the whole node out. `freezestop` (the operator's
 * "stop it and keep hands off") and `none` do not count on a peer.
 */
export const TAKEOVER_ACTIONS: readonly string[] = ['switch', 'crash', 'reboot'];

export type ActionGate = { run: true; candidates: string[] } | { run: false; why: string };

/**
 * May the monitor action run now? One that counts on a peer's takeover is held while no peer
 * could take the service (src/cluster/takeover.ts): running it would only turn a degraded
 * service into a down one. It runs once a candidate appears, if the resource is still failed.
 */
export function gateMonitorAction(action: string, takeover: Takeover): ActionGate {
  if (!TAKEOVER_ACTIONS.includes(action)) return { run: true, candidates: [] };
  return takeover.ok ? { run: true, candidates: takeover.candidates } : { run: false, why: takeover.why };
}
