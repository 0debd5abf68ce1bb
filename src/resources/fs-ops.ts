// The fs driver's actions on the system: consistency check, mount, and an unmount that
// clears the filesystem's users first. A failover filesystem must really be released
// before another node mounts it, so there is no lazy (detached) unmount here.
// Every value from the configuration goes after `--`, so that a device or mount point
// written as "-a" is an operand, never an option (`umount -a` unmounts everything).
// fuser (psmisc) has no `--`: it only ever gets an absolute path, checked here.
import type { Logger } from '../log.js';
import { run, runOk } from '../util/exec.js';

const FSCK_TIMEOUT = 3_600_000; // a large ext4 check takes long; the node must not give up early
const MOUNT_TIMEOUT = 300_000; // xfs log replay after a crash
const UMOUNT_TIMEOUT = 60_000;

const firstLine = (s: string): string => s.trim().split('\n')[0]?.trim() ?? '';

/** Check the filesystem before mounting it. Types without an offline checker are skipped. */
export async function fsck(fsType: string, dev: string, log: Logger): Promise<void> {
  if (['ext2', 'ext3', 'ext4'].includes(fsType)) {
    // e2fsck(8): 0 clean, 1 errors corrected, 2 corrected and "reboot" (meant for a mounted
    // root fs, harmless for an unmounted one), 4+ left uncorrected or could not run
    const r = await run('e2fsck', ['-p', '--', dev], { timeout: FSCK_TIMEOUT, log });
    if (r.exitCode === 0) return;
    if (r.exitCode === 1 || r.exitCode === 2) {
      log.warn({ exit: r.exitCode }, `e2fsck corrected errors on ${dev}`);
      return;
    }
    const why = r.timedOut ? 'timed out' : `exit ${r.exitCode ?? r.signal}`;
    throw new Error(`e2fsck -p ${dev} failed (${why}): ${firstLine(r.stderr) || firstLine(r.stdout) || 'errors left uncorrected'}; check it by hand`);
  }
  if (fsType === 'xfs') {
    // xfs_repair(8) -n: 0 clean, 1 corruption found. A dirty log (the usual state after the
    // previous owner crashed) is replayed by mount, so it must not block the takeover.
    const r = await run('xfs_repair', ['-n', '--', dev], { timeout: FSCK_TIMEOUT, log });
    if (r.exitCode === 0) return;
    const out = `${r.stderr}\n${r.stdout}`;
    if (/metadata changes in a log/i.test(out)) {
      log.warn(`${dev} has an unreplayed xfs log: mount will replay it`);
      return;
    }
    const why = r.timedOut ? 'timed out' : `exit ${r.exitCode ?? r.signal}`;
    throw new Error(`xfs_repair -n ${dev} found problems (${why}): ${firstLine(r.stderr) || firstLine(r.stdout)}; repair it by hand`);
  }
}

export async function mount(fsType: string, dev: string, mnt: string, options: string[], log: Logger): Promise<void> {
  await runOk('mount', mountArgv(fsType, dev, mnt, options), { timeout: MOUNT_TIMEOUT, log });
}

export function mountArgv(fsType: string, dev: string, mnt: string, options: readonly string[]): string[] {
  return ['-t', fsType, ...(options.length ? ['-o', options.join(',')] : []), '--', dev, mnt];
}

export const umountArgv = (mnt: string): string[] => ['--', mnt];

/** fuser takes no `--`: its operand must not be able to pass for an option. */
export function fuserOperand(mnt: string): string {
  if (!mnt.startsWith('/')) throw new Error(`fuser: "${mnt}" is not an absolute path`);
  return mnt;
}

/** Pids using the filesystem mounted at `mnt`. -M: only if mnt IS a mount point, never its parent fs. */
async function holders(mnt: string, log: Logger): Promise<number[]> {
  const r = await run('fuser', ['-M', '-m', fuserOperand(mnt)], { timeout: 30_000, log });
  // fuser prints pids on stdout (access letters and names on stderr); exit 1 = none
  return r.stdout.split(/\s+/).filter((w) => /^\d+$/.test(w)).map(Number);
}

async function signalHolders(mnt: string, signal: 'TERM' | 'KILL', log: Logger): Promise<void> {
  await run('fuser', ['-M', '-k', `-${signal}`, '-m', fuserOperand(mnt)], { timeout: 30_000, log });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface UmountOptions {
  /** how long holders get between SIGTERM and SIGKILL */
  stopTimeoutMs: number;
  /** mount points below mnt, for the error message when they are why it is busy */
  submounts: () => Promise<string[]>;
}

/** Unmount mnt; if busy, SIGTERM its users, wait up to stopTimeoutMs, SIGKILL them, retry. */
export async function umount(mnt: string, opts: UmountOptions, log: Logger): Promise<void> {
  let r = await run('umount', umountArgv(mnt), { timeout: UMOUNT_TIMEOUT, log });
  if (r.ok) return;
  if (!/busy/i.test(r.stderr)) throw new Error(`umount ${mnt}: ${firstLine(r.stderr) || `exit ${r.exitCode}`}`);
  const below = await opts.submounts();
  if (below.length > 0) throw new Error(`umount ${mnt}: busy: mounted below it: ${below.join(' ')}`);

  let pids = await holders(mnt, log);
  if (pids.length > 0) {
    log.info({ pids }, `${mnt} is busy: sending SIGTERM to its users`);
    await signalHolders(mnt, 'TERM', log);
    const deadline = Date.now() + opts.stopTimeoutMs;
    while (Date.now() < deadline && (pids = await holders(mnt, log)).length > 0) await sleep(200);
    if (pids.length > 0) {
      log.info({ pids }, `${mnt}: users still there after ${opts.stopTimeoutMs} ms: sending SIGKILL`);
      await signalHolders(mnt, 'KILL', log);
    }
  }
  // the kernel drops a dying process's references shortly after the signal: retry a little
  for (let i = 0; i < 10; i++) {
    r = await run('umount', umountArgv(mnt), { timeout: UMOUNT_TIMEOUT, log });
    if (r.ok) return;
    if (!/busy/i.test(r.stderr)) break;
    await sleep(300);
  }
  const left = await holders(mnt, log);
  throw new Error(`umount ${mnt}: ${firstLine(r.stderr) || `exit ${r.exitCode}`}${left.length ? ` (still used by pids ${left.join(' ')})` : ''}`);
}
