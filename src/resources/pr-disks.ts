// SCSI-3 persistent reservations over the disks of one resource (a vg's PVs, a disk
// resource's devices), shared by the vg and disk drivers:
//  - acquire: register this node's key on every disk, then reserve (type 5) when free, keep
//    when ours, preempt the holder when the caller forces the takeover (the daemon after it
//    decided, the operator with --force); otherwise fail before touching any disk;
//  - release: release our reservations, unregister our key;
//  - inspect: which disks this node holds, and a message for every other one.
// Type 5 lets every *registrant* write, so an unforced start reads every disk first and does
// not even register while another node holds one of them.
import type { Logger } from '../log.js';
import { isType5, preempt, readKeys, readReservation, register, release, reserve, sameKey, unregister, type PrReservation } from './scsi-pr.js';

/** The keyword of every driver that holds reservations (vg, disk). */
export { noPreemptAbortKeyword } from './pr-keywords.js';

export interface AcquireOptions {
  /** take the disks over from another holder (preempt) */
  force: boolean;
  /** PREEMPT AND ABORT (true) or plain PREEMPT (false: no_preempt_abort) */
  preemptAbort: boolean;
  /** what the disks belong to, for messages: "vg ferryvg", "disk#1" */
  owner: string;
}

function foreignMessage(disk: string, owner: string, holder: string): string {
  return `disk ${disk} of ${owner} is reserved by key ${holder} (another node): not preempting it without --force`;
}

/** Make `key` the type 5 reservation holder of every disk. Throws a one-line error. */
export async function acquire(disks: readonly string[], key: string, opts: AcquireOptions, log: Logger): Promise<void> {
  if (disks.length === 0) throw new Error(`${opts.owner}: no disk to reserve`);
  // read everything first: an unforced start must not register (= gain write access) anywhere
  const before = new Map<string, PrReservation>();
  for (const disk of disks) before.set(disk, await readReservation(disk, log));
  if (!opts.force) {
    for (const [disk, r] of before) {
      if (r.holder && !sameKey(r.holder.key, key)) throw new Error(foreignMessage(disk, opts.owner, r.holder.key));
    }
  }
  for (const disk of disks) {
    const keys = await readKeys(disk, log);
    if (!keys.keys.some((k) => sameKey(k, key))) {
      await register(disk, key, log);
      log.info({ disk, key }, `registered key ${key} on ${disk}`);
    }
    const holder = before.get(disk)?.holder;
    if (!holder) {
      await reserve(disk, key, log);
      log.info({ disk, key }, `reserved ${disk} (type 5)`);
    } else if (sameKey(holder.key, key)) {
      if (!isType5(holder.type)) log.warn({ disk, type: holder.type }, `${disk}: our reservation is of type "${holder.type}", not type 5`);
      log.debug({ disk }, `${disk}: reservation already ours`);
    } else {
      await preempt(disk, key, holder.key, { abort: opts.preemptAbort }, log);
      log.warn({ disk, key, victim: holder.key, abort: opts.preemptAbort }, `${opts.preemptAbort ? 'preempted and aborted' : 'preempted'} key ${holder.key} on ${disk}: reservation taken over`);
    }
    const after = await readReservation(disk, log);
    if (!after.holder || !sameKey(after.holder.key, key)) {
      throw new Error(`disk ${disk} of ${opts.owner}: reservation not ours after taking it (${after.holder ? `held by key ${after.holder.key}` : 'none held'})`);
    }
    if (opts.force) {
      // type 5: any registrant may write; a forced takeover leaves no other node registered
      const others = (await readKeys(disk, log)).keys.filter((k) => !sameKey(k, key));
      for (const other of others) {
        await preempt(disk, key, other, { abort: opts.preemptAbort }, log);
        log.warn({ disk, victim: other }, `removed the registration of key ${other} on ${disk}`);
      }
    }
  }
}

/** Release our reservations and unregister our key on every disk. Goes through every disk, then throws the first error. */
export async function relinquish(disks: readonly string[], key: string, log: Logger): Promise<void> {
  const errors: string[] = [];
  for (const disk of disks) {
    try {
      const r = await readReservation(disk, log);
      if (r.holder && sameKey(r.holder.key, key)) {
        await release(disk, key, log);
        log.info({ disk }, `released ${disk}`);
      }
      const keys = await readKeys(disk, log);
      if (keys.keys.some((k) => sameKey(k, key))) {
        await unregister(disk, key, log);
        log.info({ disk, key }, `unregistered key ${key} from ${disk}`);
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new Error(errors.length === 1 ? errors[0]! : `${errors[0]} (and ${errors.length - 1} more)`);
}

export interface ReservationState {
  /** disks whose reservation this node holds */
  held: string[];
  /** every disk whose state is something else, one line each */
  messages: string[];
  /** every disk held by this node */
  all: boolean;
  /** no disk held by this node (and none unreadable) */
  none: boolean;
  /** some disk could not be read */
  unreadable: boolean;
}

/** Read-only view of the reservations; never throws. `key` undefined: this node has no key yet. */
export async function inspect(disks: readonly string[], key: string | undefined, log?: Logger): Promise<ReservationState> {
  const held: string[] = [];
  const messages: string[] = [];
  let unreadable = false;
  for (const disk of disks) {
    try {
      const r = await readReservation(disk, log);
      if (!r.holder) messages.push(`no reservation on ${disk}`);
      else if (key !== undefined && sameKey(r.holder.key, key)) held.push(disk);
      else messages.push(`reservation on ${disk} held by key ${r.holder.key}`);
    } catch (e) {
      unreadable = true;
      messages.push((e as Error).message);
    }
  }
  if (disks.length === 0) messages.push('no disk');
  return { held, messages, all: disks.length > 0 && held.length === disks.length, none: held.length === 0 && !unreadable, unreadable };
}
