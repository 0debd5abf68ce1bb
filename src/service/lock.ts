// One action at a time per service. The lock is a file created with O_EXCL holding the
// holder's pid; a lock whose holder is dead is stale and taken over, so a crashed action
// never wedges the service.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../vocab/errors.js';
import { pidAlive } from '../util/pid-alive.js';

interface LockInfo {
  pid: number;
  action: string;
  since: string;
}


function readLock(file: string): LockInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

export interface ActionLock {
  release(): void;
}

/**
 * Take the action lock of a service, waiting up to `waitMs` for the current holder.
 * Throws a one-line UserError naming the holder when it cannot.
 */
export async function acquireActionLock(dir: string, svcname: string, action: string, waitMs: number): Promise<ActionLock> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'action.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, action, since: new Date().toISOString() }));
      fs.closeSync(fd);
      const release = () => {
        const holder = readLock(file);
        if (holder?.pid === process.pid) fs.rmSync(file, { force: true });
        process.off('exit', release);
      };
      process.on('exit', release);
      return { release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readLock(file);
    if (!holder || !pidAlive(holder.pid)) {
      // stale: the holder died mid-action. Remove only if still the same stale content.
      const again = readLock(file);
      if (JSON.stringify(again) === JSON.stringify(holder)) fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new UserError(
        `service ${svcname}: another action is running (${holder.action}, pid ${holder.pid}, since ${holder.since}); retry later or raise --waitlock`,
      );
    }
    await sleep(100);
  }
}

/** The action a live process holds the service's lock for (in `dir`), or undefined when none. */
export function heldAction(dir: string): string | undefined {
  const holder = readLock(path.join(dir, 'action.lock'));
  return holder && typeof holder.action === 'string' && Number.isInteger(holder.pid) && pidAlive(holder.pid) ? holder.action : undefined;
}
