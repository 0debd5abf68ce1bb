// LVM command plumbing for the vg driver: reads (JSON reports) and vgchange, made to work
// where udev does not run (containers, lab namespaces, initramfs-like VMs). Without udev,
// libdevmapper would wait forever for udev to confirm device nodes (udev_sync) and expect
// udev rules to create /dev/mapper and /dev/<vg>/<lv> nodes; we tell it to do both itself.
// LVM_SYSTEM_DIR, when set in our environment, is inherited by every lvm command, so a lab
// node's own lvm.conf (device filter) applies.
// The VG name is always the last word, after `--`: a name such as "-a" or "--all" must reach
// LVM as a (refused) VG name, not as an option (`vgchange -an --all` deactivates every VG).
import fs from 'node:fs';
import type { Logger } from '../log.js';
import { run } from '../util/exec.js';

const LVM_TIMEOUT = 120_000;

/** Is a udev daemon serving this system? Its control socket is the usual marker. */
function udevRunning(): boolean {
  return fs.existsSync('/run/udev/control');
}

function configArgs(): string[] {
  if (udevRunning()) return [];
  return ['--config', 'activation { udev_sync = 0 udev_rules = 0 } devices { obtain_device_list_from_udev = 0 }'];
}

// lvm warns on stderr about every inherited file descriptor; that noise would hide errors
const env = { LVM_SUPPRESS_FD_WARNINGS: '1' };

/** LVM tags allow [A-Za-z0-9_+.-] and may not begin with '-': map anything else to '_'. */
export function hostTag(nodename: string): string {
  return nodename.replace(/[^A-Za-z0-9_+.-]/g, '_').replace(/^-/, '_');
}

export interface LogicalVolume {
  name: string;
  /** lv_attr, e.g. "-wi-a-----": the 5th character is the state, 'a' when active */
  attr: string;
}

export interface VolumeGroup {
  name: string;
  tags: string[];
  lvs: LogicalVolume[];
}

export function lvActive(lv: LogicalVolume): boolean {
  return lv.attr.charAt(4) === 'a';
}

interface Report<K extends string, R> {
  report: Record<K, R[]>[];
}

/** The VG, its tags and LVs; undefined when LVM does not see it. Throws when lvm itself fails. */
export async function readVg(vgname: string, log: Logger): Promise<VolumeGroup | undefined> {
  const vgs = await run('vgs', [...configArgs(), '--reportformat', 'json', '-o', 'vg_name,vg_tags', '--', vgname], { env, timeout: LVM_TIMEOUT, log });
  if (!vgs.ok) {
    if (/not found/.test(vgs.stderr)) return undefined;
    throw new Error(`vgs ${vgname}: ${lastLine(vgs.stderr) || `exit ${vgs.exitCode}`}`);
  }
  const vgRow = (JSON.parse(vgs.stdout) as Report<'vg', { vg_name: string; vg_tags: string }>).report[0]?.vg[0];
  if (!vgRow) return undefined;
  const lvs = await run('lvs', [...configArgs(), '--reportformat', 'json', '-o', 'lv_name,lv_attr', '--', vgname], { env, timeout: LVM_TIMEOUT, log });
  if (!lvs.ok) throw new Error(`lvs ${vgname}: ${lastLine(lvs.stderr) || `exit ${lvs.exitCode}`}`);
  const lvRows = (JSON.parse(lvs.stdout) as Report<'lv', { lv_name: string; lv_attr: string }>).report[0]?.lv ?? [];
  return {
    name: vgRow.vg_name,
    tags: vgRow.vg_tags.split(',').filter((t) => t.length > 0),
    lvs: lvRows.map((r) => ({ name: r.lv_name, attr: r.lv_attr })),
  };
}

/**
 * The disks of a VG as this node's LVM sees them: its PVs' device paths (`vgs -o pv_name`),
 * deduplicated, in LVM's order. Throws when LVM fails or does not see the VG.
 */
export async function vgDisks(vgname: string, log: Logger): Promise<string[]> {
  const r = await run('vgs', [...configArgs(), '--reportformat', 'json', '-o', 'pv_name', '--', vgname], { env, timeout: LVM_TIMEOUT, log });
  if (!r.ok) throw new Error(`vgs -o pv_name ${vgname}: ${lastLine(r.stderr) || `exit ${r.exitCode}`}`);
  const rows = (JSON.parse(r.stdout) as Report<'vg', { pv_name: string }>).report[0]?.vg ?? [];
  const disks = [...new Set(rows.map((row) => row.pv_name).filter((p) => p.length > 0 && p !== '[unknown]'))];
  if (disks.length === 0) throw new Error(`volume group ${vgname}: LVM lists no physical volume`);
  return disks;
}

/** vgchange's arguments: options, then `--` and the one VG it acts on. */
export function vgchangeArgv(options: readonly string[], vgname: string): string[] {
  return [...options, '--', vgname];
}

/** vgchange `options` on `vgname` with our udev-less configuration; throws a one-line error on failure. */
export async function vgchange(options: readonly string[], vgname: string, log: Logger): Promise<void> {
  const args = vgchangeArgv(options, vgname);
  const r = await run('vgchange', [...configArgs(), ...args], { env, timeout: LVM_TIMEOUT, log });
  if (!r.ok) {
    throw new Error(`vgchange ${args.join(' ')}: ${firstError(r.stderr) || `exit ${r.exitCode}`}`);
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

/** The most telling line of an lvm failure: the first one that is not a warning. */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return lines.find((l) => !/^WARNING/i.test(l)) ?? lines[0] ?? '';
}
