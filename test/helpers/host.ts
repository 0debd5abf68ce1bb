// Host objects for service-level tests: a network namespace with a dummy device, a loop
// device holding ext4, each removed in teardown even when the test failed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sh, uniquePrefix } from './env.js';

export interface NetNs {
  name: string;
  /** run a command inside the namespace's network stack but the host's mount namespace */
  wrap(cmd: string, args: string[]): [string, string[]];
  remove(): Promise<void>;
}

/**
 * A network namespace with `lo` up and a device `dev` holding `cidr` (if given). The kernel
 * here has no dummy driver, so `dev` is one end of a veth pair whose peer stays in the
 * namespace, up, and answers nothing: a quiet segment of our own.
 */
export async function makeNetNs(dev = 'eth0', cidr?: string): Promise<NetNs> {
  const name = uniquePrefix('ns');
  await sh('ip', ['netns', 'add', name]);
  await sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  await sh('ip', ['-n', name, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}peer`]);
  await sh('ip', ['-n', name, 'link', 'set', `${dev}peer`, 'up']);
  await sh('ip', ['-n', name, 'link', 'set', dev, 'up']);
  if (cidr) await sh('ip', ['-n', name, 'addr', 'add', cidr, 'dev', dev]);
  return {
    name,
    // nsenter --net only: `ip netns exec` would also unshare the mount namespace, and mounts
    // made by the service would vanish with the process.
    wrap: (cmd, args) => ['nsenter', [`--net=/run/netns/${name}`, cmd, ...args]],
    async remove() {
      const pids = await sh('ip', ['netns', 'pids', name], { reject: false });
      for (const pid of pids.stdout.split('\n').filter(Boolean)) await sh('kill', ['-9', pid], { reject: false });
      await sh('ip', ['netns', 'del', name], { reject: false });
    },
  };
}

export interface LoopFs {
  image: string;
  dev: string;
  dir: string;
  remove(): Promise<void>;
}

/** A sparse file with ext4 on a loop device, and a scratch directory for mount points. */
export async function makeLoopExt4(sizeMb = 64): Promise<LoopFs> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-loop-'));
  const image = path.join(dir, 'disk.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, sizeMb * 1024 * 1024);
  await sh('mkfs.ext4', ['-q', '-F', image]);
  const dev = (await sh('losetup', ['--find', '--show', image])).stdout.trim();
  return {
    image,
    dev,
    dir,
    async remove() {
      // unmount whatever the test left under dir (deepest first), then free the loop device
      const mounts = fs
        .readFileSync('/proc/self/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(dir))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) await sh('umount', [m], { reject: false });
      await sh('losetup', ['-d', dev], { reject: false });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
