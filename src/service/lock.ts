// One action at a time per service: the lock is `<state dir>/action.lock`, taken with
// util/file-lock.ts (linked into place complete, holder pid + start time + boot id; a dead
// holder's lock is broken under a break lock, so a crashed action never wedges the service
// and two waiters can never both take it).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../vocab/errors.js';
import { acquireLockFile, liveHolder, LockTimeout } from '../util/file-lock.js';
import type { Logger } from '../log.js';

export interface ActionLock {
  release(): void;
}

/**
 * Take the action lock of a service, waiting up to `waitMs` for the current holder.
 * Throws a one-line UserError naming the holder when it cannot.
 */
export async function acquireActionLock(dir: string, svcname: string, action: string, waitMs: number, log?: Logger): Promise<ActionLock> {
  fs.mkdirSync(dir, { recursive: true });
  try {
    const lock = await acquireLockFile(path.join(dir, 'action.lock'), { waitMs, purpose: action, pollMs: 100, log });
    return { release: () => void lock.release() };
  } catch (e) {
    if (!(e instanceof LockTimeout)) throw e;
    const h = e.holder;
    throw new UserError(`service ${svcname}: another action is running (${h.purpose}, pid ${h.pid}, since ${h.since}); retry later or raise --waitlock`);
  }
}

/** The action a live process holds the service's lock for (in `dir`), or undefined when none. */
export function heldAction(dir: string): string | undefined {
  return liveHolder(path.join(dir, 'action.lock'))?.purpose;
}
