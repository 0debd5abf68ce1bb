// Multiple-active, refresh by refresh: the pure verdict (src/cluster/multiple-active.ts) with
// what it needs remembered between refreshes, and its events: `service.multiple-active`
// (error) when the set of nodes, the confirmation or the verdict changes, then
// `service.multiple-active-ended` when it is active on one node at most again. A stop of ours
// that did not end it is one such event (`stops`, `nextStopInMs`: the verdict's back-off, whose
// `why` stays the same until the next stop), not one per refresh.
import { multipleActive, type MultipleActiveInput, type MultipleActiveTrack, type MultipleActiveVerdict } from '../cluster/multiple-active.js';
import { EVENT } from '../events.js';
import type { Logger } from '../log.js';

export class MultipleActiveWatch {
  private readonly tracks = new Map<string, MultipleActiveTrack>();
  /** per service: what was last logged */
  private readonly reported = new Map<string, string>();

  constructor(private readonly log: Logger) {}

  refresh(input: MultipleActiveInput): MultipleActiveVerdict {
    const { svc } = input;
    const v = multipleActive(input, this.tracks.get(svc));
    if (v.track) this.tracks.set(svc, v.track);
    else this.tracks.delete(svc);
    const key = v.track ? `${v.active.join(',')}|${v.confirmed}|${v.action}|${v.why}` : undefined;
    const was = this.reported.get(svc);
    if (key !== was) {
      if (key) {
        this.reported.set(svc, key);
        this.log.error(
          { event: EVENT.multipleActive, svc, nodes: v.active, policy: input.policy, confirmed: v.confirmed, action: v.action, ...(v.keep ? { keep: v.keep } : {}), why: v.why, ...(v.stops ? { stops: v.stops } : {}), ...(v.nextStopInMs !== undefined ? { nextStopInMs: Math.round(v.nextStopInMs) } : {}) },
          `${svc}: multiple-active: up on ${v.active.join(', ')} (${v.why})`,
        );
      } else {
        this.reported.delete(svc);
        this.log.info({ event: EVENT.multipleActiveEnded, svc, nodes: v.active }, `${svc}: no longer multiple-active`);
      }
    }
    return v;
  }

  /** The service is gone from this node. */
  forget(svc: string): void {
    this.tracks.delete(svc);
    this.reported.delete(svc);
  }
}
