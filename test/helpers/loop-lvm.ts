// A throw-away LVM volume group on loop devices, plus the few raw LVM reads and writes the
// vg tests check the driver against.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { createLoop } from './loop-dev.js';
import type { LoopDev } from './loop-dev.js';

const env = { LVM_SUPPRESS_FD_WARNINGS: '1' };

export async function lvm(cmd: string, args: string[]): Promise<string> {
  const r = await execa(cmd, args, { env, reject: false, stdin: 'ignore', timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.exitCode}: ${String(r.stderr).trim()}`);
  return String(r.stdout);
}

export interface LoopVg {
  name: string;
  loops: LoopDev[];
  cleanup(): Promise<void>;
}

/** A VG named `name` over `count` fresh loop devices. */
export async function createLoopVg(name: string, count = 2): Promise<LoopVg> {
  const loops: LoopDev[] = [];
  const cleanup = async (): Promise<void> => {
    await lvm('vgremove', ['-f', name]).catch(() => undefined);
    for (const l of loops) {
      await lvm('pvremove', ['-ff', '-y', l.dev]).catch(() => undefined);
      await l.detach();
    }
  };
  try {
    for (let i = 0; i < count; i++) loops.push(await createLoop(`${name}-${i}`, 32));
    await lvm('pvcreate', ['-q', ...loops.map((l) => l.dev)]);
    await lvm('vgcreate', ['-q', name, ...loops.map((l) => l.dev)]);
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { name, loops, cleanup };
}

export async function vgTags(name: string): Promise<string[]> {
  const out = await lvm('vgs', ['--noheadings', '-o', 'vg_tags', name]);
  return out.trim().split(',').filter((t) => t.length > 0).sort();
}

/**
 * Add a logical volume to the VG's metadata without creating its device: there is no
 * device-mapper in the test kernel, so lvcreate refuses; a metadata restore does not care.
 */
export async function addLvToMetadata(vg: string, lv: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fy-vgcfg-'));
  try {
    const file = path.join(dir, 'vg.cfg');
    await lvm('vgcfgbackup', ['-f', file, vg]);
    const text = fs.readFileSync(file, 'utf8');
    const section = `
\tlogical_volumes {
\t\t${lv} {
\t\t\tid = "fyfyfy-0000-1111-2222-3333-4444-555555"
\t\t\tstatus = ["READ", "WRITE", "VISIBLE"]
\t\t\tflags = []
\t\t\tsegment_count = 1
\t\t\tsegment1 {
\t\t\t\tstart_extent = 0
\t\t\t\textent_count = 1
\t\t\t\ttype = "striped"
\t\t\t\tstripe_count = 1
\t\t\t\tstripes = [
\t\t\t\t\t"pv0", 0
\t\t\t\t]
\t\t\t}
\t\t}
\t}
`;
    const end = text.trimEnd().lastIndexOf('}');
    fs.writeFileSync(file, `${text.slice(0, end)}${section}}\n`);
    await lvm('vgcfgrestore', ['-f', file, vg]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
