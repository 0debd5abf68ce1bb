// The daemon's status reads of its services: services parsed once (src/service/config-cache.ts),
// read in full or their monitored resources only when due (src/daemon/refresh-schedule.ts),
// the last full status kept for `svcmgr print status` (control op `status`).
import { defaultKeywords } from '../config/keywords.js';
import { findKeyword } from '../vocab/keywords.js';
import { serviceVarDir, type FerryPaths } from '../paths.js';
import { locateService } from '../config/load.js';
import { ServiceCache, fileSig } from '../service/config-cache.js';
import type { Service } from '../service/service.js';
import type { ServiceStatus } from '../service/status.js';
import { RefreshSchedule, changeSignature, type RefreshKind } from './refresh-schedule.js';
import { ChangeWatch } from './change-watch.js';

/** how old a service's last stat may be even when inotify reported no change (it can drop events) */
const RESTAT_MS = 10_000;

const keywordDefault = (name: string): number => Number(findKeyword(defaultKeywords, name)?.default);

/** per parsed service (a new file is a new Service): read once, not at every tick */
const perService = new WeakMap<Service, { statusMs: number; monitorMs: number; monitored: boolean }>();

function facts(svc: Service | undefined): { statusMs: number; monitorMs: number; monitored: boolean } {
  if (!svc) return { statusMs: keywordDefault('status_interval'), monitorMs: keywordDefault('monitor_interval'), monitored: false };
  let f = perService.get(svc);
  if (!f) {
    f = {
      statusMs: svc.config.defaults.duration('status_interval') ?? keywordDefault('status_interval'),
      monitorMs: svc.config.defaults.duration('monitor_interval') ?? keywordDefault('monitor_interval'),
      monitored: svc.resources.some((r) => r.monitored && !r.disabled),
    };
    perService.set(svc, f);
  }
  return f;
}

const intervals = (svc: Service | undefined) => facts(svc);

export class ServiceReads {
  readonly cache: ServiceCache;
  private readonly schedule: RefreshSchedule;
  private readonly last = new Map<string, { st: ServiceStatus; sig: string }>();
  /** each service's signature as last stat'ed; stat'ed again when `watch` says so */
  private readonly sigCache = new Map<string, { file: string | undefined; sig: string }>();
  private readonly watch: ChangeWatch;
  /** reads since the start, by kind (the idle bench reads them in the logs' absence) */
  readonly counts = { full: 0, monitor: 0 };

  constructor(
    private readonly paths: FerryPaths,
    nodename: string,
    tickMs: number,
  ) {
    this.cache = new ServiceCache(paths, nodename);
    this.schedule = new RefreshSchedule(tickMs);
    this.watch = new ChangeWatch(paths.services, (name) => serviceVarDir(paths, name), RESTAT_MS);
  }

  /**
   * The file's stat and the whole signature (file and var dir): two stat calls when something
   * may have changed, none when the watch saw nothing since the last ones. `fresh`: stat
   * anyway (an answer to a command: the event of the change it follows may still be queued).
   */
  private sigs(name: string, now = Date.now(), fresh = false): { file: string | undefined; sig: string } {
    const hit = this.sigCache.get(name);
    if (!this.watch.mustStat(name, now) && hit && !fresh) return hit;
    const file = fileSig(locateService(this.paths, name).file);
    const varDir = fileSig(serviceVarDir(this.paths, name));
    this.watch.varDirStat(name, varDir === undefined ? undefined : Number(varDir.split(':')[0]));
    const sigs = { file, sig: changeSignature(file, varDir) };
    this.sigCache.set(name, sigs);
    return sigs;
  }

  private sig(name: string): string {
    return this.sigs(name).sig;
  }

  private cached(name: string, file?: string): Service | undefined {
    try {
      return this.cache.open(name, ...(file === undefined ? [] : [file]));
    } catch {
      return undefined;
    }
  }

  /** The read due now for a service, if any; runsHere: monitor reads apply. */
  due(name: string, runsHere: boolean, now = Date.now()): RefreshKind | undefined {
    const { file, sig } = this.sigs(name, now);
    const svc = this.cached(name, file);
    const f = facts(svc);
    return this.schedule.due(name, now, { statusMs: f.statusMs, monitorMs: f.monitorMs, monitors: runsHere && f.monitored, sig });
  }

  /** Read the service; a monitor read without a previous full one is a full one. Throws as Service.open does. */
  async read(name: string, kind: RefreshKind): Promise<{ svc: Service; st: ServiceStatus }> {
    const sig = this.sig(name);
    const now = Date.now();
    const prev = this.last.get(name);
    const k: RefreshKind = kind === 'monitor' && prev ? 'monitor' : 'full';
    let svc: Service | undefined;
    try {
      svc = this.cache.open(name);
      const st = await svc.status([], k === 'monitor' ? prev!.st : undefined);
      this.counts[k]++;
      this.last.set(name, { st, sig: k === 'full' ? sig : prev!.sig });
      return { svc, st };
    } catch (e) {
      this.last.delete(name);
      throw e;
    } finally {
      this.schedule.done(name, k, now, sig, intervals(svc).monitorMs);
    }
  }

  /** The service as parsed, when its file is good (its file stat'ed: a changed file is parsed again). */
  service(name: string): Service | undefined {
    return this.cached(name);
  }

  /** The service as parsed at the last due() or read(), without a stat (the tick that just called due()). */
  parsed(name: string): Service | undefined {
    return this.cache.peek(name);
  }

  /** The last status read, and whether nothing changed since (file, var dir). */
  lastStatus(name: string): { st: ServiceStatus; current: boolean } | undefined {
    const l = this.last.get(name);
    return l ? { st: l.st, current: l.sig === this.sigs(name, Date.now(), true).sig } : undefined;
  }

  forget(name: string): void {
    this.watch.forget(name);
    this.sigCache.delete(name);
    this.schedule.forget(name);
    this.cache.forget(name);
    this.last.delete(name);
  }

  /** stop watching (the daemon's stop) */
  close(): void {
    this.watch.close();
  }
}
