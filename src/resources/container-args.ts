// The container keywords that become `run` options (netns, volume_mounts, environment,
// entrypoint, hostname, privileged, interactive, tty, rm, devices, user): their value checks,
// shared by the keyword table (file:line errors) and the driver (refused at start), and the
// options they give. Pure functions: the argv is built here, the engine is run elsewhere.
import { shlexSplit } from '../util/shlex.js';
import type { KeywordValue } from '../vocab/keywords.js';
import { volumeNameProblem } from '../util/volume-name.js';

/** what the engines accept as a container name */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MOUNT_OPTION = /^[a-zA-Z0-9_,=-]+$/;
const DEVICE_PERMS = /^[rwm]{1,3}$/;
// user[:group], names or ids
const USER_PART = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$/;
const HOST_LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
// every value is one argv word: keep them far from ARG_MAX
const MAX_WORD = 4096;
const MAX_WORDS = 256;

/** Where the container's network namespace comes from. */
export type NetnsSpec =
  | { kind: 'mode'; mode: 'host' | 'none' | 'bridge' }
  /** another container resource of this service, by rid: resolved to its running container at start */
  | { kind: 'rid'; rid: string }
  | { kind: 'container'; name: string }
  /** a named network namespace, e.g. /var/run/netns/blue (podman only) */
  | { kind: 'path'; path: string };

