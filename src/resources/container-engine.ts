// The container engine as seen through its CLI. Docker and Podman take the same verbs and flags
// for what we need (inspect, run -d, stop -t, rm -f, logs --tail), so one code path serves both;
// only the socket variable and the wording of their errors differ, and those live here.
import { run, type RunResult } from '../util/exec.js';
import type { Logger } from '../log.js';

export type EngineCli = 'docker' | 'podman';

export interface EngineTarget {
  cli: EngineCli;
  /** engine socket (docker_host keyword, or a service's private docker engine); undefined: the CLI's own default */
  host: string | undefined;
  /** options before the verb: a service's private podman storage (--root, --runroot, --tmpdir) */
  globalArgs?: readonly string[];
}

/** What the driver needs to know of one container. */
export interface ContainerState {
  id: string;
  name: string;
  /** image reference the engine reports for the container (Config.Image) */
  image: string;
  running: boolean;
  /** engine state word: created, running, exited, dead, paused... */
  state: string;
  exitCode: number;
  /** when the engine last started it (State.StartedAt, as the engine writes it): a restart changes it */
  startedAt: string;
  /** the node that started it (label ferry.node), when labelled */
  node?: string;
}

export type InspectResult =
  | { kind: 'found'; container: ContainerState }
  | { kind: 'absent' }
  | { kind: 'unreachable'; message: string };

/** The engine cannot be talked to: the status message, and the reason start/stop fail. */
export class EngineUnreachableError extends Error {
  override name = 'EngineUnreachableError';
}

/** Environment for the CLI: docker reads DOCKER_HOST, podman CONTAINER_HOST (which also turns
 *  podman into a remote client). Unset keyword: inherit whatever the node has. */
export function engineEnv(t: EngineTarget): Record<string, string> | undefined {
  if (t.host === undefined || t.host.length === 0) return undefined;
  return t.cli === 'docker' ? { DOCKER_HOST: t.host } : { CONTAINER_HOST: t.host };
}

export function engineKey(t: EngineTarget): string {
  return `${t.cli}\0${t.host ?? ''}\0${(t.globalArgs ?? []).join('\0')}`;
}

/** Run the engine CLI, bounded in time like every command we run. */
export function engine(t: EngineTarget, args: readonly string[], timeoutMs: number, log?: Logger): Promise<RunResult> {
  return run(t.cli, [...(t.globalArgs ?? []), ...args], { timeout: timeoutMs, env: engineEnv(t), log });
}

// Every configured value given to the CLI is an operand after `--` (both CLIs take it on every
// verb used here, `run` included), so a name or an image can never read as an option.

/** `rm -f` that kills at once, as docker's does: podman's would first wait the container's own
 *  stop timeout (10 s by default) — stop() has already been graceful when that mattered. */
export function forceRemoveArgs(t: EngineTarget, name: string): string[] {
  return t.cli === 'podman' ? ['rm', '-f', '-t', '0', '--', name] : ['rm', '-f', '--', name];
}

export function stopArgs(name: string, graceSeconds: number): string[] {
  return ['stop', '-t', String(graceSeconds), '--', name];
}

export function inspectArgs(names: readonly string[]): string[] {
  return ['inspect', '--type', 'container', '--', ...names];
}

export function logsArgs(name: string, count: number): string[] {
  return ['logs', '--tail', String(count), '--', name];
}

/** `run -d`: ferry's options, then the configured ones, then `--`, the image and the command.
 *  A configured option list ending with an option that takes a value takes the `--` as that
 *  value, never the image; one holding a bare `--` is refused earlier (readSettings). */
export function runArgs(own: readonly string[], configured: readonly string[], image: string, command: readonly string[]): string[] {
  return ['run', '-d', ...own, ...configured, '--', image, ...command];
}

// CLI chatter that is never the reason of a failure.
const NOISE = [/^See '.*--help'\.?$/, /^Run '.*--help' for more information$/, /^Unable to find image .* locally$/];

/** The one line of an engine failure worth showing: the last meaningful stderr line (where both
 *  CLIs put the reason), without the "docker: " / "Error: " prefixes the CLIs add. */
export function engineErrorLine(r: RunResult): string {
  // the CLI and its verb, past the global options of a private podman storage
  const words = r.command.split(' ');
  const verb = [words[0], words.slice(1).find((w) => !w.startsWith('-')) ?? ''].join(' ').trim();
  if (r.timedOut) return `${verb} timed out after ${Math.round(r.durationMs / 1000)}s`;
  const line = meaningful(r.stderr).at(-1) ?? meaningful(r.stdout).at(-1) ?? '';
  const clean = line.replace(/^(docker|podman): /, '').replace(/^Error: /, '');
  return clean.length > 0 ? clean : `${verb}: exit ${r.exitCode ?? r.signal ?? '?'}`;
}

