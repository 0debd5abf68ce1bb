// fs resources: a filesystem on a shared (or loop-backed) device, mounted on the owner node.
// The section's `type` is the filesystem type, as in OpenSVC v1 (`type = ext4`). Status reads
// /proc/self/mountinfo; start checks then mounts; stop unmounts, killing the filesystem's
// users if they hold it, because the next owner must be able to mount it cleanly.
// Network filesystems (glusterfs, nfs, nfs4: dev = host:/path) have no device and no check;
// they are matched in the mount table by source and type, never stat'ed, and their stop is
// bounded even when the server is gone (fs-net-ops.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { MountEntry } from '../util/mountinfo.js';
import { isBelow, readMountinfo } from '../util/mountinfo.js';
import type { DeviceIdentity } from './fs-device.js';
import { entryMatches, identify } from './fs-device.js';
import { fsck, mount, umount } from './fs-ops.js';
import { waitDeviceReleased } from './device-release.js';
import { isNetType, netEntryMatches, parseNetDev } from './fs-net.js';
import { netMount, netUmount } from './fs-net-ops.js';
import { run } from '../util/exec.js';
import type { Resource, ResourceContext, ResourceDevices, StatusReport } from './types.js';

export { mountDepth } from '../util/mountinfo.js';

/** Filesystem types with a device to check and mount; the others (tmpfs) take a source name. */
const deviceTypes = new Set(['ext4', 'ext3', 'ext2', 'xfs', 'btrfs', 'vfat']);

interface MountState {
  id: DeviceIdentity;
  target: string;
  /** every mount at the mount point, oldest first: the last one is what users see */
  here: MountEntry[];
  /** those of `here` that are our device */
  ours: MountEntry[];
  all: MountEntry[];
}

class FsResource implements Resource {
  readonly kind = 'fs' as const;
  readonly rid: string;
  private readonly fsType: string;
  private readonly dev: string;
  private readonly mnt: string;
  private readonly options: string[];
  private readonly check: boolean;
  private readonly stopTimeoutMs: number;
  private readonly log: Logger;

  constructor(ctx: ResourceContext) {
    this.rid = ctx.rid;
    this.fsType = ctx.type || 'ext4';
    this.dev = ctx.kw.string('dev') ?? '';
    this.mnt = ctx.kw.string('mnt') ?? '';
    this.options = (ctx.kw.string('mnt_opt') ?? '').split(',').map((o) => o.trim()).filter((o) => o.length > 0);
    this.check = ctx.kw.boolean('fsck');
    this.stopTimeoutMs = ctx.kw.mustDuration('stop_timeout');
    this.log = ctx.log;
  }

  private get label(): string {
    return `${this.dev}@${this.mnt}`;
  }

  async devices(): Promise<ResourceDevices> {
    const id = await identify(this.dev);
    // a name (tmpfs...) is no device; a file is a loop image, listed as the file it is
    if (id.kind === 'name') return { sub: [], exposed: [], reserved: [], messages: [] };
    if (id.kind === 'absent') return { sub: [this.dev], exposed: [], reserved: [], messages: [`device ${this.dev} does not exist`] };
    return { sub: [id.real], exposed: [], reserved: [], messages: [] };
  }

  private get net(): boolean {
    return isNetType(this.fsType);
  }

  /**
   * The mount point as the kernel writes it: symlinks resolved when it exists. For a network
   * filesystem only its parent is resolved: the mount point itself may be a mount whose
   * server is gone, and a stat of it would block.
   */
  private async target(): Promise<string> {
    const abs = path.resolve('/', this.mnt);
    if (this.net) {
      if (abs === '/') return abs;
      const parent = await fs.realpath(path.dirname(abs)).catch(() => path.dirname(abs));
      return path.join(parent, path.basename(abs));
    }
    return fs.realpath(abs).catch(() => abs);
  }

  private async state(): Promise<MountState> {
    // identify() does not stat a host:/path (not an absolute path): it is a name
    const [id, target, all] = await Promise.all([identify(this.dev), this.target(), readMountinfo()]);
    const here = all.filter((e) => e.mountPoint === target);
    const ours: MountEntry[] = [];
    for (const e of here) if (this.net ? netEntryMatches(e, this.dev, this.fsType) : await entryMatches(e, id, this.fsType)) ours.push(e);
    return { id, target, here, ours, all };
  }

