// disk resources: raw shared disks (block devices used as they are: a database's raw
// devices, a disk some other resource mounts by path) protected by a SCSI-3 persistent
// reservation with this node's key (pr-disks.ts). Start reserves every disk (preempting
// another holder only when forced), stop releases and unregisters, status is up only when
// this node holds every disk. Without scsireserv the resource has nothing to do.
import fs from 'node:fs';
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import { acquire, inspect, relinquish } from './pr-disks.js';
import { nodePrKey, storedPrKey } from './scsi-pr-key.js';
import type { Resource, ResourceContext, ResourceDevices, StartOptions, StatusReport } from './types.js';

class DiskResource implements Resource {
  readonly kind = 'disk' as const;
  readonly rid: string;
  private readonly disks: string[];
  private readonly scsireserv: boolean;
  private readonly preemptAbort: boolean;
  private readonly paths: FerryPaths;
  private readonly log: Logger;

  constructor(ctx: ResourceContext) {
    this.rid = ctx.rid;
    this.disks = [...new Set(ctx.kw.list('disks'))];
    this.scsireserv = ctx.kw.boolean('scsireserv');
    this.preemptAbort = !ctx.kw.boolean('no_preempt_abort');
    this.paths = ctx.paths;
    this.log = ctx.log;
  }

  private get owner(): string {
    return this.rid;
  }

  private checkDevices(): void {
    for (const d of this.disks) {
      let st: fs.Stats;
      try {
        st = fs.statSync(d);
      } catch {
        throw new Error(`disk ${d} not found`);
      }
      if (!st.isBlockDevice()) throw new Error(`${d} is not a block device`);
    }
  }

  async start(opts: StartOptions = {}): Promise<void> {
    if (this.disks.length === 0) throw new Error(`no disk given (keyword disks)`);
    this.checkDevices();
    if (!this.scsireserv) {
      this.log.debug('scsireserv = false: nothing to do');
      return;
    }
    await acquire(this.disks, nodePrKey(this.paths), { force: opts.force ?? false, preemptAbort: this.preemptAbort, owner: this.owner }, this.log);
  }

  async stop(): Promise<void> {
    if (!this.scsireserv) return;
    const key = storedPrKey(this.paths);
    if (!key) {
      this.log.info('this node has no reservation key yet: nothing to release');
      return;
    }
    const present = this.disks.filter((d) => fs.existsSync(d));
    for (const d of this.disks.filter((x) => !present.includes(x))) this.log.warn(`disk ${d} not found: nothing to release on it`);
    await relinquish(present, key, this.log);
  }

  async devices(): Promise<ResourceDevices> {
    const messages = this.disks.filter((d) => !fs.existsSync(d)).map((d) => `disk ${d} not found`);
    return { sub: [...this.disks], exposed: [], reserved: this.scsireserv ? [...this.disks] : [], messages };
  }

  async status(): Promise<StatusReport> {
    const label = this.disks.join(' ');
    try {
      this.checkDevices();
    } catch (e) {
      return { status: 'warn', label, messages: [(e as Error).message] };
    }
    if (!this.scsireserv) return { status: 'n/a', label, messages: ['scsireserv = false: no reservation to hold'] };
    let key: string | undefined;
    try {
      key = storedPrKey(this.paths);
    } catch (e) {
      return { status: 'warn', label, messages: [(e as Error).message] };
    }
    const pr = await inspect(this.disks, key, this.log);
    if (pr.all) return { status: 'up', label, messages: [] };
    if (pr.none) return { status: 'down', label, messages: pr.messages };
    return { status: 'warn', label, messages: pr.messages };
  }
}

/** A resource of this driver (its schema, the keyword table: disk-driver.ts). */
export function createResource(ctx: ResourceContext): Resource {
  return new DiskResource(ctx);
}
