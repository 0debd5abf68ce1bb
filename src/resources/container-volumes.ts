// The service's declared volumes ([DEFAULT] volumes) in a container's volume_mounts: which
// entries name one, the rules across keywords (validation, at the volume_mounts line), and
// making sure the engine has the volume, served by the node's volume plugin ([cluster]
// volume_plugin), before the container runs. The volume itself lives in the service's
// volumes_dir (src/daemon/volume-plugin); the engine only learns of it through the plugin.
import type { Logger } from '../log.js';
import { volumePluginFile, type FerryPaths } from '../paths.js';
import fs from 'node:fs';
import { volumeNameProblem } from '../util/volume-name.js';
import { engine, engineErrorLine, unreachableMessage, type EngineTarget } from './container-engine.js';

const VOLUME_CMD_TIMEOUT = 60_000;

/** src:dst[:options] split; undefined when not of that shape */
export function splitMount(w: string): { src: string; dst: string; opts: string | undefined } | undefined {
  const parts = w.split(':');
  if (parts.length < 2 || parts.length > 3) return undefined;
  return { src: parts[0] ?? '', dst: parts[1] ?? '', opts: parts[2] };
}

/** the volume names a volume_mounts list mounts (sources that are not host paths), each once */
export function mountedVolumes(mounts: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of mounts) {
    const m = splitMount(w);
    if (m && !m.src.startsWith('/') && !out.includes(m.src)) out.push(m.src);
  }
  return out;
}

/** Why a volume_mounts list does not fit the service's declared volumes, one line each. */
export function undeclaredVolumeProblems(mounts: readonly string[], declared: readonly string[], volumesDir: string): string[] {
  const out: string[] = [];
  for (const name of mountedVolumes(mounts)) {
    if (volumeNameProblem(name) !== undefined) continue; // reported by the keyword's own check
    if (!declared.includes(name)) out.push(`volume_mounts: volume "${name}" is not declared in [DEFAULT] volumes (declared: ${declared.length ? declared.join(' ') : 'none'}); a host directory is an absolute path`);
    else if (volumesDir === '') out.push(`volume_mounts: volume "${name}" needs the service's volumes_dir ([DEFAULT] volumes_dir)`);
  }
  return out;
}

export function volumeInspectArgs(name: string): string[] {
  return ['volume', 'inspect', '--format', '{{.Driver}}', '--', name];
}

export function volumeCreateArgs(plugin: string, svcname: string, name: string): string[] {
  return ['volume', 'create', '--driver', plugin, '--opt', `service=${svcname}`, '--', name];
}

const NO_SUCH_VOLUME = /no such volume/i;

/**
 * The engine's volume `name` is served by `plugin`: created through it when the engine has no
 * such volume (the plugin makes the directory in the service's volumes_dir, where the service
 * runs); a volume of the same name with another driver is refused, never replaced.
 */
export async function ensureVolume(target: EngineTarget, plugin: string, svcname: string, name: string, log: Logger): Promise<'present' | 'created'> {
  const r = await engine(target, volumeInspectArgs(name), VOLUME_CMD_TIMEOUT, log);
  if (r.ok) {
    const driver = r.stdout.trim();
    if (driver !== plugin) throw new Error(`volume ${name}: the ${target.cli} engine has it with driver "${driver}", not the volume plugin "${plugin}" (remove it, or rename the volume)`);
    return 'present';
  }
  if (!NO_SUCH_VOLUME.test(`${r.stderr}\n${r.stdout}`)) throw new Error(unreachableMessage(target, r) ?? `volume ${name}: ${target.cli} volume inspect failed: ${engineErrorLine(r)}`);
  const c = await engine(target, volumeCreateArgs(plugin, svcname, name), VOLUME_CMD_TIMEOUT, log);
  if (!c.ok) throw new Error(unreachableMessage(target, c) ?? `volume ${name}: ${target.cli} volume create --driver ${plugin} failed: ${engineErrorLine(c)}`);
  return 'created';
}

/** the volume plugin this node's daemon serves ([cluster] volume_plugin; the daemon writes its name while it listens), or why there is none */
export function nodeVolumePlugin(paths: FerryPaths, nodename: string): string | { error: string } {
  let name = '';
  try {
    name = fs.readFileSync(volumePluginFile(paths), 'utf8').slice(0, 256).trim();
  } catch {
    // absent: no plugin listening here
  }
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) ? name : { error: `no volume plugin on ${nodename} (the daemon is not running or [cluster] volume_plugin is not set)` };
}
