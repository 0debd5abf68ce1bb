// The daemon's side of `nodemgr drain`: freeze this node, ask a relocation of each failover
// service it runs to the target src/cluster/drain.ts picked, then follow each move at every
// evaluation until all settled or the drain's timeout (docs/maintenance.md).
import crypto from 'node:crypto';
import type { Logger } from '../log.js';
import { EVENT } from '../events.js';
import { drainPlan, moveOutcome, type DrainReport } from '../cluster/drain.js';
import type { FenceInfo, Intent, ServiceState } from '../cluster/node-state.js';
import type { PeerInfo } from '../cluster/takeover.js';
import type { Response } from './control-protocol.js';

export const DRAIN_TIMEOUT_DEFAULT_S = 300;

export interface DrainDeps {
  self: string;
  log: Logger;
  services(): Record<string, ServiceState>;
  peers(): Record<string, PeerInfo>;
  fence(): Record<string, FenceInfo>;
  intents(): Record<string, Intent>;
  /** freeze this node (nothing is started here any more) */
  freeze(): void;
  /** the daemon's relocate request */
  relocate(svc: string, to: string): Response;
}

export class Drainer {
  private current: DrainReport | undefined;
  private readonly moves = new Map<string, Pick<Intent, 'id' | 'at'>>();

  constructor(private readonly deps: DrainDeps) {}

  report(): DrainReport | undefined {
    return this.current && structuredClone(this.current);
  }

  /** Start a drain (a drain still running is answered as it stands, not restarted). */
  begin(timeoutS = DRAIN_TIMEOUT_DEFAULT_S): Response {
    if (this.current && !this.current.done) return { ok: true, drain: this.report()! };
    const { self, log } = this.deps;
    this.deps.freeze();
    const started = Date.now();
    const r: DrainReport = { id: crypto.randomUUID(), node: self, started, timeoutMs: timeoutS * 1000, done: false, services: [] };
    this.current = r;
    this.moves.clear();
    const plan = drainPlan({ self, services: this.deps.services(), peers: this.deps.peers(), fence: this.deps.fence() });
    log.info({ event: EVENT.drainBegin, id: r.id, services: plan.map((p) => p.svc), timeoutMs: r.timeoutMs }, `drain of ${self} begins: ${plan.length} failover service${plan.length === 1 ? '' : 's'}`);
    for (const step of plan) {
      if ('why' in step) {
        r.services.push({ svc: step.svc, state: 'unmovable', why: step.why });
        this.logService(step.svc, 'unmovable', undefined, step.why);
        continue;
      }
      const a = this.deps.relocate(step.svc, step.to);
      if (!a.ok || !a.intent) {
        const why = a.ok ? 'no relocation intent' : a.error;
        r.services.push({ svc: step.svc, state: 'failed', to: step.to, why });
        this.logService(step.svc, 'failed', step.to, why);
        continue;
      }
      this.moves.set(step.svc, { id: a.intent.id, at: a.intent.at });
      r.services.push({ svc: step.svc, state: 'moving', to: step.to });
    }
    this.step();
    return { ok: true, drain: this.report()! };
  }

  /** Follow the moves (called at each evaluation of the daemon). */
  step(): void {
    const r = this.current;
    if (!r || r.done) return;
    const now = Date.now();
    const services = this.deps.services();
    const peers = this.deps.peers();
    const intents = this.deps.intents();
    for (const s of r.services) {
      const intent = this.moves.get(s.svc);
      if (s.state !== 'moving' || !intent || !s.to) continue;
      const o = moveOutcome({ self: this.deps.self, svc: s.svc, to: s.to, intent, local: services[s.svc], peers, intents, now, deadline: r.started + r.timeoutMs });
      if (o.state === 'moving') continue;
      s.state = o.state;
      if (o.state === 'failed') s.why = o.why;
      else s.ms = now - r.started;
      this.logService(s.svc, s.state, s.to, s.why, s.ms);
    }
    if (r.services.every((s) => s.state !== 'moving')) {
      r.done = true;
      r.ended = now;
      const count = (st: string) => r.services.filter((s) => s.state === st).length;
      const moved = count('moved');
      const level = moved === r.services.length ? 'info' : 'warn';
      this.deps.log[level]({ event: EVENT.drainEnd, id: r.id, moved, failed: count('failed'), unmovable: count('unmovable'), ms: now - r.started }, `drain of ${r.node} ended: ${moved} of ${r.services.length} moved`);
    }
  }

  private logService(svc: string, state: string, to: string | undefined, why: string | undefined, ms?: number): void {
    const level = state === 'moved' ? 'info' : 'warn';
    const text = state === 'moved' ? `moved to ${to}` : state === 'unmovable' ? `not movable: ${why}` : `failed: ${why}`;
    this.deps.log[level]({ event: EVENT.drainService, id: this.current?.id, svc, state, ...(to ? { to } : {}), ...(why ? { why } : {}), ...(ms !== undefined ? { ms } : {}) }, `drain: ${svc} ${text}`);
  }
}
