// Prepared takeovers: when a peer is suspect (every heartbeat silent past its suspect
// threshold, src/heartbeat/liveness.ts), this node prepares the start of each service it would
// take over if that peer went down (the orchestrator's own answer, asked read-only), through
// the service layer's prepareStart (ip: a rolling duplicate-address probe). The preparation is
// undone when the peer is heard again, when the service's action here ends, or at its time to
// live; it never decides anything: the start still comes only from the orchestrator once the
// peer is down, and each driver uses what was prepared only when it proves as much as the
// work it replaces (src/resources/ip-prepared-probe.ts).
//
// A relocation's target prepares the same way as soon as the relocation is decided (the intent
// names it), in handover mode: its probe runs while the owner still holds the address, and the
// start counts only what it shows after the owner announced the address removed.
import type { Logger } from '../log.js';
import { EVENT } from '../events.js';
import type { PrepareOptions } from '../resources/types.js';

export interface PrepareDeps {
  log: Logger;
  /** the services this node would start if `peer` were down (read-only question to the orchestrator) */
  wouldTakeOver: (peer: string) => string[];
  /** the service layer's prepareStart of that service */
  prepare: (svc: string, ttlMs: number, opts: PrepareOptions) => Promise<{ prepared: string[]; cancel: () => void }>;
  /** how long a preparation may live without being used */
  ttlMs: number;
  /** the same for a relocation target's (its owner's stop may take longer than a peer's timeout) */
  handoverTtlMs?: number;
}

interface Prep {
  /** the suspect peer; undefined for a relocation target's preparation */
  peer: string | undefined;
  /** a relocation target's: the intent it prepares for */
  intent?: string;
  cancel: () => void;
  timer: NodeJS.Timeout;
  /** a cancel came while prepareStart was still running */
  cancelled?: string;
}

export class StartPreparer {
  private readonly preps = new Map<string, Prep>();
  /** the last relocation intent prepared for, per service */
  private readonly relocations = new Map<string, string>();

  constructor(private readonly d: PrepareDeps) {}

  /** the heartbeats' suspect signal (src/heartbeat/index.ts 'suspect') */
  suspect(peer: string, on: boolean): void {
    if (!on) {
      this.cancelPeer(peer, 'the peer was heard again');
      return;
    }
    let names: string[];
    try {
      names = this.d.wouldTakeOver(peer);
    } catch {
      return;
    }
    for (const svc of names) if (!this.preps.has(svc)) void this.begin(svc, peer);
  }

  /**
   * A relocation to this node was decided (intent): prepare its start now, in handover mode.
   * Replaces a preparation for a suspect peer (its probe would stop at the owner's first reply).
   */
  relocation(svc: string, intent: string): void {
    // once per intent: not again after it was used, undone, or found nothing to prepare
    if (this.relocations.get(svc) === intent) return;
    this.relocations.set(svc, intent);
    const p = this.preps.get(svc);
    if (p) this.cancel(svc, 'a relocation here');
    void this.begin(svc, undefined, intent);
  }

  /** the peer is up again (or left): nothing of it is to be taken over */
  cancelPeer(peer: string, why: string): void {
    for (const [svc, p] of this.preps) if (p.peer === peer) this.cancel(svc, why);
  }

  /** an action of the service here ended (the start used what it could; the rest goes) */
  actionEnded(svc: string): void {
    this.cancel(svc, 'the action ended');
  }

  private async begin(svc: string, peer: string | undefined, intent?: string): Promise<void> {
    const ttl = intent !== undefined ? (this.d.handoverTtlMs ?? this.d.ttlMs) : this.d.ttlMs;
    const prep: Prep = { peer, ...(intent !== undefined ? { intent } : {}), cancel: () => undefined, timer: setTimeout(() => this.cancel(svc, 'timed out'), ttl) };
    prep.timer.unref();
    this.preps.set(svc, prep);
    let r: { prepared: string[]; cancel: () => void };
    try {
      r = await this.d.prepare(svc, ttl, intent !== undefined ? { handover: true } : {});
    } catch {
      r = { prepared: [], cancel: () => undefined };
    }
    if (prep.cancelled !== undefined || this.preps.get(svc) !== prep) {
      r.cancel();
      return;
    }
    prep.cancel = r.cancel;
    if (r.prepared.length === 0) {
      clearTimeout(prep.timer);
      this.preps.delete(svc);
      return;
    }
    if (intent !== undefined) this.d.log.info({ event: EVENT.servicePrepare, svc, intent, phase: 'begin', prepared: r.prepared }, `${svc}: relocation here: start prepared (${r.prepared.join('; ')})`);
    else this.d.log.info({ event: EVENT.servicePrepare, svc, peer, phase: 'begin', prepared: r.prepared }, `${svc}: ${peer} is suspect: start prepared (${r.prepared.join('; ')})`);
  }

  private cancel(svc: string, why: string): void {
    const p = this.preps.get(svc);
    if (!p) return;
    this.preps.delete(svc);
    clearTimeout(p.timer);
    p.cancelled = why;
    p.cancel();
    this.d.log.info({ event: EVENT.servicePrepare, svc, ...(p.peer !== undefined ? { peer: p.peer } : { intent: p.intent }), phase: 'cancel', why }, `${svc}: start preparation undone (${why})`);
  }

  /** undo everything (daemon stop) */
  stop(): void {
    for (const svc of [...this.preps.keys()]) this.cancel(svc, 'the daemon stops');
  }
}
