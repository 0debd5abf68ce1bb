// The service layer: the one door through which the CLI (and later the daemon) acts on a
// service. It loads the configuration, builds the resources, serializes actions with the
// action lock and logs every action to the service's log.
import type { ServiceConfig } from '../config/model.js';
import { loadServiceConfig, locateService } from '../config/load.js';
import { serviceLogger, type Logger } from '../log.js';
import { EVENT } from '../events.js';
import { serviceVarDir, type FerryPaths } from '../paths.js';
import { UsageError } from '../vocab/errors.js';
import { buildResources, type ServiceResource } from './resources.js';
import type { DriverSpec, PrepareOptions, PriorOwner, ResourceDevices, ResourceKind } from '../resources/types.js';
import { selectResources } from './ordering.js';
import { servingAtOf, startResources, stopResources, type ActionHooks, type ActionReport, type ReleaseGate, type ReleaseNotice } from './actions.js';
import { scratchDirOf, triggerSetFrom, type TriggerSet } from './triggers.js';
import { defaultTriggerTimeoutMs } from '../config/trigger-keywords.js';
import { acquireActionLock } from './lock.js';
import { markStarted, prepareStart } from './data.js';
import { isFrozen, markShutdown, readExpect, setFrozen, takeBackShutdown, writeExpect, type Expect } from './state.js';
import { mergeStatuses, resourceStatuses, summarize, type ServiceStatus } from './status.js';
import { drivers } from '../resources/registry.js';

export interface ServiceDevices extends ResourceDevices {
  rid: string;
  kind: ResourceKind;
  type: string;
  disabled: boolean;
}

export interface ActionOptions {
  rids?: string[];
  subsets?: string[];
  /** how long to wait for another action on the same service, ms */
  waitLockMs?: number;
  /**
   * The operator asked for it (CLI): a stop is remembered, so the daemon neither restarts
   * monitored resources nor fails the service over. The daemon's own stops pass false.
   */
  operator?: boolean;
  /**
   * start/restart: take the service's shared storage over even when another node holds it
   * (SCSI PR preempt). The daemon's orchestrated starts pass it (it has decided and fenced);
   * the CLI only with `--force`.
   */
  force?: boolean;
  /** start: how the previous owner is known to be out of the way (the daemon's takeover after a confirmed fence, a relocation) */
  prior?: PriorOwner;
  /** start: a relocation's handover, the owner still stopping: each resource waits for its group's release (src/service/actions.ts) */
  released?: ReleaseGate;
  /** stop: a relocation's handover: told each group as soon as it is stopped */
  releaseNotice?: ReleaseNotice;
  /** an operator stop made by the daemon under multiple_active = stop_only: the nodes it was up on (recorded with the stop) */
  multipleActive?: string[];
}

export { listServices } from './list.js';

export class Service {
  readonly varDir: string;
  readonly log: Logger;
  readonly resources: ServiceResource[];
  /** the [DEFAULT] pre_/post_ start/stop commands */
  readonly triggers: TriggerSet;

  private constructor(
    readonly paths: FerryPaths,
    readonly config: ServiceConfig<DriverSpec>,
  ) {
    this.varDir = serviceVarDir(paths, config.svcname);
    this.log = serviceLogger(paths, config.svcname, config.nodename);
    this.resources = buildResources(config, paths, this.log);
    this.triggers = triggerSetFrom(config.defaults, defaultTriggerTimeoutMs);
  }

  /** requirements and triggers of an action; the service's own only for a whole-service one */
  private hooks(opts: ActionOptions): ActionHooks {
    const whole = (opts.rids ?? []).length === 0 && (opts.subsets ?? []).length === 0;
    return {
      triggers: { svcname: this.svcname, nodename: this.config.nodename, scratchDir: scratchDirOf(this.varDir), log: this.log },
      ...(whole ? { service: this.triggers } : {}),
      all: this.resources,
    };
  }

