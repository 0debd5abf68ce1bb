// The pure rules of [sync#N] type = btrfs: how snapshots are named, which snapshot an
// incremental send to a peer starts from, which snapshots a prune removes, and what a peer's
// `btrfs receive` command may be. The records themselves are the rsync ones
// (sync-rsync-state.ts), with the snapshot names added.
import path from 'node:path';
import type { RsyncRecord } from './sync-rsync-state.js';

export const BTRFS = 'btrfs';
/** statfs f_type of btrfs, and the inode of a subvolume's root */
export const BTRFS_MAGIC = 0x9123683e;
export const SUBVOL_INO = 256;
export const KEEP_DEFAULT = 2;

/** `<base>@20261203T122700.123Z`: sorts by time, one name per millisecond */
export function snapName(base: string, at: number): string {
  return `${base}@${new Date(at).toISOString().replace(/[-:]/g, '')}`;
}

/** epoch ms of a snapshot name of `base`; undefined: not one of ours */
export function snapTime(base: string, name: string): number | undefined {
  if (!name.startsWith(`${base}@`)) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/.exec(name.slice(base.length + 1));
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
  return Number.isFinite(t) ? t : undefined;
}

/** our snapshots among directory entries, newest first */
export function ourSnapshots(base: string, entries: readonly string[]): string[] {
  return entries
    .map((n) => ({ n, t: snapTime(base, n) }))
    .filter((x): x is { n: string; t: number } => x.t !== undefined)
    .sort((a, b) => b.t - a.t || (a.n < b.n ? 1 : -1))
    .map((x) => x.n);
}

/**
 * The parent of an incremental send to `peer`: the newest snapshot both sides are known to
 * hold (the last one sent to it, or the last one received from it) that is still here.
 * undefined: a full send.
 */
export function chooseParent(base: string, rec: RsyncRecord, peer: string, local: readonly string[]): string | undefined {
  const cands = [rec.sent[peer]?.snap, rec.received?.from === peer ? rec.received.snap : undefined].filter((s): s is string => s !== undefined && local.includes(s));
  return ourSnapshots(base, cands)[0];
}

/** The snapshots to delete: all but the newest `keep` and those still a common parent with a peer. */
export function pruneList(base: string, local: readonly string[], keep: number, rec: RsyncRecord): string[] {
  const protect = new Set<string>([...Object.values(rec.sent).map((s) => s.snap), rec.received?.snap].filter((s): s is string => s !== undefined));
  return ourSnapshots(base, local).filter((n, i) => i >= Math.max(1, keep) && !protect.has(n));
}

/** The snapshot directory of a node: dst, else the parent directory of src. */
export function snapDir(src: string, dst: string | undefined): string {
  return dst || path.dirname(src.replace(/\/+$/, ''));
}

/** A peer's receive command, checked: exactly `btrfs receive <this node's snapshot dir>`. */
export function checkReceiveArgs(argv: readonly string[], dir: string): { ok: true; args: string[] } | { ok: false; error: string } {
  if (argv[0] !== 'btrfs' || argv[1] !== 'receive') return { ok: false, error: 'not a btrfs receive command' };
  if (argv.length !== 3) return { ok: false, error: 'btrfs receive: expected exactly one path, no option' };
  const norm = (p: string): string => path.resolve(p) + '/';
  if (norm(argv[2]!) !== norm(dir)) return { ok: false, error: `path ${argv[2]!.slice(0, 200)} is not this node's dst of the resource (${dir})` };
  return { ok: true, args: ['receive', path.resolve(dir)] };
}
