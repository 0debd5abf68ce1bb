// The generation of a service configuration file, the unit of its replication between the
// nodes of the service (docs/config-replication.md): when it last changed (`updated`, epoch
// ms), what its bytes are (`sum`, SHA-256), and what it was derived from (`hist`, the short
// sums of its ancestors). A deletion is a generation too (a tombstone), so a node that comes
// back with the old file does not resurrect the service.
//
// The rule, pure and total: of two generations the one with the greater `updated` wins, a
// tie is broken by the greater `sum` (plain string order). A new local generation is stamped
// later than its parent (`nextGen`), so a change derived from another always wins over it;
// two changes neither of which derives from the other are a conflict (logged and shown), and
// the same rule picks the survivor on every node, so every node converges to one file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FerryPaths } from '../paths.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/** `sum` of a deletion (no bytes) */
export const DELETED_SUM = 'deleted';
/** ancestors kept: a chain of edits longer than this on one side of a partition reads as a conflict (still resolved by the rule) */
export const HISTORY_MAX = 8;
/** hex characters of an ancestor's sum in `hist` */
export const SHORT_SUM = 16;
/** a generation record is a few hundred bytes: anything larger is not ours */
const RECORD_MAX = 16 * 1024;

export interface ConfigGen {
  /** epoch ms of the change; greater than every ancestor's */
  updated: number;
  /** SHA-256 of the file's bytes, hex; DELETED_SUM for a deletion */
  sum: string;
  /** short sums (SHORT_SUM hex) of the ancestors, newest first, at most HISTORY_MAX */
  hist: string[];
  deleted?: true;
}

export const configSum = (bytes: string | Uint8Array): string => crypto.createHash('sha256').update(bytes).digest('hex');
export const shortSum = (sum: string): string => sum.slice(0, SHORT_SUM);

/** Does `a` win over `b` by the rule (newest updated, then greatest sum)? */
export function newer(a: Pick<ConfigGen, 'updated' | 'sum'>, b: Pick<ConfigGen, 'updated' | 'sum'>): boolean {
  return a.updated !== b.updated ? a.updated > b.updated : a.sum > b.sum;
}

export type Relation = 'same' | 'behind' | 'ahead' | 'conflict';

/**
 * Where `local` stands against `remote`: the same bytes, behind (remote derives from local),
 * ahead (local derives from remote), or a conflict (both changed since their last common
 * generation: concurrent edits, or edits on both sides of a partition).
 */
export function relation(local: ConfigGen, remote: ConfigGen): Relation {
  if (local.sum === remote.sum) return 'same';
  if (remote.hist.includes(shortSum(local.sum))) return 'behind';
  if (local.hist.includes(shortSum(remote.sum))) return 'ahead';
  return 'conflict';
}

/** The generation of a local change to `sum` (DELETED_SUM: a deletion) made at `now` from `prev`. */
export function nextGen(prev: ConfigGen | undefined, sum: string, now: number): ConfigGen {
  const updated = prev ? Math.max(now, prev.updated + 1) : now;
  const hist = prev ? [shortSum(prev.sum), ...prev.hist.filter((h) => h !== shortSum(prev.sum))].slice(0, HISTORY_MAX) : [];
  return { updated, sum, hist, ...(sum === DELETED_SUM ? { deleted: true as const } : {}) };
}

export function isConfigGen(x: unknown): x is ConfigGen {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return (
    typeof o.updated === 'number' && Number.isSafeInteger(o.updated) && o.updated >= 0 &&
    typeof o.sum === 'string' && (o.sum === DELETED_SUM || /^[0-9a-f]{64}$/.test(o.sum)) &&
    Array.isArray(o.hist) && o.hist.length <= HISTORY_MAX && o.hist.every((h) => typeof h === 'string' && h.length <= 64) &&
    (o.deleted === undefined || o.deleted === true) && (o.deleted === true) === (o.sum === DELETED_SUM)
  );
}

/** Only the fields of a generation (a digest carries more). */
export const genOf = (g: ConfigGen): ConfigGen => ({ updated: g.updated, sum: g.sum, hist: [...g.hist], ...(g.deleted ? { deleted: true as const } : {}) });

export function generationFile(paths: FerryPaths, svcname: string): string {
  return path.join(paths.var, 'configs', `${svcname}.json`);
}

/** The recorded generation of a service's file here; undefined when none (or unreadable: then the file is judged afresh). */
export function readGen(paths: FerryPaths, svcname: string): ConfigGen | undefined {
  try {
    const file = generationFile(paths, svcname);
    if (fs.statSync(file).size > RECORD_MAX) return undefined;
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return isConfigGen(v) ? genOf(v) : undefined;
  } catch {
    return undefined;
  }
}

export function writeGen(paths: FerryPaths, svcname: string, gen: ConfigGen): void {
  const file = generationFile(paths, svcname);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(genOf(gen))}\n`);
}

/** Services with a recorded generation here (tombstones included). */
export function recordedServices(paths: FerryPaths): string[] {
  try {
    return fs.readdirSync(path.join(paths.var, 'configs')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  } catch {
    return [];
  }
}
