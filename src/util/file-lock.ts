// One writer at a time on a file (a service file's read-edit-write), across processes.
// Node has no flock(2), so the lock is a file beside the target, `.<name>.lock`:
//   - it is complete from its first instant: written to a temp file, then link(2)ed to the
//     lock name, which fails with EEXIST when somebody holds it (no half-written lock for a
//     reader to misjudge);
//   - it names its holder: pid, the process start time (/proc/<pid>/stat) and the boot id,
//     so a holder that died, a pid reused by another process, or a lock left by a previous
//     boot is recognised as stale and broken by the next writer: a crashed writer never
//     blocks the file for longer than the next writer's first look;
//   - breaking is itself serialised by a short-lived second lock (`.<name>.lock.break`): the
//     breaker re-reads the lock under it and removes it only if it is still the stale one it
//     judged, so two breakers can never remove a live holder's lock.
// A holder in another pid namespace cannot be looked up by pid: its lock is taken as live
// until it is FOREIGN_NS_STALE_MS old (a config write holds its lock for milliseconds).
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { crypto } from './lazy-crypto.js';

export interface LockHolder {
  pid: number;
  /** field 22 of /proc/<pid>/stat (clock ticks after boot), '' when unreadable */
  start: string;
  /** /proc/sys/kernel/random/boot_id, '' when unreadable */
  boot: string;
  /** the holder's pid namespace (readlink /proc/self/ns/pid), '' when unreadable */
  pidns: string;
  /** what the holder is doing, for the timeout message */
  purpose: string;
  /** ISO time the lock was taken */
  since: string;
  /** unique per acquisition: release removes only its own lock */
  token: string;
}

/** The lock stayed held by a live process for the whole wait. */
export class LockTimeout extends Error {
  constructor(
    readonly lockFile: string,
    readonly holder: LockHolder,
    readonly waitedMs: number,
  ) {
    super(`${lockFile} is held by pid ${holder.pid} (${holder.purpose}, since ${holder.since}); gave up after ${Math.round(waitedMs / 100) / 10} s`);
    this.name = 'LockTimeout';
  }
}

export interface HeldLock {
  readonly file: string;
  /** Remove the lock if it is still ours; false when it was not (broken by someone else). */
  release(): boolean;
}

export interface LockOptions {
  /** how long to wait for a live holder before LockTimeout */
  waitMs: number;
  purpose: string;
  /** base poll interval while waiting (jittered); default 25 ms */
  pollMs?: number;
  /** where a broken stale lock and a lock lost to someone else are recorded */
  log?: Logger;
}

/** A break lock older than this was left by a breaker that died in its few-microsecond window. */
const BREAK_LOCK_STALE_MS = 10_000;
/** Age after which the lock of a holder in another pid namespace is stale. */
export const FOREIGN_NS_STALE_MS = 30_000;

