// What the control server dropped, by reason, and when to log it: the first drop of a reason
// is logged, then at most one line per reason per interval (a flood of bad clients must not
// flood the log), each carrying the running count.
import { LogThrottle } from '../util/log-throttle.js';
import type { ControlStats, DropReason } from './control-protocol.js';

export class ControlCounters {
  private readonly drops = new Map<DropReason, number>();
  private readonly throttle: LogThrottle<DropReason>;
  answered = 0;
  connections = 0;

  constructor(logEveryMs = 10_000) {
    this.throttle = new LogThrottle(logEveryMs);
  }

  /** Count one drop; true when this one should be logged. */
  drop(reason: DropReason, now: number): boolean {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    return this.throttle.due(reason, now);
  }

  count(reason: DropReason): number {
    return this.drops.get(reason) ?? 0;
  }

  snapshot(): ControlStats {
    return { connections: this.connections, answered: this.answered, drops: Object.fromEntries(this.drops) };
  }
}
