// The lab registry: one JSON file per lab under /run/ferry-lab. It is written before any host
// object exists and after each change, so a crash at any point leaves enough behind for
// `ferry-lab cleanup` to find and remove every namespace, loop device, process and directory.
import fs from 'node:fs';
import path from 'node:path';
import type { LabRecord } from './types.js';
import { isAlive } from './procfs.js';

export const registryDir = process.env.FERRY_LAB_REGISTRY ?? '/run/ferry-lab';

export function recordPath(id: string): string {
  return path.join(registryDir, `${id}.json`);
}

/**
 * The nodes' power facts, one line per node (`name state initPid initStart`, `-` for none),
 * beside the record: the lab fence agent's shell fast path (scripts/fence_ferry_lab) answers
 * `status` and an `off` of a node already off from it without starting Node.
 */
export function powerPath(id: string): string {
  return path.join(registryDir, `${id}.power`);
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Atomic writes (tmp + rename): a reader never sees half a record. The power facts first: they are what a fence reads. */
export function saveRecord(rec: LabRecord): void {
  fs.mkdirSync(registryDir, { recursive: true });
  writeAtomic(powerPath(rec.id), rec.nodes.map((n) => `${n.name} ${n.state} ${n.initPid ?? '-'} ${n.initStart ?? '-'}\n`).join(''));
  writeAtomic(recordPath(rec.id), `${JSON.stringify(rec, null, 2)}\n`);
}

export function loadRecord(id: string): LabRecord | null {
  try {
    const rec = JSON.parse(fs.readFileSync(recordPath(id), 'utf8')) as LabRecord;
    return rec.version === 1 && rec.id === id ? rec : null;
  } catch {
    return null;
  }
}

export function removeRecord(id: string): void {
  fs.rmSync(recordPath(id), { force: true });
  fs.rmSync(powerPath(id), { force: true });
}

export function listRecords(): LabRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(registryDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => loadRecord(n.slice(0, -'.json'.length)))
    .filter((r): r is LabRecord => r !== null);
}

/** A lab whose owning process is gone (or that never had one) is fair game for cleanup. */
export function isOrphan(rec: LabRecord): boolean {
  return rec.owner === null || !isAlive(rec.owner.pid, rec.owner.start);
}
