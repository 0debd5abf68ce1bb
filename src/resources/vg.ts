// vg resources: an LVM volume group on shared disks, owned by one node at a time. Ownership
// is an LVM host tag, as in OpenSVC: the owner's tag is the only one on the VG (with
// `tags { hosttags = 1 }` and `activation { volume_list = ["@*"] }` in lvm.conf, only the
// tagged host can activate its LVs). Start takes the VG over from whichever node tagged it,
// then activates; stop deactivates then drops our tag.
// With scsireserv, the VG's disks (its PVs as this node's LVM sees them) also carry a SCSI-3
// persistent reservation (type 5) with this node's key (pr-disks.ts): taken before any LVM
// metadata write on start, given back after deactivation on stop.
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import type { VolumeGroup } from './lvm.js';
import { hostTag, lvActive, readVg, vgchange, vgDisks } from './lvm.js';
import { acquire, inspect, relinquish } from './pr-disks.js';
import { nodePrKey, storedPrKey } from './scsi-pr-key.js';
import type { Resource, ResourceContext, ResourceDevices, StartOptions, StatusReport } from './types.js';

function inactiveLvs(vg: VolumeGroup): string[] {
  return vg.lvs.filter((lv) => !lvActive(lv)).map((lv) => lv.name);
}

class VgResource implements Resource {
  readonly kind = 'disk' as const;
  readonly rid: string;
  private readonly vgname: string;
  private readonly tag: string;
  private readonly scsireserv: boolean;
  private readonly preemptAbort: boolean;
  private readonly paths: FerryPaths;
  private readonly log: Logger;

  constructor(ctx: ResourceContext) {
    this.rid = ctx.rid;
    this.vgname = ctx.kw.string('vgname') ?? '';
    this.tag = hostTag(ctx.nodename);
    this.scsireserv = ctx.kw.boolean('scsireserv');
    this.preemptAbort = !ctx.kw.boolean('no_preempt_abort');
    this.paths = ctx.paths;
    this.log = ctx.log;
  }

  async start(opts: StartOptions = {}): Promise<void> {
    if (this.scsireserv) {
      const disks = await vgDisks(this.vgname, this.log);
      await acquire(disks, nodePrKey(this.paths), { force: opts.force ?? false, preemptAbort: this.preemptAbort, owner: `vg ${this.vgname}` }, this.log);
    }
    const vg = await readVg(this.vgname, this.log);
    if (!vg) throw new Error(`volume group ${this.vgname} not found`);
    const foreign = vg.tags.filter((t) => t !== this.tag);
    if (foreign.length === 0 && vg.tags.includes(this.tag) && inactiveLvs(vg).length === 0) {
      this.log.debug(`${this.vgname} already up`);
      return;
    }
    if (foreign.length > 0) {
      await vgchange(foreign.flatMap((t) => ['--deltag', t]), this.vgname, this.log);
      this.log.info(`removed tags ${foreign.join(', ')} from ${this.vgname}`);
    }
    if (!vg.tags.includes(this.tag)) {
      await vgchange(['--addtag', this.tag], this.vgname, this.log);
      this.log.info(`tagged ${this.vgname} with ${this.tag}`);
    }
    await vgchange(['-ay'], this.vgname, this.log);
    this.log.info(`activated ${this.vgname}`);
  }

  async stop(): Promise<void> {
    const vg = await readVg(this.vgname, this.log);
    if (!vg) {
      this.log.info(`volume group ${this.vgname} not found: nothing to stop`);
      return;
    }
    // our VG: deactivate even LVs whose state LVM cannot read; not ours: only what is active here
    if (vg.tags.includes(this.tag) || vg.lvs.some(lvActive)) {
      await vgchange(['-an'], this.vgname, this.log);
      this.log.info(`deactivated ${this.vgname}`);
    }
    if (vg.tags.includes(this.tag)) {
      await vgchange(['--deltag', this.tag], this.vgname, this.log);
      this.log.info(`removed tag ${this.tag} from ${this.vgname}`);
    }
    if (this.scsireserv) {
      const key = storedPrKey(this.paths);
      if (key) await relinquish(await vgDisks(this.vgname, this.log), key, this.log);
    }
  }

  async status(): Promise<StatusReport> {
    const lvm = await this.lvmStatus();
    if (!this.scsireserv || lvm.status === 'undef') return lvm;
    let disks: string[];
    try {
      disks = await vgDisks(this.vgname, this.log);
    } catch (e) {
      if (lvm.status === 'down') return lvm; // VG not visible here: plainly down
      return { ...lvm, status: 'warn', messages: [...lvm.messages, (e as Error).message] };
    }
    let key: string | undefined;
    try {
      key = storedPrKey(this.paths);
    } catch (e) {
      return { ...lvm, status: 'warn', messages: [...lvm.messages, (e as Error).message] };
    }
    const pr = await inspect(disks, key, this.log);
    if (lvm.status === 'up') {
      // up only when every disk is ours: a preempted (fenced) node still has its LVs active
      if (pr.all) return lvm;
      return { ...lvm, status: 'warn', messages: [...lvm.messages, ...pr.messages] };
    }
    if (lvm.status === 'down') {
      if (pr.none) return { ...lvm, messages: [...lvm.messages, ...pr.messages] };
      return { ...lvm, status: 'warn', messages: [...lvm.messages, `volume group down but this node holds the reservation on ${pr.held.join(' ') || 'none of its disks'}`, ...pr.messages] };
    }
    return { ...lvm, messages: [...lvm.messages, ...pr.messages] };
  }

  async devices(): Promise<ResourceDevices> {
    const messages: string[] = [];
    let sub: string[] = [];
    let exposed: string[] = [];
    try {
      sub = await vgDisks(this.vgname, this.log);
      exposed = ((await readVg(this.vgname, this.log))?.lvs ?? []).map((lv) => `/dev/${this.vgname}/${lv.name}`);
    } catch (e) {
      messages.push((e as Error).message);
    }
    return { sub, exposed, reserved: this.scsireserv ? sub : [], messages };
  }

  private async lvmStatus(): Promise<StatusReport> {
    const label = this.vgname;
    try {
      const vg = await readVg(this.vgname, this.log);
      // absent or owned by another node: plainly down, as on a passive node (seed 003, deb2)
      if (!vg) return { status: 'down', label, messages: [] };
      const inactive = inactiveLvs(vg);
      const active = vg.lvs.length - inactive.length;
      if (vg.tags.includes(this.tag)) {
        if (inactive.length === 0) return { status: 'up', label, messages: [] };
        return { status: 'warn', label, messages: [`tagged for this node but ${inactive.length} of ${vg.lvs.length} logical volumes inactive: ${inactive.join(' ')}`] };
      }
      if (active > 0) {
        return { status: 'warn', label, messages: [`${active} logical volumes active but the volume group is not tagged for this node`] };
      }
      return { status: 'down', label, messages: [] };
    } catch (e) {
      return { status: 'undef', label, messages: [(e as Error).message] };
    }
  }
}

/** A resource of this driver (its schema, the keyword table: vg-driver.ts). */
export function createResource(ctx: ResourceContext): Resource {
  return new VgResource(ctx);
}
