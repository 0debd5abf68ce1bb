// /proc/self/mountinfo reader: the kernel's own view of this process's mount namespace,
// with device numbers (mtab-less, and exact where /proc/mounts shows only names).
// Format (proc(5)): id parent major:minor root mountpoint options [optional...] - fstype source superoptions
import fs from 'node:fs/promises';
import path from 'node:path';

export interface MountEntry {
  id: number;
  parent: number;
  /** "major:minor" of the mounted device (anonymous 0:N for btrfs subvolumes, tmpfs...) */
  majorMinor: string;
  /** path inside the filesystem that is mounted (not "/" for bind mounts) */
  root: string;
  mountPoint: string;
  options: string;
  fsType: string;
  source: string;
}

/** Undo the kernel's octal escapes of space, tab, newline and backslash. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 3) continue;
    entries.push({
      id: Number(fields[0]),
      parent: Number(fields[1]),
      majorMinor: fields[2]!,
      root: unescape(fields[3]!),
      mountPoint: unescape(fields[4]!),
      options: fields[5]!,
      fsType: fields[sep + 1]!,
      source: unescape(fields[sep + 2]!),
    });
  }
  return entries;
}

/** The mount table of this process, in mount order (a later entry covers an earlier one at the same point). */
export async function readMountinfo(): Promise<MountEntry[]> {
  return parseMountinfo(await fs.readFile('/proc/self/mountinfo', 'utf8'));
}

/** Depth of a mount point ("/" 0, "/opt/a" 2): mount shallower first, unmount deeper first. */
export function mountDepth(mnt: string): number {
  return path.resolve('/', mnt).split('/').filter((p) => p.length > 0).length;
}

/** Is `p` strictly below directory `dir`? */
export function isBelow(p: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir : `${dir}/`;
  return p.startsWith(d);
}
