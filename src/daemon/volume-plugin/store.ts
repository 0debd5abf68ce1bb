// Volumes on a service's storage: one directory per volume under the service's volumes_dir,
// holding the data and a small metadata file (VOLUME_META). The directory is the truth: a
// volume exists where its directory with our metadata file is, so it moves with the service's
// data (shared fs, synced subvolume, network fs) on relocate and failover. Names are checked
// (protocol.ts) before they reach here; a path that is not a real directory (a symlink, a
// file) or lacks our metadata file is not a volume, and is never removed.
import fs from 'node:fs';
import path from 'node:path';
import { VOLUME_META, volumeNameProblem } from './protocol.js';

export interface VolumeMeta {
  name: string;
  service: string;
  /** ISO time of its creation */
  created: string;
}

const META_MAX = 4096;

export function volumePath(base: string, name: string): string {
  const bad = volumeNameProblem(name);
  if (bad) throw new Error(bad);
  return path.join(base, name);
}

/** The volume `name` under `base`, or undefined when there is none (or not ours). */
export function readVolume(base: string, name: string): VolumeMeta | undefined {
  const dir = volumePath(base, name);
  try {
    if (!fs.lstatSync(dir).isDirectory()) return undefined;
    const mf = path.join(dir, VOLUME_META);
    const st = fs.lstatSync(mf);
    if (!st.isFile() || st.size > META_MAX) return undefined;
    const m = JSON.parse(fs.readFileSync(mf, 'utf8')) as Partial<VolumeMeta>;
    if (m.name !== name || typeof m.service !== 'string') return undefined;
    return { name, service: m.service, created: typeof m.created === 'string' ? m.created : '' };
  } catch {
    return undefined;
  }
}

/** Create the volume directory and its metadata (base created if missing). Throws on I/O errors. */
export function createVolume(base: string, name: string, service: string, now = new Date()): VolumeMeta {
  const dir = volumePath(base, name);
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  fs.mkdirSync(dir, { mode: 0o755 });
  const meta: VolumeMeta = { name, service, created: now.toISOString() };
  const tmp = path.join(dir, `${VOLUME_META}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(meta) + '\n', { mode: 0o644 });
  fs.renameSync(tmp, path.join(dir, VOLUME_META));
  return meta;
}

/** Remove the volume and its data. Only a directory holding our metadata is removed. */
export function removeVolume(base: string, name: string): boolean {
  if (!readVolume(base, name)) return false;
  fs.rmSync(volumePath(base, name), { recursive: true, force: true });
  return true;
}

/** Every volume under `base`, by name order; a missing base has none. */
export function listVolumes(base: string): VolumeMeta[] {
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch {
    return [];
  }
  return names.filter((n) => volumeNameProblem(n) === undefined).sort().flatMap((n) => {
    const v = readVolume(base, n);
    return v ? [v] : [];
  });
}
