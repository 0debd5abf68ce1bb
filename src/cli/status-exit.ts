// The exit code of a command that reports several services' statuses: the code of the worst
// status by severity, never the numeric maximum (n/a = 3 would hide a down = 1).
import { statusExitCode, type Status } from '../vocab/status.js';

/** Worst first. n/a (nothing to run here) is the least severe: it never hides anything. */
export const STATUS_SEVERITY: readonly Status[] = ['down', 'stdby down', 'warn', 'undef', 'stdby up', 'up', 'n/a'];

export function worstStatus(statuses: readonly Status[]): Status | undefined {
  let worst: Status | undefined;
  for (const s of statuses) if (worst === undefined || STATUS_SEVERITY.indexOf(s) < STATUS_SEVERITY.indexOf(worst)) worst = s;
  return worst;
}

/** 0 for no status at all (nothing was asked). */
export function statusesExitCode(statuses: readonly Status[]): number {
  const w = worstStatus(statuses);
  return w === undefined ? 0 : statusExitCode[w];
}
