// One run of a fence agent (ClusterLabs protocol, Debian `fence-agents`): options as
// key=value lines on stdin, the exit code is the answer. Everything here is about a single
// invocation: which executable, what to write, how long to wait, what the exit code means.
// Sequencing (off, then confirm) lives in fencer.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { StonithConfig } from '../cluster/config.js';
import type { Logger } from '../log.js';
import { run } from '../util/exec.js';
import { AgentMetadataCache } from './metadata-cache.js';

export type FenceAction = 'off' | 'on' | 'reboot' | 'status' | 'monitor';

export interface FenceResult {
  /** the action did what it must: off/on/reboot/monitor exited 0; status got an answer (0 or 2) */
  ok: boolean;
  action: FenceAction;
  node: string;
  /** the agent as configured (name or path) */
  agent: string;
  exitCode: number | undefined;
  timedOut: boolean;
  /** status only: what the agent said about the node's power */
  power: 'on' | 'off' | undefined;
  /**
   * off only: the agent's own confirmation, its `Success: Powered OFF` / `Success: Already OFF`
   * line. fence-agents print it only after their own status polling saw the node off (they
   * exit EC_WAITING_OFF otherwise), so it is the same proof a separate `status` run gives.
   */
  offConfirmed?: boolean;
  ms: number;
  /** one line for operators and svcmon; secrets masked */
  message: string;
}

/**
 * Agents are looked up in these directories only, not on PATH: the daemon's PATH is whatever
 * started it, and the command that powers machines off must not be shadowed by a stray
 * executable (a node_modules/.bin, a user's ~/bin).
 */
export const AGENT_DIRS = ['/usr/sbin', '/usr/bin', '/sbin'];

const isExecutable = (p: string): boolean => {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

/** Absolute path of the agent, or an error line saying why there is none. */
export function resolveAgent(agent: string): { path: string } | { error: string } {
  if (agent.length === 0) return { error: 'no fence agent configured' };
  if (path.isAbsolute(agent)) return isExecutable(agent) ? { path: agent } : { error: `fence agent ${agent}: not an executable file` };
  if (agent.includes('/')) return { error: `fence agent ${agent}: give an absolute path or a bare name (looked up in ${AGENT_DIRS.join(' ')})` };
  for (const dir of AGENT_DIRS) {
    const p = path.join(dir, agent);
    if (isExecutable(p)) return { path: p };
  }
  return { error: `fence agent ${agent}: not found in ${AGENT_DIRS.join(' ')} (Debian: apt install fence-agents)` };
}

/** Parameter keys whose values never reach a log or a message (password, passwd, password_script...). */
export const isSecretKey = (key: string): boolean => /passw/i.test(key);

/** params with secret values replaced, for logs */
export function maskParams(params: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, isSecretKey(k) ? '****' : v]));
}

/** Replace every secret value occurring in text (an agent may echo its command line). */
export function maskSecrets(text: string, params: Record<string, string>): string {
  let out = text;
  for (const [k, v] of Object.entries(params)) if (isSecretKey(k) && v.length > 0) out = out.split(v).join('****');
  return out;
}

/**
 * The stdin of the agent. The target goes as `nodename=` (what Pacemaker sends) and, when the
 * params name no outlet themselves, as `plug=` too: agents that address a port (a PDU outlet,
 * a VM name) need one, and for most setups the node name is that port. An agent that has no
 * use for plug only warns about it (fence_dummy does).
 */
export function agentInput(cfg: StonithConfig, action: FenceAction | 'metadata'): string {
  const lines = [`action=${action}`];
  if (!('nodename' in cfg.params)) lines.push(`nodename=${cfg.node}`);
  if (!('plug' in cfg.params) && !('port' in cfg.params)) lines.push(`plug=${cfg.node}`);
  for (const [k, v] of Object.entries(cfg.params)) if (k !== 'action') lines.push(`${k}=${v}`);
  return `${lines.join('\n')}\n`;
}

// fence-agents log lines look like "2026-11-22 02:35:45,922 ERROR: Failed: ..." or
// "ERROR:root:Failed: ...": keep the part an operator reads
const cleanLine = (l: string): string =>
  l
    .replace(/^\d{4}-\d\d-\d\d[ T][\d:.,]+\s+/, '')
    .replace(/^(ERROR|WARNING|INFO|DEBUG):root:/, '$1: ')
    .trim();

