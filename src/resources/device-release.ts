// A block device still held on THIS host when a start wants it: a mount of a namespace whose
// last process just died (the kernel releases its mounts asynchronously, tens to hundreds of
// milliseconds later), a killed container's mounts, a process of the previous instance being
// reaped. Linux tells exactly that with an exclusive open (O_EXCL on a block device: EBUSY
// while a mount or another exclusive opener holds it); another host's use of a shared disk is
// not visible here, so this never stands in for fencing or reservations. The start waits a
// bounded time for the holder to let go, then checks and mounts as before; a device still
// held after that fails the start with a message that says so.
import fs from 'node:fs';
import type { Logger } from '../log.js';
import { EVENT } from '../events.js';

/** how long a start waits for this host to release the device */
export const RELEASE_WAIT_MS = 3_000;
const POLL_MS = 10;

/** true when the device is free of exclusive holders on this host, false while one holds it (EBUSY) */
export function exclusivelyFree(dev: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(dev, fs.constants.O_RDONLY | fs.constants.O_EXCL | fs.constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBUSY') return false;
    // anything else (no such device, no permission) is for the check and the mount to report
    return true;
  }
  fs.closeSync(fd);
  return true;
}

/**
 * Wait (at most maxMs) until no mount or exclusive opener of this host holds `dev`. Returns
 * how long it waited; throws when it is still held.
 */
export async function waitDeviceReleased(dev: string, log: Logger, maxMs = RELEASE_WAIT_MS, isFree: (dev: string) => boolean = exclusivelyFree): Promise<number> {
  const began = Date.now();
  if (isFree(dev)) return 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const waited = Date.now() - began;
    if (isFree(dev)) {
      log.info({ event: EVENT.fsDeviceReleased, dev, waitedMs: waited }, `${dev} was still held on this host: released after ${waited} ms`);
      return waited;
    }
    if (waited >= maxMs) throw new Error(`${dev} is in use on this host (a mount or an exclusive opener holds it) after waiting ${maxMs} ms: refusing to check and mount it`);
  }
}