  /** Load and validate; throws UserError (missing service, from the reader) or ConfigInvalid (file:line errors). */
  static open(paths: FerryPaths, arg: string, nodename: string): Service {
    const { svcname, file } = locateService(paths, arg);
    return new Service(paths, loadServiceConfig(file, svcname, nodename, drivers));
  }

  get svcname(): string {
    return this.config.svcname;
  }

  /** the operator's last start/stop here, if any */
  get expect(): Expect | undefined {
    return readExpect(this.varDir);
  }

  get frozen(): boolean {
    return isFrozen(this.varDir);
  }

  private select(opts: ActionOptions): ServiceResource[] {
    const rids = opts.rids ?? [];
    const subsets = opts.subsets ?? [];
    for (const rid of rids) {
      if (!this.resources.some((r) => r.rid === rid)) throw new UsageError(`service ${this.svcname}: no resource ${rid}`);
    }
    for (const s of subsets) {
      if (!this.resources.some((r) => r.subset === s)) throw new UsageError(`service ${this.svcname}: no subset ${s}`);
    }
    return selectResources(this.resources, rids, subsets);
  }

  private async locked<T>(action: string, opts: ActionOptions, fn: () => Promise<T>): Promise<T> {
    const lock = await acquireActionLock(this.varDir, this.svcname, action, opts.waitLockMs ?? 60_000, this.log);
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }

  async start(opts: ActionOptions = {}): Promise<ActionReport> {
    const selected = this.select(opts);
    return this.locked('start', opts, async () => {
      if (opts.operator !== false) await writeExpect(this.varDir, 'up');
      // a received copy (btrfs snapshot) becomes the live data before anything uses it
      const unprepared = await prepareStart(this);
      if (unprepared) return { action: 'start', ok: false, outcomes: [], failed: unprepared, rolledBack: [], rollbackFailures: [] };
      const report = await startResources(selected, this.config.subsets, { rollback: this.config.defaults.boolean('rollback'), log: this.log, force: opts.force, hooks: this.hooks(opts), ...(opts.prior ? { prior: opts.prior } : {}), ...(opts.released ? { released: opts.released } : {}) });
      // the service runs from this node's data: its synced copies are the truth from now on
      if (report.ok) markStarted(this, servingAtOf(report));
      return report;
    });
  }

  /**
   * Prepare a start that may come soon (read-only, no action lock: it must not delay the start
   * itself): each enabled resource's prepareStart, alive at most ttlMs. Returns what was
   * prepared and one cancel for all of it. Never throws: a resource that cannot prepare is
   * simply not prepared (its start does the work as usual).
   */
  async prepareStart(ttlMs: number, opts: PrepareOptions = {}): Promise<{ prepared: string[]; cancel: () => void }> {
    const got = await Promise.all(
      this.resources.filter((r) => !r.disabled && r.impl.prepareStart).map((r) => r.impl.prepareStart!(ttlMs, opts).then((p) => (p ? { rid: r.rid, p } : undefined), () => undefined)),
    );
    const done = got.filter((g) => g !== undefined);
    return { prepared: done.map((g) => `${g.rid}: ${g.p.what}`), cancel: () => done.forEach((g) => g.p.cancel()) };
  }

  async stop(opts: ActionOptions = {}): Promise<ActionReport> {
    const selected = this.select(opts);
    return this.locked('stop', opts, async () => {
      if (opts.operator) await writeExpect(this.varDir, 'down', opts.multipleActive);
      return stopResources(selected, this.config.subsets, { log: this.log, hooks: this.hooks(opts), ...(opts.releaseNotice ? { released: opts.releaseNotice } : {}) });
    });
  }