export function lockFileOf(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.lock`);
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Field 22 of /proc/<pid>/stat: the start time, unique for a pid within one boot. */
export function processStart(pid: number): string {
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  // the command name (field 2) is in parentheses and may hold blanks and ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? '';
}

const bootId = (): string => readOrEmpty('/proc/sys/kernel/random/boot_id');

function pidNamespace(): string {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const h = JSON.parse(raw) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || !Number.isInteger(h.pid) || h.pid <= 0 || typeof h.token !== 'string') return undefined;
    return { pid: h.pid, start: String(h.start ?? ''), boot: String(h.boot ?? ''), pidns: String(h.pidns ?? ''), purpose: String(h.purpose ?? '?'), since: String(h.since ?? '?'), token: h.token };
  } catch {
    return undefined;
  }
}

/** Is the process that took this lock (`ageMs` ago) still running? Reads /proc, changes nothing. */
export function holderAlive(h: LockHolder, ageMs: number): boolean {
  const boot = bootId();
  if (h.boot !== '' && boot !== '' && h.boot !== boot) return false;
  const ns = pidNamespace();
  if (h.pidns !== '' && ns !== '' && h.pidns !== ns) return ageMs < FOREIGN_NS_STALE_MS;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStart(h.pid);
  // a pid reused by another process after the holder died
  return h.start === '' || start === '' || start === h.start;
}

function lockAgeMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function readRaw(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Remove `lockFile` if it still holds `staleRaw`, under the break lock: 'broken', 'changed'
 * (someone else broke or released it first), or 'busy' when another breaker is at it.
 */
function breakStale(lockFile: string, staleRaw: string): 'broken' | 'changed' | 'busy' {
  const breakFile = `${lockFile}.break`;
  let fd: number;
  try {
    fd = fs.openSync(breakFile, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - fs.statSync(breakFile).mtimeMs > BREAK_LOCK_STALE_MS) fs.rmSync(breakFile, { force: true });
    } catch {
      // gone meanwhile: the other breaker finished
    }
    return 'busy';
  }
  try {
    fs.closeSync(fd);
    if (readRaw(lockFile) !== staleRaw) return 'changed';
    fs.rmSync(lockFile, { force: true });
    return 'broken';
  } finally {
    fs.rmSync(breakFile, { force: true });
  }
}

/**
 * Take the lock of `target`, waiting up to opts.waitMs for a live holder (a dead holder's
 * lock is broken at once). Throws LockTimeout naming the holder when the wait runs out.
 */
export async function acquireFileLock(target: string, opts: LockOptions): Promise<HeldLock> {
  return acquireLockFile(lockFileOf(target), opts);
}

/** acquireFileLock for a lock file named by the caller (not derived from a target file). */
export async function acquireLockFile(lockFile: string, opts: LockOptions): Promise<HeldLock> {
  const me: Omit<LockHolder, 'since'> = {
    pid: process.pid,
    start: processStart(process.pid),
    boot: bootId(),
    pidns: pidNamespace(),
    purpose: opts.purpose,
    token: crypto().randomBytes(8).toString('hex'),
  };
  const tmp = `${lockFile}.${process.pid}.${me.token}.tmp`;
  const started = Date.now();
  const poll = opts.pollMs ?? 25;
  try {
    for (;;) {
      // fresh `since` and mtime for each attempt: they tell when the lock was taken
      const mine = `${JSON.stringify({ ...me, since: new Date().toISOString() })}\n`;
      fs.writeFileSync(tmp, mine, { mode: 0o600 });
      try {
        fs.linkSync(tmp, lockFile);
        return held(lockFile, mine, opts.log);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const raw = readRaw(lockFile);
      if (raw === undefined) continue; // released between our link and our read
      const holder = parseHolder(raw);
      if (!holder || !holderAlive(holder, lockAgeMs(lockFile))) {
        const outcome = breakStale(lockFile, raw);
        if (outcome === 'broken') {
          opts.log?.warn({ event: 'file-lock-stale-broken', lock: lockFile, holder: holder ?? raw.slice(0, 200) }, `broke the stale lock ${lockFile}`);
        }
        if (outcome !== 'busy') continue;
      } else if (Date.now() - started >= opts.waitMs) {
        throw new LockTimeout(lockFile, holder, Date.now() - started);
      }
      await sleep(poll / 2 + Math.random() * poll);
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function held(lockFile: string, content: string, log: Logger | undefined): HeldLock {
  let released = false;
  const release = (): boolean => {
    if (released) return true;
    released = true;
    process.off('exit', onExit);
    if (readRaw(lockFile) !== content) {
      log?.warn({ event: 'file-lock-lost', lock: lockFile }, `${lockFile} was no longer ours at release`);
      return false;
    }
    fs.rmSync(lockFile, { force: true });
    return true;
  };
  const onExit = (): void => {
    release();
  };
  // a process.exit() inside the critical section must not leave the lock behind
  process.on('exit', onExit);
  return { file: lockFile, release };
}

/** Run fn holding the lock of `target`; the lock is released however fn ends. */
export async function withFileLock<T>(target: string, opts: LockOptions, fn: () => T | Promise<T>): Promise<T> {
  const lock = await acquireFileLock(target, opts);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** The live holder of a lock file, or undefined when it is free, unreadable or its holder is dead. Changes nothing. */
export function liveHolder(lockFile: string): LockHolder | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(lockFile, 'utf8');
  } catch {
    return undefined;
  }
  const h = parseHolder(raw.slice(0, 4096));
  return h && holderAlive(h, lockAgeMs(lockFile)) ? h : undefined;
}
