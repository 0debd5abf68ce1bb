// One service's instance on this node, as the daemon drives it: whether an action runs on it
// (busy, and the generation of actions started, so a status read spanning one is dropped),
// the failures and retry schedule of its actions, the orchestrator's last reason, the boot
// phase of `orchestrate = start`, and resource monitoring (restart, then monitor_action, held
// while no peer could take the service: docs/monitoring.md). The daemon keeps one per service
// and talks to the service only through the service layer.
import type { MonitorState, ServiceState } from '../cluster/node-state.js';
import type { Takeover } from '../cluster/takeover.js';
import { EVENT } from '../events.js';
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import type { ActionReport } from '../service/actions.js';
import { Service } from '../service/service.js';
import type { ServiceStatus } from '../service/status.js';
import { RestartCounters, gateMonitorAction, monitorStep } from './monitor.js';
import { selfFence } from './self-fence.js';

const FAILED_BACKOFF_MS = [5_000, 10_000, 20_000, 40_000, 60_000];
const SWITCHED_HOLD_MS = 60_000;

export type ActionKind = 'start' | 'stop' | 'switch' | 'restart-rid';

export interface InstanceDeps {
  paths: FerryPaths;
  nodename: string;
  log: Logger;
  /** the service's state here, as the daemon publishes it */
  state: () => ServiceState | undefined;
  /** the status refresh that closes an action (src/daemon/daemon.ts refreshOne, afterAction) */
  refreshAfterAction: () => Promise<unknown>;
  publish: (urgent?: boolean) => void;
  /** re-evaluate placements soon */
  kick: () => void;
  /** a start begins here: a push into this node must not go on under it */
  starting: () => void;
  /** who could take the service over from this node now (src/cluster/takeover.ts) */
  takeover: (local: ServiceState) => Takeover;
}

/** The monitor action taken (why undefined) or held for the failed resource. */
interface MonitorHold {
  key: string;
  why?: string;
  error?: string;
}

export class InstanceMonitor {
  /** an action of ours runs on the service */
  private running = false;
  /** actions started: a status read that spans one is stale */
  private gen = 0;
  private retryAt: number | undefined;
  private failures = 0;
  /** the orchestrator's last reason (logged when it changes) */
  private lastWhy: string | undefined;
  private held: MonitorHold | undefined;
  private booted = false;
  /** restarts of its monitored resources; reset when the daemon (re)starts the service */
  readonly counters = new RestartCounters();

  constructor(
    readonly name: string,
    private readonly d: InstanceDeps,
  ) {}

  get busy(): boolean {
    return this.running;
  }

  /** The action generation now: compare it after a status read (a changed one superseded the read). */
  get actionGen(): number {
    return this.gen;
  }

  /** The boot phase of `orchestrate = start` ended (the cluster formed once). */
  get bootDone(): boolean {
    return this.booted;
  }

  endBoot(): void {
    this.booted = true;
  }

  /** Is a failed action's (or a switch's) hold still on? */
  retryPending(now = Date.now()): boolean {
    return now < (this.retryAt ?? 0);
  }

  /** The orchestrator's reason changed since last noted? (then it is logged) */
  noteWhy(why: string): boolean {
    if (this.lastWhy === why) return false;
    this.lastWhy = why;
    return true;
  }

  /** The monitor state a status read leaves: a failed start or a switch ends with its hold, a failed stop when the service is down. */
  monitorAfterRead(prev: MonitorState, avail: string, now = Date.now()): MonitorState {
    let monitor = prev;
    if ((monitor === 'start failed' || monitor === 'switched') && !this.retryPending(now)) monitor = 'idle';
    if (monitor === 'stop failed' && avail === 'down') monitor = 'idle';
    return monitor;
  }

  /**
   * `svcmgr clear`: forget a failed start/stop, a switch hold, the monitor's restart counts,
   * a held monitor_action and the last reason.
   */
  clear(): void {
    this.retryAt = undefined;
    this.failures = 0;
    this.counters.reset(this.name);
    this.held = undefined;
    this.lastWhy = undefined;
  }

  /** The daemon started the service: its monitored resources get their restarts again. */
  started(): void {
    this.counters.reset(this.name);
  }

