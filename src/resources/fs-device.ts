// Which mount is "ours": the fs driver's device matching. A block device is matched by its
// major:minor (what the kernel records, whatever /dev alias the source names), falling back
// to the resolved source path for filesystems that show an anonymous device (btrfs); a
// regular file by the backing file of the loop device mounted; anything else (tmpfs...)
// by source name and filesystem type.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MountEntry } from '../util/mountinfo.js';

export type DeviceIdentity =
  | { kind: 'block'; spec: string; majorMinor: string; real: string }
  | { kind: 'file'; spec: string; real: string }
  | { kind: 'absent'; spec: string }
  | { kind: 'name'; spec: string };

/** glibc's major()/minor() split of a dev_t */
function splitDev(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

export async function identify(spec: string): Promise<DeviceIdentity> {
  // tmpfs, proc-like sources and other non-paths are names, not devices
  if (!spec.startsWith('/')) return { kind: 'name', spec };
  try {
    const st = await fs.stat(spec, { bigint: true });
    const real = await fs.realpath(spec);
    if (st.isBlockDevice()) return { kind: 'block', spec, majorMinor: splitDev(st.rdev), real };
    if (st.isFile()) return { kind: 'file', spec, real };
    return { kind: 'name', spec };
  } catch {
    return { kind: 'absent', spec };
  }
}

async function realOrSelf(p: string): Promise<string> {
  return fs.realpath(p).catch(() => p);
}

async function loopBackingFile(majorMinor: string, source: string): Promise<string | undefined> {
  const candidates = [`/sys/dev/block/${majorMinor}/loop/backing_file`];
  if (source.startsWith('/dev/loop')) candidates.push(`/sys/block/${path.basename(source)}/loop/backing_file`);
  for (const c of candidates) {
    try {
      // the kernel appends " (deleted)" when the file was unlinked: then it is not ours any more
      return (await fs.readFile(c, 'utf8')).trim();
    } catch {
      // not a loop device under this name
    }
  }
  return undefined;
}

export async function entryMatches(e: MountEntry, id: DeviceIdentity, fsType: string): Promise<boolean> {
  switch (id.kind) {
    case 'block':
      return e.majorMinor === id.majorMinor || (e.source.startsWith('/') && (await realOrSelf(e.source)) === id.real);
    case 'file':
      return (await loopBackingFile(e.majorMinor, e.source)) === id.real;
    case 'absent':
      return e.source === id.spec;
    case 'name':
      return e.source === id.spec && e.fsType === fsType;
  }
}
