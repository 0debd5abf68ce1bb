// The target's side of a relocation as a handover (src/cluster/handover.ts): the release gate
// its start's resources wait on. Fed by the daemon on every peer payload, every beat that
// carries new releases, and every peer state change, so a gate opens in the very handler that
// reads the owner's announce, from its beat or its pulled state (combinedReleaseVerdict; no
// tick, no poll); the instant it opened is that read (performance.now()), which the ip
// driver's prepared probe counts its evidence from. An instant first seen is kept, so a
// resource that asks later gets the same (earlier) instant — never one before the read.
import { performance } from 'node:perf_hooks';
import { combinedReleaseVerdict } from '../cluster/handover.js';
import type { PeerInfo } from '../cluster/takeover.js';
import type { ReleaseGate } from '../service/actions.js';

interface Waiter {
  group: string;
  resolve: (at: number) => void;
  reject: (e: Error) => void;
}

interface Handover {
  owners: string[];
  intent: string;
  /** group → when this node first read it released by every owner */
  seen: Map<string, number>;
  waiters: Set<Waiter>;
}

export class HandoverGates {
  private readonly active = new Map<string, Handover>();

  constructor(
    private readonly peers: () => Record<string, PeerInfo>,
    /** a group seen released (first time), for the log; via: 'beat' when read from an owner's beat before its pulled state */
    private readonly opened: (svc: string, group: string, owners: string[], via: 'beat' | 'state') => void = () => undefined,
  ) {}

  /** The gate of a start of svc handed over by `owners` under `intent`; end() it after the action. */
  begin(svc: string, owners: string[], intent: string): ReleaseGate {
    const h: Handover = { owners, intent, seen: new Map(), waiters: new Set() };
    this.active.set(svc, h);
    return (group) =>
      new Promise<number>((resolve, reject) => {
        const at = h.seen.get(group);
        if (at !== undefined) return resolve(at);
        if (this.active.get(svc) !== h) return reject(new Error('the handover is over'));
        const w: Waiter = { group, resolve, reject };
        h.waiters.add(w);
        this.settle(svc, h, this.peers());
      });
  }

  end(svc: string): void {
    const h = this.active.get(svc);
    if (!h) return;
    this.active.delete(svc);
    for (const w of h.waiters) w.reject(new Error('the handover is over'));
  }

  /** A peer's payload or state changed: open (or refuse) what waits on it. */
  peerChanged(peer: string): void {
    let peers: Record<string, PeerInfo> | undefined;
    for (const [svc, h] of this.active) {
      if (!h.owners.includes(peer) || h.waiters.size === 0) continue;
      peers ??= this.peers();
      this.settle(svc, h, peers);
    }
  }

  private settle(svc: string, h: Handover, peers: Record<string, PeerInfo>): void {
    const now = performance.now();
    for (const w of h.waiters) {
      const vs = h.owners.map((o) => combinedReleaseVerdict(peers[o], svc, h.intent, w.group));
      const refused = vs.find((v) => v.state === 'refused');
      if (refused?.state === 'refused') {
        h.waiters.delete(w);
        w.reject(new Error(`handover refused: ${refused.why}`));
      } else if (vs.every((v) => v.state === 'released')) {
        h.waiters.delete(w);
        if (!h.seen.has(w.group)) {
          h.seen.set(w.group, now);
          this.opened(svc, w.group, h.owners, vs.some((v) => v.state === 'released' && v.via === 'beat') ? 'beat' : 'state');
        }
        w.resolve(h.seen.get(w.group)!);
      }
    }
  }
}