  /** Run one action on the service with its state published as it goes. */
  async run(kind: ActionKind, fn: (s: Service) => Promise<ActionReport>, why?: string): Promise<ActionReport | undefined> {
    const { name } = this;
    const state = this.d.state();
    if (!state || this.running) return undefined;
    this.running = true;
    // a push into this node must not go on under a service starting here
    if (kind === 'start' || kind === 'restart-rid') this.d.starting();
    this.gen++;
    state.monitor = kind === 'start' || kind === 'restart-rid' ? 'starting' : 'stopping';
    this.d.log.info({ event: EVENT.daemonActionBegin, svc: name, kind, why }, `${name} ${kind} begins${why ? ` (${why})` : ''}`);
    this.d.publish(true);
    const t0 = Date.now();
    let report: ActionReport | undefined;
    let error: string | undefined;
    try {
      report = await fn(Service.open(this.d.paths, name, this.d.nodename));
      if (!report.ok) error = `${report.action} failed at ${report.failed?.rid}: ${report.failed?.error}`;
    } catch (e) {
      error = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
    const ms = Date.now() - t0;
    if (error) {
      const n = ++this.failures;
      this.retryAt = Date.now() + FAILED_BACKOFF_MS[Math.min(n, FAILED_BACKOFF_MS.length) - 1]!;
      state.monitor = kind === 'stop' || kind === 'switch' ? 'stop failed' : 'start failed';
      state.error = error;
      this.d.log.error({ event: EVENT.daemonActionEnd, svc: name, kind, why, ok: false, ms, err: error }, `${name} ${kind} failed: ${error}`);
    } else {
      this.failures = 0;
      state.monitor = kind === 'switch' ? 'switched' : 'idle';
      if (kind === 'switch') this.retryAt = Date.now() + SWITCHED_HOLD_MS;
      if (kind === 'switch' && why) state.error = `switched away: ${why}`;
      else delete state.error;
      this.d.log.info({ event: EVENT.daemonActionEnd, svc: name, kind, why, ok: true, ms }, `${name} ${kind} done in ${ms} ms`);
    }
    await this.d.refreshAfterAction();
    const after = this.d.state();
    if (after) {
      after.monitor = state.monitor;
      if (state.error) after.error = state.error;
    }
    this.running = false;
    this.d.publish(true);
    this.d.kick();
    return report;
  }

  // ---------------------------------------------------------------- monitoring

  /** After a status read of a service this node runs, idle, not frozen, not stopped by the operator. */
  checkMonitored(svc: Service, st: ServiceStatus): void {
    const { name } = this;
    const log = this.d.log;
    const step = monitorStep(
      st,
      (rid) => {
        const r = svc.resources.find((x) => x.rid === rid);
        return { restart: r?.restart ?? 0, action: r?.monitorAction ?? 'freezestop' };
      },
      this.counters,
    );
    if (step?.kind !== 'action') this.endMonitorHold('the resource is no longer failed');
    if (!step) return;
    if (step.kind === 'restart') {
      log.warn({ event: 'monitor_restart', svc: name, rid: step.rid, attempt: step.attempt, of: step.of }, `${name} ${step.rid} failed: restart ${step.attempt}/${step.of}`);
      void this.run('restart-rid', (s) => s.start({ rids: [step.rid] }));
      return;
    }
    const reason = `${step.rid} failed, restarts exhausted`;
    const key = `${step.rid} ${step.action}`;
    const prev = this.held;
    // the action was run (or, for none, noted) for this failure already
    if (prev?.key === key && prev.why === undefined) return;
    if (prev?.key !== key) log.error({ event: 'monitor_exhausted', svc: name, rid: step.rid, action: step.action }, `${name} ${reason}: ${step.action}`);
    const local = this.d.state();
    const gate = gateMonitorAction(step.action, local ? this.d.takeover(local) : { ok: false, why: 'no state' });
    if (!gate.run) {
      const error = `${reason}: monitor_action ${step.action} held, the service stays degraded here: ${gate.why}`;
      if (prev?.key !== key || prev.why !== gate.why) log.warn({ event: 'monitor_action_held', svc: name, rid: step.rid, action: step.action, why: gate.why }, `${name}: not running monitor_action ${step.action}: ${gate.why}`);
      this.held = { key, why: gate.why, error };
      if (local && local.error !== error) {
        local.error = error;
        this.d.publish();
      }
      return;
    }
    if (prev?.why !== undefined) {
      if (prev.key === key) log.info({ event: 'monitor_action_released', svc: name, rid: step.rid, action: step.action, candidates: gate.candidates }, `${name}: monitor_action ${step.action} no longer held (${gate.candidates.join(', ')} can take it over)`);
      if (local && local.error === prev.error) delete local.error;
    }
    this.held = { key };
    log.info({ event: 'monitor_action', svc: name, rid: step.rid, action: step.action, candidates: gate.candidates }, `${name}: monitor_action ${step.action}`);
    switch (step.action) {
      case 'freezestop':
        void this.run('stop', async (s) => {
          await s.freeze();
          return s.stop();
        }, reason);
        break;
      case 'switch':
        void this.run('switch', (s) => s.stop(), reason);
        break;
      case 'reboot':
      case 'crash':
        selfFence(step.action, `${name}: ${reason} (monitor_action ${step.action})`, log.child({ svc: name }));
        break;
      default:
        break;
    }
  }

  /** A new failure episode starts: the resource is back or restarted, or the service left this node. */
  endMonitorHold(why: string): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    if (held.why === undefined) return;
    this.d.log.info({ event: 'monitor_action_dropped', svc: this.name, key: held.key, why }, `${this.name}: held monitor_action dropped: ${why}`);
    const local = this.d.state();
    if (local && local.error === held.error) {
      delete local.error;
      this.d.publish();
    }
  }
}