  /**
   * For a host shutdown: stop every selected resource, going on past failures, and record
   * the stop so neither the monitor nor the orchestrator brings the service back meanwhile
   * (the next boot takes that record back).
   */
  async shutdown(opts: ActionOptions = {}): Promise<ActionReport> {
    const selected = this.select(opts);
    return this.locked('shutdown', opts, async () => {
      await markShutdown(this.varDir);
      this.log.info({ event: 'shutdown' }, 'shutdown');
      return stopResources(selected, this.config.subsets, { log: this.log, bestEffort: true, hooks: this.hooks(opts) });
    });
  }

  /**
   * At node boot, before the daemon starts (OpenSVC `boot`): clean up what a crash or the last
   * shutdown may have left (reservations, VG activation and tags, mounts, addresses) by
   * stopping every resource, best effort, without recording an operator stop; a stop recorded
   * by `shutdown` is taken back. The daemon then starts the service where its orchestrate says.
   */
  async boot(opts: ActionOptions = {}): Promise<{ report: ActionReport; tookBackShutdown: boolean }> {
    const selected = this.select(opts);
    return this.locked('boot', opts, async () => {
      const report = await stopResources(selected, this.config.subsets, { log: this.log, bestEffort: true });
      const tookBackShutdown = takeBackShutdown(this.varDir);
      this.log.info({ event: 'boot', ok: report.ok, tookBackShutdown }, 'boot');
      return { report, tookBackShutdown };
    });
  }

  /** stop then start, under one lock */
  async restart(opts: ActionOptions = {}): Promise<ActionReport[]> {
    const selected = this.select(opts);
    return this.locked('restart', opts, async () => {
      if (opts.operator !== false) await writeExpect(this.varDir, 'up');
      const stopped = await stopResources(selected, this.config.subsets, { log: this.log, hooks: this.hooks(opts) });
      if (!stopped.ok) return [stopped];
      const unprepared = await prepareStart(this);
      if (unprepared) return [stopped, { action: 'start', ok: false, outcomes: [], failed: unprepared, rolledBack: [], rollbackFailures: [] }];
      const started = await startResources(selected, this.config.subsets, {
        rollback: this.config.defaults.boolean('rollback'),
        log: this.log,
        force: opts.force,
        hooks: this.hooks(opts),
      });
      if (started.ok) markStarted(this, servingAtOf(started));
      return [stopped, started];
    });
  }

  async freeze(): Promise<void> {
    await setFrozen(this.varDir, true);
    this.log.info({ event: EVENT.frozen, action: 'freeze' }, 'frozen');
  }

  async thaw(): Promise<void> {
    await setFrozen(this.varDir, false);
    this.log.info({ event: EVENT.thawed, action: 'thaw' }, 'thawed');
  }

  /** The block devices of every resource that has some (`print devs`, `prstatus`); disabled ones included. */
  async devices(): Promise<ServiceDevices[]> {
    const out: ServiceDevices[] = [];
    for (const r of this.resources) {
      if (!r.impl.devices) continue;
      out.push({ rid: r.rid, kind: r.kind, type: r.type, disabled: r.disabled, ...(await r.impl.devices()) });
    }
    return out;
  }

  /**
   * Every resource's status; with `keep` (a previous full status), only the monitored ones
   * are checked and the others' reports are taken from it (the daemon's monitor reads).
   */
  async status(hb: ServiceStatus['hb'] = [], keep?: ServiceStatus): Promise<ServiceStatus> {
    const kept = keep ? new Map(keep.resources.map((r) => [r.rid, r])) : undefined;
    const fresh = kept ? this.resources.filter((r) => (r.monitored && !r.disabled) || !kept.has(r.rid)) : this.resources;
    const checked = await resourceStatuses(fresh);
    const resources = kept ? mergeStatuses(checked, this.resources.map((r) => r.rid), kept) : checked;
    return summarize(
      {
        svcname: this.svcname,
        nodename: this.config.nodename,
        service_type: this.config.defaults.mustString('service_type'),
        orchestrate: this.config.defaults.mustString('orchestrate'),
        frozen: this.frozen,
      },
      resources,
      hb,
    );
  }
}
