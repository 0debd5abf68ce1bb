// Mount and unmount of a network filesystem (glusterfs, nfs, nfs4), bounded in time whatever
// the server does. Nothing here stats the mount point or anything below it: when the server
// is gone (or a FUSE daemon is frozen) such a stat blocks, and in node it would hold one of
// the four libuv threads for good. So:
// - umount runs with -c (--no-canonicalize: util-linux would realpath, i.e. stat, the path);
// - the filesystem's users are found from /proc (readlink of cwd, root, exe, fds and the
//   paths in maps: the kernel's names, no lookup in the filesystem), not with fuser;
// - every command has a timeout, and the wait for it has its own deadline too: a child stuck
//   in an uninterruptible sleep never exits, and the stop must return anyway;
// - when the plain unmount fails (busy after the users were killed, timed out, server gone),
//   the mount is detached with umount -f -l: a network filesystem is shared, the next owner
//   mounts it alongside, so unlike a local device nothing forbids a lazy unmount.
import fs from 'node:fs/promises';
import type { Logger } from '../log.js';
import { run, type RunOptions, type RunResult } from '../util/exec.js';
import { isBelow } from '../util/mountinfo.js';
import { mountArgv } from './fs-ops.js';

/** glusterfs fetches its volfile from the next server 42 s after the first one went silent */
export const NET_MOUNT_TIMEOUT = 120_000;
export const NET_UMOUNT_TIMEOUT = 15_000;
/** past a command's own timeout (SIGTERM, SIGKILL 2 s later), how long we still wait for it */
const GRACE = 5_000;

const firstLine = (s: string): string => s.trim().split('\n')[0]?.trim() ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** run(), but never waits longer than timeout + GRACE, even for a child that cannot be killed. */
export async function runBounded(file: string, args: readonly string[], opts: RunOptions & { timeout: number }): Promise<RunResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<RunResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ command: [file, ...args].join(' '), exitCode: undefined, signal: undefined, timedOut: true, stdout: '', stderr: 'did not exit after SIGKILL (uninterruptible sleep)', ok: false, durationMs: opts.timeout + GRACE }),
      opts.timeout + GRACE,
    );
    timer.unref();
  });
  try {
    return await Promise.race([run(file, args, opts), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export async function netMount(fsType: string, dev: string, mnt: string, options: string[], log: Logger): Promise<void> {
  const r = await runBounded('mount', mountArgv(fsType, dev, mnt, options), { timeout: NET_MOUNT_TIMEOUT, log });
  if (!r.ok) throw new Error(`mount -t ${fsType} ${dev} ${mnt}: ${r.timedOut ? `timed out after ${NET_MOUNT_TIMEOUT / 1000}s` : `exit ${r.exitCode}`}${firstLine(r.stderr) ? `: ${firstLine(r.stderr)}` : ''}`);
}

const under = (p: string, mnt: string): boolean => p === mnt || isBelow(p, mnt);

/**
 * Pids of this mount namespace with their cwd, root, executable, an open file or a mapping on
 * mnt or below it. Paths are per mount namespace: a process of another one (a container, a
 * lab node) naming the same path holds something else; containers of the service are stopped
 * before its filesystems, and the forced detach covers what is left.
 */
export async function procHolders(mnt: string): Promise<number[]> {
  const pids = (await fs.readdir('/proc').catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  const self = String(process.pid);
  const ns = await fs.readlink('/proc/self/ns/mnt').catch(() => '');
  const out: number[] = [];
  for (const pid of pids) {
    if (pid === self) continue;
    if ((await fs.readlink(`/proc/${pid}/ns/mnt`).catch(() => '')) !== ns) continue;
    const links = ['cwd', 'root', 'exe'].map((l) => `/proc/${pid}/${l}`);
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    links.push(...fds.map((fd) => `/proc/${pid}/fd/${fd}`));
    let holds = false;
    for (const l of links) {
      const target = await fs.readlink(l).catch(() => '');
      if (target && under(target.replace(/ \(deleted\)$/, ''), mnt)) {
        holds = true;
        break;
      }
    }
    if (!holds) {
      const maps = await fs.readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '');
      holds = maps.split('\n').some((line) => {
        const i = line.indexOf('/');
        return i >= 0 && under(line.slice(i).replace(/ \(deleted\)$/, ''), mnt);
      });
    }
    if (holds) out.push(Number(pid));
  }
  return out;
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // gone already
    }
  }
}

export interface NetUmountOptions {
  /** how long users get between SIGTERM and SIGKILL */
  stopTimeoutMs: number;
  /** is it still mounted (the mount table, never a stat) */
  mounted: () => Promise<boolean>;
}

/** How the unmount went: a plain umount, or the forced lazy detach. */
export type NetUmountResult = 'umount' | 'forced';

/**
 * Unmount a network filesystem: umount; if that fails, SIGTERM then SIGKILL its users and
 * umount again; if that fails too, umount -f -l. Throws only if even the forced detach left
 * it mounted. Bounded: about 3 umount timeouts + stopTimeoutMs + the /proc scans.
 */
export async function netUmount(mnt: string, opts: NetUmountOptions, log: Logger): Promise<NetUmountResult> {
  const umount = (flags: string[]) => runBounded('umount', [...flags, '-c', '--', mnt], { timeout: NET_UMOUNT_TIMEOUT, log });
  let r = await umount([]);
  if (r.ok || !(await opts.mounted())) return 'umount';
  let why = r.timedOut ? 'umount timed out' : firstLine(r.stderr) || `umount exit ${r.exitCode}`;

  let pids = await procHolders(mnt);
  if (pids.length > 0) {
    log.info({ pids }, `${mnt}: ${why}: sending SIGTERM to its users`);
    signal(pids, 'SIGTERM');
    const deadline = Date.now() + opts.stopTimeoutMs;
    while (Date.now() < deadline && (pids = await procHolders(mnt)).length > 0) await sleep(200);
    if (pids.length > 0) {
      log.info({ pids }, `${mnt}: users still there after ${opts.stopTimeoutMs} ms: sending SIGKILL`);
      signal(pids, 'SIGKILL');
      await sleep(300);
    }
    r = await umount([]);
    if (r.ok || !(await opts.mounted())) return 'umount';
    why = r.timedOut ? 'umount timed out' : firstLine(r.stderr) || `umount exit ${r.exitCode}`;
  }

  r = await umount(['-f', '-l']);
  if (!(await opts.mounted())) {
    log.warn({ event: 'fs_forced_umount', mnt, why }, `${mnt}: ${why}: detached with umount -f -l`);
    return 'forced';
  }
  throw new Error(`umount -f -l ${mnt}: ${r.timedOut ? 'timed out' : firstLine(r.stderr) || `exit ${r.exitCode}`} (after: ${why})`);
}
