// Processes of a node: starting them inside its namespaces, signalling them, and killing
// every one of them. "Every one" is decided from /proc (network namespace, mount namespace,
// environment mark), not from a list we kept, so processes an agent forked are caught too.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, nodePids, startTime, type NodeMatch } from './procfs.js';
import { nsenterArgv } from './namespaces.js';

export interface Spawned {
  pid: number;
  start: number;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** stdout and stderr go there (appended); default discarded */
  logFile?: string;
  /** working directory of the process; default / */
  cwd?: string;
}

/**
 * Start a long-running process inside a node. It is detached (own session, not our child
 * for signal purposes) so a test runner's death does not take it along: the lab's teardown
 * or `ferry-lab cleanup` does, by namespace.
 */
export function spawnIn(initPid: number, cmd: string, args: readonly string[], opts: SpawnOptions): Spawned {
  let out: number | 'ignore' = 'ignore';
  if (opts.logFile) {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    out = fs.openSync(opts.logFile, 'a');
  }
  try {
    const child = spawn('nsenter', [...nsenterArgv(initPid, opts.cwd ?? '/'), cmd, ...args], {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, ...opts.env },
    });
    child.on('error', () => undefined);
    child.unref();
    // nsenter (no pid namespace) execs the command in place: this pid is the command's
    if (child.pid === undefined) throw new Error(`cannot start ${cmd} in the node`);
    return { pid: child.pid, start: startTime(child.pid) ?? 0 };
  } finally {
    if (typeof out === 'number') fs.closeSync(out);
  }
}

export function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until pid is gone (or a zombie); true if it went within timeoutMs. */
export async function waitGone(pid: number, start: number | null, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid, start)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * SIGKILL every process of a node until none is left (a process may fork while we scan).
 * Returns the pids still alive after timeoutMs (normally none: D-state stragglers only).
 */
export async function killAll(m: NodeMatch, timeoutMs = 5_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = nodePids(m);
    if (pids.length === 0) return [];
    if (Date.now() > deadline) return pids;
    signal(pids, 'SIGKILL');
    await sleep(30);
  }
}

/** Send sig to every current process of a node; for SIGSTOP, repeat until nothing new appears. */
export async function signalAll(m: NodeMatch, sig: NodeJS.Signals): Promise<number[]> {
  const done = new Set<number>();
  for (let round = 0; round < 5; round++) {
    const fresh = nodePids(m).filter((p) => !done.has(p));
    if (fresh.length === 0) break;
    signal(fresh, sig);
    for (const p of fresh) done.add(p);
    await sleep(10);
  }
  return [...done];
}
