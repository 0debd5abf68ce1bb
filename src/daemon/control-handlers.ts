// The answers to the control socket's requests (src/daemon/control-protocol.ts): the view,
// relocations, `svcmgr clear`, node freeze and thaw, drain, shutdown, events. The daemon
// wires them to its state; the socket itself is src/daemon/control-server.ts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { ClusterConfig } from '../cluster/config.js';
import { relocateRefusal } from '../cluster/dependencies.js';
import type { Intent, ServiceState } from '../cluster/node-state.js';
import type { PeerInfo } from '../cluster/orchestrator.js';
import { EVENT } from '../events.js';
import type { Logger } from '../log.js';
import { answerEvents } from './control-events.js';
import type { Request, Response } from './control-protocol.js';
import type { RawAnswer, StreamAnswer } from './control-server.js';
import type { ViewTextOptions } from './view-text.js';
import type { Drainer } from './drain.js';
import type { EventRing } from './event-ring.js';
import type { InstanceMonitor } from './instance-monitor.js';

export interface ControlContext {
  nodename: string;
  log: Logger;
  cluster: () => ClusterConfig;
  /** this node's services and their state */
  local: ReadonlyMap<string, ServiceState>;
  /** the placement intents (mutated in place: gossiped with the node state) */
  intents: () => Record<string, Intent>;
  instance: (name: string) => InstanceMonitor;
  peerInfo: () => Record<string, PeerInfo>;
  nodeFrozen: () => boolean;
  /** <var>/node.frozen */
  nodeFrozenFile: string;
  /** the `view` answer's text (src/daemon/view-text.ts), with the request's options */
  viewAnswer: (o: ViewTextOptions) => string;
  drainer: () => Drainer;
  events: EventRing;
  /** the daemon's graceful stop */
  shutdown: () => void;
  publish: (urgent?: boolean) => void;
  kick: () => void;
  /** `svcmgr print status` answered from the daemon's last full read */
  status: (svc: string) => Promise<Response>;
}

export class ControlHandlers {
  constructor(private readonly c: ControlContext) {}

  async handle(req: Request): Promise<Response | StreamAnswer | RawAnswer> {
    switch (req.op) {
      case 'ping':
        return { ok: true, nodename: this.c.nodename };
      case 'view':
        return { raw: this.c.viewAnswer({ lean: req.lean === true, spans: req.spans === true }) };
      case 'relocate':
        return this.relocate(req.svc, req.to);
      case 'clear':
        return this.clear(req.svc);
      case 'status':
        return this.c.status(req.svc);
      case 'freeze-node':
      case 'thaw-node':
        this.freezeNode(req.op === 'freeze-node');
        return { ok: true };
      case 'drain':
        return this.c.drainer().begin(req.timeout);
      case 'drain-status': {
        const drain = this.c.drainer().report();
        return { ok: true, ...(drain ? { drain } : {}) };
      }
      case 'shutdown':
        setImmediate(() => this.c.shutdown());
        return { ok: true };
      case 'events':
        return answerEvents(this.c.events, req);
      default:
        return { ok: false, error: `unknown request ${(req as { op?: string }).op}` };
    }
  }

  freezeNode(frozen: boolean): void {
    if (frozen) fs.writeFileSync(this.c.nodeFrozenFile, `${new Date().toISOString()}\n`);
    else fs.rmSync(this.c.nodeFrozenFile, { force: true });
    this.c.publish(true);
  }

  /**
   * `svcmgr clear`: forget a failed start/stop, a switch hold, the monitor's restart counts
   * and a held monitor_action, so the orchestrator may try the service here again now
   * (instead of after the backoff). An action in progress is not interrupted.
   */
  clear(svc: string): Response {
    const local = this.c.local.get(svc);
    if (!local) return { ok: false, error: `service ${svc} does not exist on ${this.c.nodename}` };
    const inst = this.c.instance(svc);
    if (inst.busy) return { ok: false, error: `${svc} is ${local.monitor} here: wait for the action to end` };
    const was = local.monitor;
    const error = local.error;
    inst.clear();
    local.monitor = 'idle';
    delete local.error;
    this.c.log.info({ event: 'clear', svc, was, ...(error ? { error } : {}) }, `${svc}: cleared (was ${was})`);
    this.c.publish(true);
    this.c.kick();
    return { ok: true, cleared: { svc, was, ...(error ? { error } : {}) } };
  }

  relocate(svc: string, to: string): Response {
    const { nodename: self } = this.c;
    const local = this.c.local.get(svc);
    if (!local) return { ok: false, error: `service ${svc} does not exist on ${self}` };
    if (local.nodes.length && !local.nodes.includes(to)) return { ok: false, error: `${to} is not in the nodes of ${svc} (${local.nodes.join(' ')})` };
    if (to !== self) {
      const p = this.c.peerInfo()[to];
      if (!p) return { ok: false, error: `${to} is not a node of cluster ${this.c.cluster().name}` };
      if (p.state !== 'up') return { ok: false, error: `${to} is ${p.state}: its daemon must be running` };
      const s = p.payload?.services[svc];
      if (!s) return { ok: false, error: `${to} does not have service ${svc}` };
      if (p.payload?.frozen) return { ok: false, error: `${to} is frozen` };
      // a frozen instance is never started by the daemon: the move could only stop the service
      if (s.frozen) return { ok: false, error: `${svc} is frozen on ${to}` };
    } else {
      if (this.c.nodeFrozen()) return { ok: false, error: `${to} is frozen` };
      if (local.frozen) return { ok: false, error: `${svc} is frozen on ${to}` };
    }
    const deps = relocateRefusal(svc, { self, local: Object.fromEntries(this.c.local), peers: this.c.peerInfo() });
    if (deps) return { ok: false, error: deps };
    const intent: Intent = { id: crypto.randomUUID(), svc, target: to, by: self, at: Date.now(), done: false };
    this.c.intents()[svc] = intent;
    // an operator's request clears a failed state on the target
    if (to === self && local.monitor !== 'starting' && local.monitor !== 'stopping') local.monitor = 'idle';
    this.c.log.info({ event: EVENT.relocate, svc, to, id: intent.id }, `relocate ${svc} to ${to}`);
    this.c.publish(true);
    this.c.kick();
    return { ok: true, intent };
  }
}
