// Shared disks: sparse files under the lab directory attached as loop devices on the host.
// /dev is not namespaced, so every node sees the same /dev/loopN: the raw one carries the
// disk heartbeat, the other holds ext4 for a service filesystem that moves between nodes.
import fs from 'node:fs';
import { run, runOk } from '../util/exec.js';
import type { LabDisk } from './types.js';

const T = { timeout: 30_000 };

export async function createDisk(disk: LabDisk, sizeMb: number): Promise<string> {
  fs.writeFileSync(disk.file, '');
  fs.truncateSync(disk.file, sizeMb * 1024 * 1024);
  if (disk.role === 'data') await runOk('mkfs.ext4', ['-q', '-F', '-L', 'ferrylab', disk.file], T);
  const r = await runOk('losetup', ['--find', '--show', disk.file], T);
  return r.stdout.trim();
}

/**
 * Detach every loop device backed by `file` (found by backing file, not by the recorded
 * name: loop numbers are reused, and a crashed run may have attached more than it recorded).
 * A device still mounted somewhere is only marked autoclear by the kernel; the caller checks.
 */
export async function detachDisk(file: string): Promise<void> {
  const r = await run('losetup', ['-j', file], T);
  for (const line of r.stdout.split('\n')) {
    const dev = line.split(':')[0]?.trim();
    if (dev && dev.startsWith('/dev/loop')) await run('losetup', ['-d', dev], T);
  }
}

/** Loop devices currently backed by `file`. */
export async function loopsOf(file: string): Promise<string[]> {
  const r = await run('losetup', ['-j', file], T);
  return r.stdout
    .split('\n')
    .map((l) => l.split(':')[0]?.trim() ?? '')
    .filter((d) => d.startsWith('/dev/loop'));
}
