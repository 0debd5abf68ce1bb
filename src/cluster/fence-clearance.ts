// The fencing verdict of a takeover, as a pure function: a dead peer may still run what this
// node wants to start. It is cleared by
//  - a confirmed fence: a dead node that has a [stonith#node] section is fenced (powered off,
//    confirmed) first, when the service allows waiting for it (its `stonith` keyword); a
//    failed or timed out fence keeps the service down — unlike OpenSVC, which starts it
//    anyway — and is retried with backoff (src/daemon/fencing.ts runs the fences);
//  - or, when it cannot be fenced and quorum is on, the split grace: the lost node lost
//    quorum at the same time we declared it dead, and `split_grace` is the time it has to
//    apply its split_action (stop, crash). With split_action = freeze it keeps running its
//    services, so only a fence clears it.
// Without quorum (`quorum = false`) an unfenceable dead node clears at once.
import type { ClusterConfig } from './config.js';
import { SPLIT_GRACE_DEFAULT } from './keywords.js';
import { utcClock } from '../util/clock.js';

/** What the fencing part knows of one node. */
export interface FenceNodeFacts {
  /** fenced (confirmed off) since it was last declared dead */
  fenced: boolean;
  /** it has a [stonith#node] section */
  fenceable: boolean;
  /** when it was declared dead (undefined: not declared dead yet) */
  deadSince?: number | undefined;
  /** what a takeover waiting for its fence says (being fenced, or the last failure and the next attempt) */
  waitWhy: string;
}

/** The fencing facts of the cluster, as the fencing part knows them now. */
export interface FenceFacts {
  /** the cluster's `quorum` keyword */
  quorum: boolean;
  splitAction: ClusterConfig['splitAction'];
  /** ms; undefined: the keyword table's default */
  splitGrace: number | undefined;
  /** when this node last gained quorum: the side that just lost it needs its grace from then */
  quorateSince: number;
  nodes: Record<string, FenceNodeFacts>;
}

/** fence: the dead nodes whose fence the takeover waits for (to be started unless they run or back off). */
export type TakeoverClearance = { ok: true } | { ok: false; why: string; fence: string[] };

/** May a service be taken over from these dead nodes now? useStonith: the service's `stonith` keyword. */
export function takeoverClear(dead: readonly string[], useStonith: boolean, facts: FenceFacts, now: number): TakeoverClearance {
  const waits: string[] = [];
  const fence: string[] = [];
  for (const node of dead) {
    const f = facts.nodes[node];
    if (f?.fenced) continue;
    if (useStonith && f?.fenceable) {
      fence.push(node);
      waits.push(f.waitWhy);
      continue;
    }
    if (!facts.quorum) continue;
    if (facts.splitAction === 'freeze') {
      waits.push(`${node} is lost and keeps its services frozen without quorum (split_action = freeze), and it cannot be fenced: not taking over`);
      continue;
    }
    const until = Math.max(f?.deadSince ?? now, facts.quorateSince) + (facts.splitGrace ?? SPLIT_GRACE_DEFAULT);
    if (now < until) waits.push(`${node} lost: giving it until ${utcClock(until)} UTC (split_grace) to stop its services`);
  }
  return waits.length ? { ok: false, why: waits.join('; '), fence } : { ok: true };
}