  async start(): Promise<void> {
    if (!this.mnt.startsWith('/')) throw new Error(`mount point "${this.mnt}" is not an absolute path`);
    let st = await this.state();
    const top = st.here.at(-1);
    if (top && st.ours.includes(top)) {
      this.log.debug(`${this.label} already mounted`);
      return;
    }
    if (top) throw new Error(`${st.target} is already mounted from ${top.source} (${top.fsType}): refusing to mount ${this.dev} over it`);
    if (deviceTypes.has(this.fsType) && st.id.kind !== 'block' && st.id.kind !== 'file') {
      throw new Error(`device ${this.dev} does not exist`);
    }
    await fs.mkdir(st.target, { recursive: true });
    if (this.net) {
      const bad = parseNetDev(this.dev, this.fsType);
      if (typeof bad === 'string') throw new Error(`dev ${this.dev}: ${bad}`);
      await netMount(this.fsType, this.dev, st.target, this.options, this.log);
      const now = (await this.state()).ours.at(-1);
      if (!now) throw new Error(`mount reported success but ${this.dev} is not seen at ${st.target}`);
      this.log.info(`mounted ${this.dev} on ${st.target}`);
      return;
    }
    // a mount of this host still being released (a namespace whose last process just died)
    if (st.id.kind === 'block') await waitDeviceReleased(st.id.real, this.log);
    if (this.check && st.id.kind !== 'name') await fsck(this.fsType, this.dev, this.log);
    // a regular file is mounted through a loop device, released again by umount (autoclear)
    const options = st.id.kind === 'file' && !this.options.includes('loop') ? ['loop', ...this.options] : this.options;
    const target = await this.target();
    await mount(this.fsType, this.dev, target, options, this.log);
    st = await this.state();
    const now = st.here.at(-1);
    if (!now || !st.ours.includes(now)) throw new Error(`mount reported success but ${this.dev} is not seen at ${target}`);
    this.log.info(`mounted ${this.dev} on ${target}`);
  }

  async stop(): Promise<void> {
    const st = await this.state();
    if (st.ours.length === 0) return;
    const top = st.here.at(-1)!;
    if (!st.ours.includes(top)) {
      throw new Error(`${this.dev} on ${st.target} is covered by a later mount of ${top.source}: unmount that first`);
    }
    if (this.net) {
      const mounted = async (): Promise<boolean> => (await this.state()).ours.length > 0;
      const how = await netUmount(st.target, { stopTimeoutMs: this.stopTimeoutMs, mounted }, this.log);
      if (how === 'umount') this.log.info(`unmounted ${st.target}`);
      return;
    }
    const submounts = async (): Promise<string[]> =>
      (await readMountinfo()).filter((e) => isBelow(e.mountPoint, st.target)).map((e) => e.mountPoint);
    await umount(st.target, { stopTimeoutMs: this.stopTimeoutMs, submounts }, this.log);
    this.log.info(`unmounted ${st.target}`);
    if (st.id.kind === 'file') await loopReleased(top.source, this.log);
  }

  async status(): Promise<StatusReport> {
    const label = this.label;
    try {
      const st = await this.state();
      const top = st.here.at(-1);
      if (!top) return { status: 'down', label, messages: [] };
      if (st.ours.includes(top)) return { status: 'up', label, messages: [] };
      if (st.ours.length > 0) {
        return { status: 'warn', label, messages: [`${this.dev} is mounted on ${st.target} but covered by a mount of ${top.source}`] };
      }
      return { status: 'warn', label, messages: [`${st.target} is mounted from ${top.source} (${top.fsType}), not ${this.dev}`] };
    } catch (e) {
      return { status: 'undef', label, messages: [(e as Error).message] };
    }
  }
}

/** A resource of this driver (its schema, the keyword table: fs-driver.ts). */
export function createResource(ctx: ResourceContext): Resource {
  return new FsResource(ctx);
}

/**
 * The kernel frees an autoclear loop device after the last umount asynchronously: wait for
 * it (bounded), so that when stop returns the image is free for the next owner; detach it
 * ourselves if it lingers.
 */
async function loopReleased(loopDev: string, log: Logger): Promise<void> {
  const name = path.basename(loopDev);
  // losetup takes no `--`: only ever a /dev/loopN path (never something that reads as an option)
  if (!/^loop\d+$/.test(name) || !loopDev.startsWith('/')) return;
  const attached = () => fs.access(`/sys/block/${name}/loop/backing_file`).then(() => true, () => false);
  for (let i = 0; i < 30 && (await attached()); i++) await new Promise((r) => setTimeout(r, 100));
  if (await attached()) {
    const r = await run('losetup', ['-d', loopDev], { timeout: 10_000, log });
    if (!r.ok) log.warn({ dev: loopDev, err: r.stderr.trim() }, `${loopDev} still attached after umount`);
  }
}
