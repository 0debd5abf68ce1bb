// The requirement rule of `start_requires` / `stop_requires` (OpenSVC v1): before a resource
// starts (stops), each resource it names must be in one of the states given for it. Pure: the
// caller reads the statuses, this says which requirements are unmet and how to say so.
import type { Requirement, TriggerAction } from '../config/trigger-keywords.js';
import { parseRequires } from '../config/trigger-keywords.js';
import type { Status } from '../vocab/status.js';

export interface Unmet {
  rid: string;
  states: Status[];
  /** undefined: no such resource at run time, or its status could not be read */
  current: Status | undefined;
}

/** The requirements not met by the current statuses, in the order they were written. */
export function unmetRequirements(reqs: readonly Requirement[], current: ReadonlyMap<string, Status>): Unmet[] {
  const out: Unmet[] = [];
  for (const req of reqs) {
    const now = current.get(req.rid);
    if (now === undefined || !req.states.includes(now)) out.push({ rid: req.rid, states: [...req.states], current: now });
  }
  return out;
}

/** "start requires fs#1 in state up or stdby up, current state down" */
export function describeUnmet(action: TriggerAction, u: Unmet): string {
  return `${action} requires ${u.rid} in state ${u.states.join(' or ')}, current state ${u.current ?? 'undef'}`;
}

/** The requirements of a loaded value (validated already: a bad one reads as none). */
export function requirementsOf(value: string | undefined): Requirement[] {
  if (value === undefined || value.trim() === '') return [];
  const r = parseRequires(value);
  return 'error' in r ? [] : r.requirements;
}