/** The one line worth showing: on failure the agent's last error, else its last output line. */
export function summarize(stdout: string, stderr: string, failed: boolean): string {
  const lines = (s: string): string[] => s.split('\n').map(cleanLine).filter((l) => l.length > 0);
  const out = lines(stdout);
  const err = lines(stderr);
  if (failed) {
    // fence-agents warn "Parse error: Ignoring unknown option" for plug=: not the reason it failed
    const errors = err.filter((l) => /error|fail/i.test(l) && !/^WARNING/.test(l));
    return errors.at(-1) ?? err.at(-1) ?? out.at(-1) ?? '';
  }
  return out.at(-1) ?? err.filter((l) => !/^WARNING/.test(l)).at(-1) ?? '';
}

/** An off's stdout carries the agent's own confirmation that the node is off (fence-agents' library line). */
export function offConfirmedBy(stdout: string): boolean {
  return /^Success: (Powered|Already) OFF\s*$/m.test(stdout);
}

/** Run the agent once. Never throws: every failure (missing agent, timeout, exit code) is a FenceResult. */
export async function runFenceAgent(cfg: StonithConfig, action: FenceAction, log: Logger): Promise<FenceResult> {
  const base = { action, node: cfg.node, agent: cfg.agent, power: undefined };
  const fail = (message: string): FenceResult => ({ ...base, ok: false, exitCode: undefined, timedOut: false, ms: 0, message: maskSecrets(message, cfg.params) });
  const bad = Object.entries(cfg.params).find(([k, v]) => /[\n\r]/.test(k + v));
  // a newline inside a value would smuggle another option (action=on...) into the agent's stdin
  if (bad) return fail(`fence parameter ${bad[0]}: newlines are not allowed`);
  const resolved = resolveAgent(cfg.agent);
  if ('error' in resolved) {
    log.error({ target: cfg.node, agent: cfg.agent, action }, resolved.error);
    return fail(resolved.error);
  }
  log.info({ target: cfg.node, agent: resolved.path, action, params: maskParams(cfg.params), timeout: cfg.timeout }, 'fence agent run');
  const r = await run(resolved.path, [], { input: agentInput(cfg, action), timeout: cfg.timeout });
  const code = r.timedOut ? undefined : r.exitCode;
  let ok: boolean;
  let power: FenceResult['power'];
  if (action === 'status') {
    ok = code === 0 || code === 2;
    power = code === 0 ? 'on' : code === 2 ? 'off' : undefined;
  } else {
    ok = code === 0;
  }
  const said = summarize(r.stdout, r.stderr, !ok);
  const why = r.timedOut ? `timed out after ${cfg.timeout} ms` : code === undefined ? `killed by ${r.signal ?? 'a signal'}` : `exit ${code}`;
  const message = maskSecrets(ok ? said || `${action}: ok` : `${cfg.agent} ${action}: ${why}${said ? `: ${said}` : ''}`, cfg.params);
  const offConfirmed = action === 'off' && ok && offConfirmedBy(r.stdout);
  const result: FenceResult = { ...base, ok, exitCode: code, timedOut: r.timedOut, power, ms: r.durationMs, message, ...(offConfirmed ? { offConfirmed } : {}) };
  log[ok ? 'info' : 'error']({ target: cfg.node, agent: resolved.path, action, exit: code, timedOut: r.timedOut, power, ms: r.durationMs }, message);
  return result;
}

/** The daemon keeps the agents' metadata across restarts: `metadataCache.persistIn(file)`. */
export const metadataCache = new AgentMetadataCache();

/**
 * Actions the agent declares in its metadata (`<action name="status"/>`), or null when it
 * gives none (not every agent implements metadata). Cached per executable (path, size,
 * mtime): the answer is the same for every fence, and a Python agent costs ~100 ms to start.
 */
export async function agentActions(cfg: StonithConfig): Promise<Set<string> | null> {
  const resolved = resolveAgent(cfg.agent);
  if ('error' in resolved) return null;
  const key = AgentMetadataCache.keyOf(resolved.path);
  if (key === undefined) return null;
  if (metadataCache.has(key)) return metadataCache.get(key);
  const r = await run(resolved.path, [], { input: agentInput(cfg, 'metadata'), timeout: Math.min(cfg.timeout, 10_000) });
  const names = r.ok ? [...r.stdout.matchAll(/<action\s+name="([^"]+)"/g)].map((m) => m[1]!) : [];
  const set = names.length > 0 ? new Set(names) : null;
  // a timeout or crash says nothing about the agent: ask again next time
  if (r.ok || r.exitCode !== undefined) metadataCache.set(key, set);
  return set;
}