function meaningful(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !NOISE.some((re) => re.test(l)));
}

/** Is this failure "cannot talk to the engine" rather than an answer from it? Returns the
 *  status message if so. The docker wording is the OpenSVC one (seed 003). */
export function unreachableMessage(t: EngineTarget, r: RunResult): string | undefined {
  if (r.ok) return undefined;
  if (r.exitCode === undefined && r.stderr === `${t.cli}: command not found`) return `${t.cli} is not installed`;
  const text = `${r.stderr}\n${r.stdout}`;
  if (t.cli === 'docker') {
    if (/Cannot connect to the Docker daemon|Is the docker daemon running|error during connect/i.test(text)) {
      return 'docker daemon is not running';
    }
  } else if (/Cannot connect to Podman|unable to connect to Podman/i.test(text)) {
    return engineErrorLine(r);
  }
  if (r.timedOut) return engineErrorLine(r);
  return undefined;
}

// Both CLIs report each missing name on its own stderr line and still print the others.
const NO_SUCH = /no such (container|object)/i;

/** Inspect several containers with one command. Names missing from the engine are absent; any
 *  other complaint means the engine could not answer, for every name. */
export async function inspectMany(
  t: EngineTarget,
  names: readonly string[],
  timeoutMs: number,
  log?: Logger,
): Promise<Map<string, InspectResult>> {
  const out = new Map<string, InspectResult>();
  const all = (res: InspectResult) => {
    for (const n of names) out.set(n, res);
    return out;
  };
  if (names.length === 0) return out;
  const r = await engine(t, inspectArgs(names), timeoutMs, log);
  const down = unreachableMessage(t, r);
  if (down !== undefined) return all({ kind: 'unreachable', message: down });
  const complaints = r.stderr.split('\n').filter((l) => l.trim().length > 0 && !NO_SUCH.test(l));
  if (!r.ok && (complaints.length > 0 || r.exitCode === undefined)) {
    return all({ kind: 'unreachable', message: engineErrorLine(r) });
  }
  let parsed: unknown;
  try {
    parsed = r.stdout.trim().length === 0 ? [] : JSON.parse(r.stdout);
  } catch {
    return all({ kind: 'unreachable', message: `${t.cli} inspect: unreadable output` });
  }
  const byName = new Map<string, ContainerState>();
  for (const c of Array.isArray(parsed) ? parsed : []) {
    const s = toState(c);
    if (s) byName.set(s.name, s);
  }
  for (const n of names) {
    const c = byName.get(n);
    // a name can also match an id prefix: only an exact name counts as our container
    out.set(n, c ? { kind: 'found', container: c } : { kind: 'absent' });
  }
  return out;
}

function toState(raw: unknown): ContainerState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Record<string, unknown>;
  const cfg = (o.Config ?? {}) as Record<string, unknown>;
  const st = (o.State ?? {}) as Record<string, unknown>;
  const labels = (typeof cfg.Labels === 'object' && cfg.Labels !== null ? cfg.Labels : {}) as Record<string, unknown>;
  if (typeof o.Id !== 'string' || typeof o.Name !== 'string') return undefined;
  return {
    id: o.Id,
    // docker reports "/name", podman "name"
    name: o.Name.replace(/^\//, ''),
    image: typeof cfg.Image === 'string' ? cfg.Image : typeof o.ImageName === 'string' ? o.ImageName : '',
    running: st.Running === true,
    state: typeof st.Status === 'string' ? st.Status : st.Running === true ? 'running' : 'unknown',
    exitCode: typeof st.ExitCode === 'number' ? st.ExitCode : 0,
    startedAt: typeof st.StartedAt === 'string' ? st.StartedAt : '',
    ...(typeof labels['ferry.node'] === 'string' && labels['ferry.node'] !== '' ? { node: labels['ferry.node'] } : {}),
  };
}

/** Last lines the container wrote (stdout and stderr, at most `count`, each cut to 200
 *  characters): the reason a container died at birth. */
export async function lastLogLines(t: EngineTarget, name: string, count: number, log?: Logger): Promise<string[]> {
  const r = await engine(t, logsArgs(name, count), 10_000, log);
  if (!r.ok) return [];
  const text = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return text.slice(-count).map((l) => (l.length > 200 ? `${l.slice(0, 200)}…` : l));
}