export function parseNetns(v: string): NetnsSpec | { error: string } {
  const s = v.trim();
  if (s === 'host' || s === 'none' || s === 'bridge') return { kind: 'mode', mode: s };
  if (/^container#[A-Za-z0-9_.-]+$/.test(s)) return { kind: 'rid', rid: s };
  if (s.startsWith('container:')) {
    const name = s.slice('container:'.length);
    return NAME_RE.test(name) ? { kind: 'container', name } : { error: `container:<name> takes a container name (letters, digits, _ . -)` };
  }
  if (s.startsWith('/')) {
    return /^\/[^\s,:]*$/.test(s) && !s.split('/').includes('..') ? { kind: 'path', path: s } : { error: `a netns path has no spaces, commas, colons or ".."` };
  }
  return { error: `expected host, none, bridge, container#<index>, container:<name> or a netns path like /var/run/netns/<name>` };
}

function words(v: KeywordValue): string[] | string {
  if (Array.isArray(v)) return v;
  try {
    return shlexSplit(String(v));
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** check every word of a shlex list value with `one` */
function eachWord(one: (w: string) => string | undefined): (v: KeywordValue) => string | undefined {
  return (v) => {
    const list = words(v);
    if (typeof list === 'string') return list;
    if (list.length > MAX_WORDS) return `${list.length} entries, more than ${MAX_WORDS}`;
    for (const w of list) {
      if (w.length > MAX_WORD) return `an entry of ${w.length} characters, more than ${MAX_WORD}`;
      const p = one(w);
      if (p !== undefined) return p;
    }
    return undefined;
  };
}

export const checkNetns = (v: KeywordValue): string | undefined => {
  const r = parseNetns(String(v));
  return 'error' in r ? r.error : undefined;
};

export const checkEnvironment = eachWord((w) => {
  const eq = w.indexOf('=');
  const key = eq < 0 ? w : w.slice(0, eq);
  if (eq < 0) return `"${w}": expected KEY=value`;
  return ENV_KEY.test(key) ? undefined : `"${key}": an environment variable name is letters, digits and _, not starting with a digit`;
});

/** src:dst[:options], src an absolute host path or a volume name ([DEFAULT] volumes), dst an absolute path */
export const checkVolumeMount = eachWord((w) => {
  const parts = w.split(':');
  if (parts.length < 2 || parts.length > 3) return `"${w}": expected <host path or volume>:<container path>[:options]`;
  const [src = '', dst = '', opts] = parts;
  if (!src.startsWith('/')) {
    if (src === '' || src.startsWith('.')) return `"${w}": the source is an absolute path or a volume name`;
    const bad = volumeNameProblem(src);
    if (bad !== undefined) return `"${w}": ${bad}`;
  }
  if (!dst.startsWith('/')) return `"${w}": the container path must be absolute`;
  if (opts !== undefined && !MOUNT_OPTION.test(opts)) return `"${w}": bad mount options "${opts}"`;
  return undefined;
});

/** /dev/host[:/dev/container[:rwm]] */
export const checkDevice = eachWord((w) => {
  const parts = w.split(':');
  if (parts.length > 3) return `"${w}": expected <host device>[:<container device>][:<permissions rwm>]`;
  const [host = '', second, third] = parts;
  if (!host.startsWith('/dev/')) return `"${w}": the host device is a path under /dev/`;
  if (third !== undefined) {
    if (!second?.startsWith('/')) return `"${w}": the container device must be an absolute path`;
    if (!DEVICE_PERMS.test(third)) return `"${w}": permissions are some of r, w, m`;
  } else if (second !== undefined && !second.startsWith('/') && !DEVICE_PERMS.test(second)) {
    return `"${w}": the container device must be an absolute path (or permissions rwm)`;
  }
  return undefined;
});

export const checkEntrypoint = (v: KeywordValue): string | undefined => {
  const list = words(v);
  if (typeof list === 'string') return list;
  if (list.length > MAX_WORDS) return `${list.length} words, more than ${MAX_WORDS}`;
  return list.some((w) => w.length > MAX_WORD) ? `a word longer than ${MAX_WORD} characters` : undefined;
};

export const checkHostname = (v: KeywordValue): string | undefined => {
  const s = String(v);
  if (s.length === 0) return undefined;
  if (s.length > 253 || !s.split('.').every((l) => HOST_LABEL.test(l))) return `a host name is dot-separated labels of letters, digits and - (at most 63 each)`;
  return undefined;
};

export const checkUser = (v: KeywordValue): string | undefined => {
  const s = String(v);
  if (s.length === 0) return undefined;
  const parts = s.split(':');
  if (parts.length > 2 || !parts.every((p) => USER_PART.test(p) && p.length <= 256)) return `expected user[:group], names or numeric ids`;
  return undefined;
};

/** The keyword values that become run options, as the driver read them. */
export interface RunOptions {
  /** network option, already resolved (container#N became container:<id>) */
  network?: string;
  volumeMounts: string[];
  environment: string[];
  /** first word of `entrypoint`; its other words go before run_command */
  entrypoint?: string;
  entrypointArgs: string[];
  hostname?: string;
  privileged: boolean;
  interactive: boolean;
  tty: boolean;
  rm: boolean;
  devices: string[];
  user?: string;
}

/** netns as the engine option value; a rid must have been resolved to a container id first */
export function networkOption(cli: 'docker' | 'podman', spec: NetnsSpec, resolvedId?: string): string | { error: string } {
  switch (spec.kind) {
    case 'mode':
      return spec.mode;
    case 'container':
      return `container:${spec.name}`;
    case 'rid':
      return resolvedId !== undefined ? `container:${resolvedId}` : { error: `netns ${spec.rid}: not resolved` };
    case 'path':
      // docker has no way to join a namespace by path
      return cli === 'podman' ? `ns:${spec.path}` : { error: `netns ${spec.path}: docker cannot join a network namespace by path (podman can; or use container#<index>)` };
  }
}

/** The `run` options, each one argv word (`--opt=value`), so no value can read as an option. */
export function runOptionArgs(o: RunOptions): string[] {
  const out: string[] = [];
  if (o.network !== undefined) out.push(`--network=${o.network}`);
  for (const v of o.volumeMounts) out.push(`--volume=${v}`);
  for (const e of o.environment) out.push(`--env=${e}`);
  if (o.entrypoint !== undefined) out.push(`--entrypoint=${o.entrypoint}`);
  if (o.hostname !== undefined) out.push(`--hostname=${o.hostname}`);
  if (o.privileged) out.push('--privileged');
  if (o.interactive) out.push('--interactive');
  if (o.tty) out.push('--tty');
  if (o.rm) out.push('--rm');
  for (const d of o.devices) out.push(`--device=${d}`);
  if (o.user !== undefined) out.push(`--user=${o.user}`);
  return out;
}
