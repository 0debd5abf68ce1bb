// Placement intents (relocate / takeover / giveback) travel with the node states (over the
// state channel, docs/state-channel.md): every node
// keeps the newest intent per service it has heard of, and marks it done once the target
// reports the service running. An intent is only honoured while fresh.
import type { Intent } from './node-state.js';

/** How long an intent may steer placement before plain HA rules take over again. */
export const INTENT_TTL_MS = 5 * 60_000;

export function mergeIntents(into: Record<string, Intent>, from: Record<string, Intent> | undefined): boolean {
  let changed = false;
  for (const [svc, theirs] of Object.entries(from ?? {})) {
    const mine = into[svc];
    if (!mine || theirs.at > mine.at || (theirs.at === mine.at && theirs.id > mine.id)) {
      into[svc] = { ...theirs };
      changed = true;
    } else if (mine.id === theirs.id && theirs.done && !mine.done) {
      mine.done = true;
      changed = true;
    }
  }
  return changed;
}

export function activeIntent(intents: Record<string, Intent>, svc: string, now: number): Intent | undefined {
  const i = intents[svc];
  return i && !i.done && now - i.at < INTENT_TTL_MS ? i : undefined;
}
