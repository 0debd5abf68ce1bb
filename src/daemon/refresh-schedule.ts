// When the daemon re-reads a service's status (docs/monitoring.md, "Intervals"): a full status
// (every resource checked) every status_interval, on every node of the service; the monitored
// resources alone every monitor_interval on the node that runs it; a full one at the next tick
// whenever the service's file or its var dir changed (an edit, a CLI action, freeze, thaw). The
// rule is a pure function (refreshDue); RefreshSchedule keeps the per-service times.

export type RefreshKind = 'full' | 'monitor';

export interface DueInput {
  now: number;
  /** last full status read, if any */
  lastFull: number | undefined;
  /** last read of the monitored resources (a full read sets it to its time, but the first one) */
  lastMonitor: number | undefined;
  statusMs: number;
  monitorMs: number;
  /** the service has monitored resources and runs here: monitor reads apply */
  monitors: boolean;
  /** the service's file or var dir changed since the last full read */
  changed: boolean;
  /** the daemon's tick: a read due within half a tick is done now, so the period is kept ±tick/2 */
  tickMs: number;
}

/** What to read of the service now, if anything. */
export function refreshDue(i: DueInput): RefreshKind | undefined {
  const slack = i.tickMs / 2;
  if (i.changed || i.lastFull === undefined || i.now + slack >= i.lastFull + i.statusMs) return 'full';
  if (i.monitors && i.now + slack >= (i.lastMonitor ?? i.lastFull) + i.monitorMs) return 'monitor';
  return undefined;
}

/** A fraction in [0, 1) from a name: spreads the services' monitor reads over the interval. */
export function phaseOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h / 2 ** 32;
}

/** A cheap fingerprint of what an action or an edit changes: the file's and the var dir's stat. */
export function changeSignature(file: string | undefined, varDir: string | undefined): string {
  return `${file ?? '-'}|${varDir ?? '-'}`;
}

interface Times {
  lastFull?: number;
  lastMonitor?: number;
  sig?: string;
}

export class RefreshSchedule {
  private readonly times = new Map<string, Times>();

  constructor(private readonly tickMs: number) {}

  due(name: string, now: number, o: { statusMs: number; monitorMs: number; monitors: boolean; sig: string }): RefreshKind | undefined {
    const t = this.times.get(name) ?? {};
    return refreshDue({ now, lastFull: t.lastFull, lastMonitor: t.lastMonitor, statusMs: o.statusMs, monitorMs: o.monitorMs, monitors: o.monitors, changed: t.sig !== undefined && t.sig !== o.sig, tickMs: this.tickMs });
  }

  /**
   * A read was made; `sig` is the signature taken before it. The first monitor read after the
   * first full one comes at a phase of the interval proper to the service, not all at once.
   */
  done(name: string, kind: RefreshKind, now: number, sig: string, monitorMs: number): void {
    const t = this.times.get(name);
    if (kind === 'full') {
      const first = t?.lastFull === undefined;
      this.times.set(name, { lastFull: now, lastMonitor: first ? now - phaseOf(name) * monitorMs : now, sig });
    } else this.times.set(name, { ...t, lastMonitor: now });
  }

  /** forget the signature: the next tick reads the service in full */
  invalidate(name: string): void {
    const t = this.times.get(name);
    if (t) t.sig = '';
  }

  forget(name: string): void {
    this.times.delete(name);
  }
}
